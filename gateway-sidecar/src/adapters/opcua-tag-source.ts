/**
 * TagSource over OPC UA (Ignition's OPC UA server exposing tag providers, or any server with
 * string NodeIds). One subscription, one monitored item per configured tag with the configured
 * sampling interval, queue size and deadband. Data changes are queued and delivered in batches;
 * the next batch waits for the consumer's promise (backpressure). When the server goes away,
 * node-opcua reconnects with backoff and re-creates session and subscription; the state goes
 * 'reconnecting' then 'connected' again and every listener hears it. The first connect is not
 * retried endlessly: `start` rejects with SC_ERR_SOURCE_CONNECT naming the socket error when the
 * server cannot be reached, and the caller retries (main.ts does so in the background).
 *
 * Input problems are counted, never thrown: a tag the server does not know
 * (opcua_monitor_failed), a non-scalar value (opcua_unsupported_value), a full local queue
 * (opcua_queue_overflow, oldest dropped).
 */
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  TimestampsToReturn,
  type ClientSession,
  type DataValue,
  type OPCUAClient,
} from 'node-opcua';
import type { TagEvent } from '../domain/tag-event.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Clock, SourceState, TagSource } from '../ports.ts';
import {
  createOpcuaClient,
  opcuaConnectionFromConfig,
  qualityOf,
  resolveNamespaceIndex,
  tagNodeId,
  userIdentity,
  type OpcuaConfigSection,
  type OpcuaConnectionOptions,
} from './opcua-connection.ts';

export interface OpcuaTagSourceOptions extends OpcuaConnectionOptions {
  readonly tags: readonly string[];
  readonly samplingIntervalMs: number;
  readonly publishingIntervalMs: number;
  readonly queueSize: number;
  readonly deadband: { readonly type: 'none' | 'absolute' | 'percent'; readonly value: number };
  /** Largest batch handed to the consumer. */
  readonly maxBatch: number;
  /** Events held locally while the consumer is busy; beyond this the oldest are dropped and counted. */
  readonly maxQueued: number;
  readonly clock: Clock;
}

/**
 * Source options from the `source.opcua` config section. `mappedTags` (every sensor, setpoint and
 * mode tag of the equipment map) is used when the section lists no tags.
 */
export function opcuaSourceOptionsFromConfig(
  c: OpcuaConfigSection & {
    readonly tags?: readonly string[] | undefined;
    readonly samplingIntervalMs: number;
    readonly publishingIntervalMs: number;
    readonly queueSize: number;
    readonly deadbandType: 'none' | 'absolute' | 'percent';
    readonly deadbandValue: number;
    readonly maxBatch: number;
    readonly maxQueued: number;
  },
  ctx: { readonly dataDir: string; readonly mappedTags: readonly string[]; readonly clock: Clock },
): OpcuaTagSourceOptions {
  return {
    ...opcuaConnectionFromConfig(c, ctx.dataDir),
    tags: c.tags ?? ctx.mappedTags,
    samplingIntervalMs: c.samplingIntervalMs,
    publishingIntervalMs: c.publishingIntervalMs,
    queueSize: c.queueSize,
    deadband: { type: c.deadbandType, value: c.deadbandValue },
    maxBatch: c.maxBatch,
    maxQueued: c.maxQueued,
    clock: ctx.clock,
  };
}

export class OpcuaTagSource implements TagSource {
  readonly name: string;
  readonly #o: OpcuaTagSourceOptions;
  #state: SourceState = 'stopped';
  readonly #listeners: ((state: SourceState, detail?: string) => void)[] = [];
  readonly #rejected: Record<string, number> = {};
  #client: OPCUAClient | undefined;
  #session: ClientSession | undefined;
  #queue: TagEvent[] = [];
  #onEvents: ((batch: readonly TagEvent[]) => Promise<void> | void) | undefined;
  #pumping = false;
  #stopped = true;
  #monitored: readonly string[] = [];

