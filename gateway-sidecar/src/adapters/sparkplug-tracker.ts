/**
 * Sparkplug B host-side bookkeeping shared by the tag source and the tag writer: topic parsing,
 * payload decoding (sparkplug-payload), metric aliases learnt from NBIRTH/DBIRTH, the per-node
 * sequence number (0-255, wrapping), bdSeq matching of NDEATH, and the metrics to mark stale on
 * DEATH. `handle` turns one MQTT message into tag events plus what the caller should do (request
 * a rebirth) and why something was refused; it never throws.
 */
import { get as getSparkplug } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { TagEvent } from '../domain/tag-event.ts';

function loadCodec(): NonNullable<ReturnType<typeof getSparkplug>> {
  const c = getSparkplug('spBv1.0');
  if (!c) throw new Error('sparkplug-payload has no spBv1.0 codec');
  return c;
}
export const sparkplugCodec = loadCodec();
const codec = sparkplugCodec;

export const REBIRTH_METRIC = 'Node Control/Rebirth';
/** Node bookkeeping metrics that are not process tags. */
const INTERNAL = /^(bdSeq$|Node Control\/|Node Info\/|Device Control\/|Device Info\/)/;

export interface MetricInfo {
  readonly tagPath: string;
  readonly edge: string;
  readonly device: string | undefined;
  readonly name: string;
  readonly alias: number | undefined;
  readonly type: UMetric['type'];
}

interface NodeState {
  expectedSeq: number | undefined;
  bdSeq: number | undefined;
  readonly byAlias: Map<string, MetricInfo>;
  readonly byName: Map<string, MetricInfo>;
}

export interface HandleResult {
  readonly events: TagEvent[];
  /** Edge node to send a rebirth request to. */
  readonly rebirth: string | undefined;
  readonly rejects: string[];
  /** Metrics updated by this message (for the writer's read-back). */
  readonly updated: { readonly info: MetricInfo; readonly value: unknown }[];
}

export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (
    v !== null &&
    typeof v === 'object' &&
    'toNumber' in v &&
    typeof (v as { toNumber: unknown }).toNumber === 'function'
  ) {
    return (v as { toNumber(): number }).toNumber();
  }
  return undefined;
}

export class SparkplugTracker {
  readonly #group: string;
  readonly #tagPrefix: string;
  readonly #nodes = new Map<string, NodeState>();
  /** Every metric seen in a BIRTH, by tag path. */
  readonly metrics = new Map<string, MetricInfo>();

  constructor(groupId: string, tagPrefix: string) {
    this.#group = groupId;
    this.#tagPrefix = tagPrefix;
  }

  tagPathOf(edge: string, device: string | undefined, metric: string): string {
    return `${this.#tagPrefix}${this.#group}/${edge}/${device === undefined ? '' : `${device}/`}${metric}`;
  }

