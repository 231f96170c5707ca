/**
 * TagSource over MQTT Sparkplug B (as published by MQTT Transmission or any Sparkplug edge node):
 * subscribes to spBv1.0/<group>/+/<edge>/#, resolves metric aliases from BIRTH, tracks seq and
 * asks for a rebirth (NCMD Node Control/Rebirth) on a gap or an unknown alias, and reports every
 * metric of a dead node or device with bad quality (stale) on NDEATH/DDEATH. Messages are queued
 * and delivered in batches, each after the consumer finished the previous one (backpressure).
 * Undecodable payloads and other refusals are counted by reason (rejectedCounts).
 */
import type { MqttClient } from 'mqtt';
import type { TagEvent } from '../domain/tag-event.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Clock, SourceState, TagSource } from '../ports.ts';
import { connectSparkplug, RebirthRequester, type SparkplugConnectionOptions } from './sparkplug-mqtt.ts';
import { SparkplugTracker } from './sparkplug-tracker.ts';

export interface SparkplugTagSourceOptions extends SparkplugConnectionOptions {
  readonly maxBatch: number;
  readonly maxQueued: number;
  readonly clock: Clock;
}

export class SparkplugTagSource implements TagSource {
  readonly name: string;
  readonly #o: SparkplugTagSourceOptions;
  readonly #tracker: SparkplugTracker;
  readonly #rebirth = new RebirthRequester();
  readonly #listeners: ((state: SourceState, detail?: string) => void)[] = [];
  readonly #rejected: Record<string, number> = {};
  #state: SourceState = 'stopped';
  #client: MqttClient | undefined;
  #queue: TagEvent[] = [];
  #pumping = false;
  #stopped = true;
  #onEvents: ((batch: readonly TagEvent[]) => Promise<void> | void) | undefined;
  #rebirthsRequested = 0;

  constructor(o: SparkplugTagSourceOptions) {
    this.#o = o;
    this.name = `sparkplug:${o.groupId}`;
    this.#tracker = new SparkplugTracker(o.groupId, o.tagPrefix);
  }

  state(): SourceState {
    return this.#state;
  }
  onStateChange(listener: (state: SourceState, detail?: string) => void): void {
    this.#listeners.push(listener);
  }
  rejectedCounts(): Readonly<Record<string, number>> {
    return { ...this.#rejected };
  }
  /** Rebirth requests sent so far. */
  get rebirthsRequested(): number {
    return this.#rebirthsRequested;
  }

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    if (!this.#stopped) throw new Error('Sparkplug source already started');
    this.#stopped = false;
    this.#onEvents = onEvents;
    this.#setState('connecting');
    let client: MqttClient;
    try {
      client = await connectSparkplug(this.#o, 'source');
    } catch (err) {
      this.#stopped = true;
      this.#setState('stopped', (err as Error).message);
      throw new SidecarError(
        ERRORS.SOURCE_CONNECT,
        `cannot connect to MQTT broker ${this.#o.brokerUrl}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(client, topic, payload));
    client.on('offline', () => this.#setState('reconnecting', 'broker offline'));
    client.on('connect', () => this.#setState('connected', 'broker connected'));
    this.#setState('connected');
    // A host that starts after the edge nodes has no BIRTH: the first DATA triggers a rebirth request.
  }

  #onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    const r = this.#tracker.handle(topic, payload, now);
    for (const reason of r.rejects) this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
    if (r.rebirth !== undefined && this.#rebirth.request(client, this.#o.groupId, r.rebirth, now))
      this.#rebirthsRequested++;
    if (r.events.length === 0) return;
    this.#queue.push(...r.events);
    const over = this.#queue.length - this.#o.maxQueued;
    if (over > 0) {
      this.#queue.splice(0, over);
      this.#rejected.sparkplug_queue_overflow = (this.#rejected.sparkplug_queue_overflow ?? 0) + over;
    }
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped && this.#onEvents) {
        await this.#onEvents(this.#queue.splice(0, this.#o.maxBatch));
      }
    } catch (err) {
      for (const l of this.#listeners) l(this.#state, `consumer failed: ${(err as Error).message}`);
    } finally {
      this.#pumping = false;
    }
  }

  async stop(): Promise<void> {
    const wasRunning = !this.#stopped;
    this.#stopped = true;
    this.#queue = [];
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync(true);
    if (wasRunning) this.#setState('stopped');
  }

  #setState(state: SourceState, detail?: string): void {
    if (this.#stopped && state !== 'stopped') return;
    this.#state = state;
    for (const l of this.#listeners) l(state, detail);
  }
}