  constructor(o: OpcuaTagSourceOptions) {
    this.#o = o;
    this.name = `opcua:${o.endpointUrl}`;
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

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    if (!this.#stopped) throw new Error('OPC UA source already started');
    this.#stopped = false;
    this.#onEvents = onEvents;
    this.#setState('connecting');
    // One quick retry, then reject naming the error: the caller (app/source-supervisor.ts) reports it
    // on /health and tries again, instead of this start waiting silently for the server.
    const client = createOpcuaClient(this.#o, 'ignition-ai-sidecar-source', 1);
    this.#client = client;
    client.on('connection_lost', () => this.#setState('reconnecting', 'connection lost'));
    client.on(
      'backoff',
      (count, delay) => this.#state !== 'connected' && this.#notify(`retry ${count} in ${delay} ms`),
    );
    client.on('connection_reestablished', () => this.#setState('connected', 'connection re-established'));
    try {
      await client.connect(this.#o.endpointUrl);
      if (this.#stopped) return;
      const session = await client.createSession(userIdentity(this.#o));
      this.#session = session;
      // node-opcua re-creates the session and its subscriptions after a server restart and then emits this.
      session.on('session_restored', () => this.#setState('connected', 'session restored'));
      const ns = await resolveNamespaceIndex(session, this.#o);
      await this.#subscribe(session, ns);
    } catch (err) {
      await this.stop();
      if (err instanceof SidecarError) throw err;
      throw new SidecarError(
        ERRORS.SOURCE_CONNECT,
        `OPC UA source cannot subscribe at ${this.#o.endpointUrl}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    this.#setState('connected');
  }

  async #subscribe(session: ClientSession, ns: number): Promise<void> {
    const subscription = await ClientSubscription.create(session, {
      requestedPublishingInterval: this.#o.publishingIntervalMs,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      maxNotificationsPerPublish: 10_000,
      publishingEnabled: true,
    });
    const filter =
      this.#o.deadband.type === 'none'
        ? undefined
        : new DataChangeFilter({
            trigger: DataChangeTrigger.StatusValue,
            deadbandType: this.#o.deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
            deadbandValue: this.#o.deadband.value,
          });
    // Check every tag exists first: a monitored item on an unknown node only reports a bad value later.
    const probes = await session.read(
      this.#o.tags.map((t) => ({ nodeId: tagNodeId(ns, t), attributeId: AttributeIds.NodeClass })),
    );
    const tags = this.#o.tags.filter((t, i) => {
      const status = probes[i]?.statusCode.name ?? 'BadUnexpectedError';
      if (status.startsWith('Good')) return true;
      this.#count('opcua_monitor_failed');
      this.#notify(`tag '${t}' cannot be monitored: ${status}`);
      return false;
    });
    this.#monitored = tags;
    const items = tags.map((t) => ({ nodeId: tagNodeId(ns, t), attributeId: AttributeIds.Value }));
    const group = await ClientMonitoredItemGroup.create(
      subscription,
      items,
      {
        samplingInterval: this.#o.samplingIntervalMs,
        queueSize: this.#o.queueSize,
        discardOldest: true,
        ...(filter ? { filter } : {}),
      },
      TimestampsToReturn.Both,
    );
    group.on('changed', (_item, dataValue: DataValue, index: number) => {
      const tagPath = this.#monitored[index];
      if (tagPath !== undefined) this.#enqueue(tagPath, dataValue);
    });
  }

  #enqueue(tagPath: string, dv: DataValue): void {
    if (this.#stopped) return;
    const raw: unknown = dv.value?.value;
    if (raw !== null && typeof raw === 'object') {
      this.#count('opcua_unsupported_value');
      return;
    }
    const now = this.#o.clock.now();
    const src = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? now;
    this.#queue.push({
      tagPath,
      value: raw,
      quality: qualityOf(dv.statusCode.name),
      sourceTimestampMs: src,
      receivedTimestampMs: now,
    });
    if (this.#queue.length > this.#o.maxQueued) {
      this.#queue.shift();
      this.#count('opcua_queue_overflow');
    }
    void this.#pump();
  }

  /** Delivers queued events one batch at a time; a second call while running is a no-op. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped && this.#onEvents) {
        const batch = this.#queue.splice(0, this.#o.maxBatch);
        await this.#onEvents(batch);
      }
    } catch (err) {
      this.#notify(`consumer failed: ${(err as Error).message}`);
    } finally {
      this.#pumping = false;
    }
  }

  async stop(): Promise<void> {
    const wasRunning = !this.#stopped;
    this.#stopped = true;
    this.#queue = [];
    const client = this.#client;
    const session = this.#session;
    this.#client = undefined;
    this.#session = undefined;
    try {
      await session?.close(true);
    } catch {
      // The server may already be gone; disconnecting below still releases the socket.
    }
    await client?.disconnect();
    if (wasRunning || this.#state !== 'stopped') this.#setState('stopped');
  }

  #count(reason: string): void {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
  }

  #notify(detail: string): void {
    for (const l of this.#listeners) l(this.#state, detail);
  }

  #setState(state: SourceState, detail?: string): void {
    if (this.#stopped && state !== 'stopped') return;
    this.#state = state;
    for (const l of this.#listeners) l(state, detail);
  }
}