  handle(topic: string, payloadBytes: Uint8Array, nowMs: number): HandleResult {
    const out: HandleResult = { events: [], rebirth: undefined, rejects: [], updated: [] };
    const parts = topic.split('/');
    const [ns, group, type, edge, device] = parts;
    if (
      ns !== 'spBv1.0' ||
      group !== this.#group ||
      type === undefined ||
      edge === undefined ||
      parts.length > 5
    ) {
      out.rejects.push('sparkplug_bad_topic');
      return out;
    }
    if (type === 'NCMD' || type === 'DCMD' || type === 'STATE') return out;
    let payload: UPayload;
    try {
      payload = codec.decodePayload(payloadBytes);
    } catch {
      out.rejects.push('sparkplug_undecodable');
      return out;
    }
    const ts = toNumber(payload.timestamp) ?? nowMs;
    const seq = toNumber(payload.seq);
    if (type === 'NBIRTH') {
      const bd = (payload.metrics ?? []).find((m) => m.name === 'bdSeq');
      this.#nodes.set(edge, {
        expectedSeq: seq === undefined ? undefined : (seq + 1) % 256,
        bdSeq: toNumber(bd?.value),
        byAlias: new Map(),
        byName: new Map(),
      });
      this.#emit(out, edge, undefined, payload.metrics ?? [], ts, nowMs, true);
      return out;
    }
    const node = this.#nodes.get(edge);
    if (type === 'NDEATH') {
      const bd = toNumber((payload.metrics ?? []).find((m) => m.name === 'bdSeq')?.value);
      if (node && node.bdSeq !== undefined && bd !== undefined && bd !== node.bdSeq) {
        out.rejects.push('sparkplug_stale_death');
        return out;
      }
      this.#stale(out, edge, undefined, ts, nowMs);
      this.#nodes.delete(edge);
      return out;
    }
    if (!node) {
      out.rejects.push('sparkplug_no_birth');
      return { ...out, rebirth: edge };
    }
    let rebirth: string | undefined;
    if (seq !== undefined && node.expectedSeq !== undefined && seq !== node.expectedSeq) {
      out.rejects.push('sparkplug_seq_gap');
      rebirth = edge;
    }
    if (seq !== undefined) node.expectedSeq = (seq + 1) % 256;
    if (type === 'DDEATH') {
      if (device !== undefined) this.#stale(out, edge, device, ts, nowMs);
    } else if (type === 'DBIRTH' || type === 'NDATA' || type === 'DDATA') {
      if (
        this.#emit(
          out,
          edge,
          type === 'NDATA' ? undefined : device,
          payload.metrics ?? [],
          ts,
          nowMs,
          type === 'DBIRTH',
        )
      )
        rebirth = edge;
    } else out.rejects.push('sparkplug_bad_topic');
    return { ...out, rebirth };
  }

  /** Emits events for metrics; returns true when an alias could not be resolved (rebirth needed). */
  #emit(
    out: HandleResult,
    edge: string,
    device: string | undefined,
    metrics: UMetric[],
    ts: number,
    nowMs: number,
    birth: boolean,
  ): boolean {
    const node = this.#nodes.get(edge);
    if (!node) return false;
    let unresolved = false;
    for (const m of metrics) {
      const alias = toNumber(m.alias);
      let info: MetricInfo | undefined;
      if (birth && m.name) {
        if (INTERNAL.test(m.name)) continue;
        info = {
          tagPath: this.tagPathOf(edge, device, m.name),
          edge,
          device,
          name: m.name,
          alias,
          type: m.type,
        };
        node.byName.set(`${device ?? ''}\u0000${m.name}`, info);
        if (alias !== undefined) node.byAlias.set(`${device ?? ''}\u0000${alias}`, info);
        this.metrics.set(info.tagPath, info);
      } else if (m.name) {
        if (INTERNAL.test(m.name)) continue;
        info = node.byName.get(`${device ?? ''}\u0000${m.name}`);
      } else if (alias !== undefined) info = node.byAlias.get(`${device ?? ''}\u0000${alias}`);
      if (!info) {
        out.rejects.push('sparkplug_unknown_metric');
        unresolved = true;
        continue;
      }
      const raw = m.isNull ? null : m.value;
      const value = toNumber(raw) ?? raw;
      if (value !== null && typeof value === 'object') {
        out.rejects.push('sparkplug_unsupported_value');
        continue;
      }
      const mts = toNumber(m.timestamp) ?? ts;
      out.events.push({
        tagPath: info.tagPath,
        value,
        quality: m.isNull ? 'bad' : 'good',
        sourceTimestampMs: mts,
        receivedTimestampMs: nowMs,
      });
      out.updated.push({ info, value });
    }
    return unresolved;
  }

  /** DEATH: every known metric of the node (or one device) reported with bad quality. */
  #stale(out: HandleResult, edge: string, device: string | undefined, ts: number, nowMs: number): void {
    for (const info of this.metrics.values()) {
      if (info.edge !== edge || (device !== undefined && info.device !== device)) continue;
      out.events.push({
        tagPath: info.tagPath,
        value: null,
        quality: 'bad',
        sourceTimestampMs: ts,
        receivedTimestampMs: nowMs,
      });
      out.updated.push({ info, value: undefined });
    }
  }

  /** Payload of an NCMD asking `edge` to publish its BIRTH certificates again. */
  static rebirthRequest(nowMs: number): Uint8Array {
    return codec.encodePayload({
      timestamp: nowMs,
      metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }],
    });
  }
}
