/**
 * TagWriter over Sparkplug B: a setpoint write is a DCMD (device metric) or NCMD (node metric)
 * carrying the metric's BIRTH name, alias and datatype; the write counts as done only when the
 * edge node reports the new value in its next DATA message (the read-back). An edge node that
 * ignores or refuses the command therefore yields ok:false after `confirmTimeoutMs`.
 * The writer follows the group's BIRTH/DATA itself so `read` returns the latest reported value.
 */
import type { MqttClient } from 'mqtt';
import type { TagWriter, WriteOutcome } from '../ports.ts';
import { connectSparkplug, RebirthRequester, type SparkplugConnectionOptions } from './sparkplug-mqtt.ts';
import { sparkplugCodec, SparkplugTracker } from './sparkplug-tracker.ts';

export interface SparkplugTagWriterOptions extends SparkplugConnectionOptions {
  /** How long to wait for the edge node's DATA confirming a command. */
  readonly confirmTimeoutMs: number;
}

export class SparkplugTagWriter implements TagWriter {
  readonly #o: SparkplugTagWriterOptions;
  readonly #tracker: SparkplugTracker;
  readonly #rebirth = new RebirthRequester();
  readonly #values = new Map<string, unknown>();
  readonly #waiters = new Map<string, ((value: unknown) => boolean)[]>();
  #client: Promise<MqttClient> | undefined;

  constructor(o: SparkplugTagWriterOptions) {
    this.#o = o;
    this.#tracker = new SparkplugTracker(o.groupId, o.tagPrefix);
  }

  /** Connects and follows the group; call before the first write so BIRTHs are known. */
  connect(): Promise<MqttClient> {
    this.#client ??= connectSparkplug(this.#o, 'writer').then((client) => {
      client.on('message', (topic, payload) => {
        const r = this.#tracker.handle(topic, payload, Date.now());
        if (r.rebirth !== undefined) this.#rebirth.request(client, this.#o.groupId, r.rebirth, Date.now());
        for (const u of r.updated) {
          this.#values.set(u.info.tagPath, u.value);
          const waiting = this.#waiters.get(u.info.tagPath);
          if (waiting)
            this.#waiters.set(
              u.info.tagPath,
              waiting.filter((w) => !w(u.value)),
            );
        }
      });
      return client;
    });
    return this.#client;
  }

  async read(tagPath: string): Promise<number | undefined> {
    await this.connect();
    const v = this.#values.get(tagPath);
    return typeof v === 'number' ? v : undefined;
  }

  async write(tagPath: string, value: number): Promise<WriteOutcome> {
    if (!Number.isFinite(value)) return { ok: false, reason: `value ${value} is not a finite number` };
    let client: MqttClient;
    try {
      client = await this.connect();
    } catch (err) {
      return {
        ok: false,
        reason: `cannot connect to MQTT broker ${this.#o.brokerUrl}: ${(err as Error).message}`,
      };
    }
    const info = this.#tracker.metrics.get(tagPath);
    if (!info)
      return {
        ok: false,
        reason: `tag '${tagPath}' has not been announced in any BIRTH of group '${this.#o.groupId}'`,
      };
    const previous = await this.read(tagPath);
    const metric = {
      name: info.name,
      type: info.type,
      value,
      ...(info.alias !== undefined ? { alias: info.alias } : {}),
    };
    const topic =
      info.device === undefined
        ? `spBv1.0/${this.#o.groupId}/NCMD/${info.edge}`
        : `spBv1.0/${this.#o.groupId}/DCMD/${info.edge}/${info.device}`;
    const confirmed = this.#confirmation(tagPath, value);
    try {
      await client.publishAsync(
        topic,
        Buffer.from(sparkplugCodec.encodePayload({ timestamp: Date.now(), metrics: [metric] })),
        { qos: 0 },
      );
    } catch (err) {
      return { ok: false, reason: `publishing ${topic} failed: ${(err as Error).message}` };
    }
    const readBack = await confirmed;
    if (readBack === undefined) {
      return {
        ok: false,
        reason: `edge node did not confirm '${tagPath}' = ${value} within ${this.#o.confirmTimeoutMs} ms`,
        statusCode: 'Timeout',
      };
    }
    if (readBack !== value) {
      return {
        ok: false,
        reason: `edge node reported '${tagPath}' = ${String(readBack)} after the command, expected ${value}`,
        statusCode: 'Mismatch',
      };
    }
    return { ok: true, readBack, previous };
  }

  /**
   * Resolves with the first reported value equal to `expected` or, at the timeout, with the last
   * value reported since the command (undefined when none came): a periodic DATA still carrying
   * the old value must not fail a write the edge node is about to apply.
   */
  #confirmation(tagPath: string, expected: number): Promise<unknown> {
    return new Promise((resolve) => {
      let last: unknown;
      const done = (v: unknown): boolean => {
        last = v;
        if (v !== expected) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      const timer = setTimeout(() => {
        this.#waiters.set(
          tagPath,
          (this.#waiters.get(tagPath) ?? []).filter((w) => w !== done),
        );
        resolve(last);
      }, this.#o.confirmTimeoutMs);
      this.#waiters.set(tagPath, [...(this.#waiters.get(tagPath) ?? []), done]);
    });
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await (await c.catch(() => undefined))?.endAsync(true);
  }
}
