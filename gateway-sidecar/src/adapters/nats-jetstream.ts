/**
 * NATS JetStream adapters of the scale-out (docs/scale-out.md), nats@2:
 * - one stream holding `<subjectPrefix>.<partition>` (partition = stable hash of the equipment id
 *   mod P); the publisher sets `Nats-Msg-Id` = event id, so a re-published event within the
 *   stream's duplicate window is stored once;
 * - per partition one durable pull consumer (`<stream>_p<n>`, AckPolicy.All). It is recreated by
 *   each new owner to start right after the partition checkpoint, so a partition taken over from
 *   a dead instance does not wait for the old owner's unacked messages to time out;
 * - a KV bucket of leases (`p<n>` = owner id, bucket TTL = lease time): whoever holds the key owns
 *   the partition; a dead owner stops renewing and its key expires;
 * - `missing`: the takeover delivery-hole check (stream sequences after a checkpoint that are no
 *   longer stored: head dropped by limits/max_age/purge, interior deletes);
 * - `drainedThrough`: whether an idle partition has processed everything up to the stream's end.
 * Checkpoints (sequence + state snapshot) live in Postgres (PgPartitionCheckpoints, migration 071);
 * `replay` re-scores a partition's retained messages only when a snapshot cannot be restored.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
} from 'nats';
import type { TagEvent } from '../domain/tag-event.ts';
import type { PartitionFeed, PartitionLeases, SeqRange, SequencedEvent } from '../scale-ports.ts';

export interface NatsScaleOptions {
  readonly url: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly leaseBucket: string;
  readonly leaseTtlMs: number;
  readonly replicas: number;
  readonly ackWaitMs: number;
}

const ms = (n: number): number => n * 1_000_000; // JetStream durations are nanoseconds
const enc = new TextEncoder();
const dec = new TextDecoder();

export class NatsScale implements PartitionFeed, PartitionLeases {
  readonly #o: NatsScaleOptions;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #leases: KV;
  readonly #leaseRev = new Map<number, number>();
  /** Next consumer delivery sequence expected per partition (a hole = a message went to a stale pull). */
  readonly #expect = new Map<number, number>();

  private constructor(o: NatsScaleOptions, nc: NatsConnection, jsm: JetStreamManager, leases: KV) {
    this.#o = o;
    this.#nc = nc;
    this.#js = nc.jetstream();
    this.#jsm = jsm;
    this.#leases = leases;
  }

  /** Connects and creates the stream and the lease bucket when missing (idempotent). */
  static async open(o: NatsScaleOptions): Promise<NatsScale> {
    const nc = await connect({ servers: o.url, name: 'aimon-scale' });
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.info(o.stream);
    } catch {
      await jsm.streams.add({
        name: o.stream,
        subjects: [`${o.subjectPrefix}.>`],
        storage: StorageType.File,
        num_replicas: o.replicas,
        duplicate_window: ms(120_000),
      });
    }
    const js = nc.jetstream();
    const leases = await js.views.kv(o.leaseBucket, { ttl: o.leaseTtlMs, history: 1, replicas: o.replicas });
    return new NatsScale(o, nc, jsm, leases);
  }

  subject(partition: number): string {
    return `${this.#o.subjectPrefix}.${partition}`;
  }

  /** Publishes events to their partitions; waits for every JetStream ack (stored). */
  async publish(items: readonly { partition: number; eventId: string; event: TagEvent }[]): Promise<void> {
    await Promise.all(
      items.map((i) =>
        this.#js.publish(this.subject(i.partition), enc.encode(JSON.stringify(i.event)), {
          msgID: i.eventId,
        }),
      ),
    );
  }

  // PartitionLeases ---------------------------------------------------------------------------
  async tryAcquire(partition: number, owner: string): Promise<boolean> {
    try {
      this.#leaseRev.set(partition, await this.#leases.create(`p${partition}`, enc.encode(owner)));
      return true;
    } catch {
      return false; // someone else holds it (or held it until a moment ago: try again next round)
    }
  }
  async renew(partition: number, owner: string): Promise<boolean> {
    const rev = this.#leaseRev.get(partition);
    if (rev === undefined) return false;
    try {
      this.#leaseRev.set(partition, await this.#leases.update(`p${partition}`, enc.encode(owner), rev));
      return true;
    } catch {
      this.#leaseRev.delete(partition);
      return false;
    }
  }
  async release(partition: number, _owner: string): Promise<void> {
    const rev = this.#leaseRev.get(partition);
    this.#leaseRev.delete(partition);
    if (rev === undefined) return;
    // Only our own revision is deleted; a lease that already moved on is left alone.
    await this.#leases.delete(`p${partition}`, { previousSeq: rev }).catch(() => undefined);
  }
  async members(): Promise<number> {
    const keys = await this.#leases.keys('m.>');
    let n = 0;
    for await (const _k of keys) n++;
    return n;
  }
  async heartbeat(owner: string): Promise<void> {
    await this.#leases.put(`m.${owner}`, enc.encode(String(Date.now())));
  }
  async leave(owner: string): Promise<void> {
    await this.#leases.delete(`m.${owner}`).catch(() => undefined);
  }

  // PartitionFeed -----------------------------------------------------------------------------
  async replay(
    partition: number,
    upto: number,
    onBatch: (events: readonly SequencedEvent[]) => Promise<void>,
  ): Promise<void> {
    if (upto <= 0) return;
    // A short-lived consumer with the singular filter_subject (ordered consumers with
    // filter_subjects need server 2.10); no acks, removed afterwards.
    const name = `${this.#o.stream}_r${partition}_${Math.random().toString(36).slice(2, 10)}`;
    await this.#jsm.consumers.add(this.#o.stream, {
      durable_name: name,
      filter_subject: this.subject(partition),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: ms(60_000),
    });
    try {
      const c = await this.#js.consumers.get(this.#o.stream, name);
      let last = 0;
      while (last < upto) {
        const batch: SequencedEvent[] = [];
        const it = await c.fetch({ max_messages: 1_000, expires: 2_000 });
        let got = 0;
        for await (const m of it) {
          got++;
          last = Math.max(last, m.seq);
          if (m.seq <= upto) batch.push({ seq: m.seq, event: JSON.parse(dec.decode(m.data)) as TagEvent });
        }
        if (batch.length > 0) await onBatch(batch);
        if (got === 0) break; // nothing more retained for this partition
      }
    } finally {
      await this.#jsm.consumers.delete(this.#o.stream, name).catch(() => undefined);
    }
  }

  async open(partition: number, afterSeq: number): Promise<void> {
    const name = this.#durable(partition);
    await this.#jsm.consumers.delete(this.#o.stream, name).catch(() => undefined);
    await this.#jsm.consumers.add(this.#o.stream, {
      durable_name: name,
      filter_subject: this.subject(partition),
      ack_policy: AckPolicy.All,
      ack_wait: ms(this.#o.ackWaitMs),
      max_ack_pending: 20_000,
      ...(afterSeq > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 }
        : { deliver_policy: DeliverPolicy.All }),
    });
    this.#expect.set(partition, 1);
  }

  /**
   * A pull request that expired on our side can still receive messages at the server (timing under
   * load); with AckPolicy.All a later ack would silently acknowledge them. So the consumer delivery
   * sequence must be contiguous: at a hole the batch ends before it and `reopen` asks the caller to
   * recreate the consumer from its checkpoint, which delivers the lost message again.
   */
  async next(
    partition: number,
    max: number,
    waitMs: number,
  ): Promise<{ events: SequencedEvent[]; ack: () => void; reopen: boolean }> {
    const c = await this.#js.consumers.get(this.#o.stream, this.#durable(partition));
    const it = await c.fetch({ max_messages: max, expires: waitMs });
    const events: SequencedEvent[] = [];
    let lastMsg: { ack(): void } | undefined;
    let expect = this.#expect.get(partition) ?? 1;
    let reopen = false;
    for await (const m of it) {
      if (reopen) continue; // drain the rest of this fetch; it is delivered again after reopening
      if (m.info.deliverySequence !== expect) {
        reopen = true;
        continue;
      }
      expect++;
      events.push({ seq: m.seq, event: JSON.parse(dec.decode(m.data)) as TagEvent });
      lastMsg = m;
    }
    this.#expect.set(partition, expect);
    // AckPolicy.All: acknowledging the last message acknowledges the whole batch.
    return { events, ack: () => lastMsg?.ack(), reopen };
  }

  async missing(afterSeq: number): Promise<SeqRange[]> {
    const { state } = await this.#jsm.streams.info(this.#o.stream, { deleted_details: true });
    const out: SeqRange[] = [];
    // Head: everything below first_seq is gone (limits, max_age, purge); after a full purge
    // first_seq = last_seq + 1.
    if (state.first_seq > afterSeq + 1) out.push({ from: afterSeq + 1, to: state.first_seq - 1 });
    // Interior deletes (message delete API, subject-filtered purge), as ranges.
    const deleted = (state.deleted ?? [])
      .filter((q) => q > afterSeq && q >= state.first_seq)
      .sort((a, b) => a - b);
    for (const q of deleted) {
      const lastRange = out[out.length - 1];
      if (lastRange !== undefined && lastRange.to === q - 1)
        out[out.length - 1] = { from: lastRange.from, to: q };
      else out.push({ from: q, to: q });
    }
    return out;
  }

  async drainedThrough(partition: number): Promise<number | undefined> {
    // The stream's end first: a message stored before it is pending or unacknowledged below.
    const last = (await this.#jsm.streams.info(this.#o.stream)).state.last_seq;
    const ci = await this.#jsm.consumers.info(this.#o.stream, this.#durable(partition));
    return ci.num_pending === 0 && ci.num_ack_pending === 0 ? last : undefined;
  }

  #durable(partition: number): string {
    return `${this.#o.stream}_p${partition}`;
  }

  /** Deletes the stream and the lease bucket (tests and benches clean up with it). */
  async destroy(): Promise<void> {
    await this.#leases.destroy().catch(() => undefined);
    await this.#jsm.streams.delete(this.#o.stream).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#nc.drain().catch(() => undefined);
  }
}
