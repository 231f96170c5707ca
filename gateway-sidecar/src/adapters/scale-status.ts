/**
 * Health and metrics of one scale-out worker (docs/scale-out.md), served when `scale.httpPort` is
 * set: `GET /health` (JSON; `degraded` once this worker found a delivery hole or an unusable
 * snapshot, HTTP 200 as the sidecar's own /health does for degraded) and `GET /metrics`
 * (Prometheus text). The durable record of a hole is agentic_hmi.scale_delivery_holes; this is the
 * live signal an operator's monitoring alerts on.
 */
import { createServer, type Server } from 'node:http';
import type { SeqRange } from '../scale-ports.ts';
import { Counter, Gauge, Registry } from './prom-registry.ts';

export interface ScaleHealthReport {
  readonly status: 'ok' | 'degraded';
  readonly instanceId: string;
  readonly ownedPartitions: readonly number[];
  readonly deliveryHoles: readonly { partition: number; from: number; to: number; at: string }[];
  readonly restoreFailures: readonly { partition: number; message: string; at: string }[];
}

export class ScaleStatus {
  readonly registry = new Registry();
  readonly #instanceId: string;
  readonly #owned: () => readonly number[];
  readonly #holes: { partition: number; from: number; to: number; at: string }[] = [];
  readonly #restoreFailures: { partition: number; message: string; at: string }[] = [];
  readonly #processed = this.registry.register(
    new Counter('scale_events_processed_total', 'Events committed per partition by this worker'),
  );
  readonly #rejected = this.registry.register(
    new Counter('scale_events_rejected_total', 'Events rejected by validation per partition'),
  );
  readonly #checkpoints = this.registry.register(
    new Counter(
      'scale_checkpoints_total',
      'Partition checkpoints saved, by kind: base (full state), delta (changes since the previous checkpoint), stale (a delta refused because another owner moved the checkpoint)',
    ),
  );
  readonly #stateBytes = this.registry.register(
    new Gauge(
      'scale_checkpoint_state_bytes',
      'Bytes written by the last checkpoint of a partition, by kind (base or delta)',
    ),
  );
  readonly #restored = this.registry.register(
    new Counter(
      'scale_partition_restores_total',
      'Partitions taken over with their state restored from a snapshot',
    ),
  );
  readonly #holeCount = this.registry.register(
    new Counter(
      'scale_delivery_holes_total',
      'Delivery holes (missing stream sequence ranges) found at takeovers',
    ),
  );
  readonly #holeSeqs = this.registry.register(
    new Counter(
      'scale_delivery_hole_sequences_total',
      'Stream sequences missing after a checkpoint at takeovers',
    ),
  );
  readonly #restoreFailed = this.registry.register(
    new Counter(
      'scale_restore_failures_total',
      'Snapshots that could not be restored (state rebuilt from the stream)',
    ),
  );

  constructor(instanceId: string, owned: () => readonly number[]) {
    this.#instanceId = instanceId;
    this.#owned = owned;
    this.registry.register(
      new Gauge('scale_partitions_owned', 'Partitions this worker owns', () => owned().length),
    );
  }

  committed(partition: number, processed: number, rejected: number): void {
    this.#processed.inc({ partition: String(partition) }, processed);
    if (rejected > 0) this.#rejected.inc({ partition: String(partition) }, rejected);
  }
  /** One checkpoint: `bytes` written as a base or a delta; a refused (stale) delta wrote nothing. */
  checkpoint(partition: number, bytes: number, kind: 'base' | 'delta' | 'stale'): void {
    this.#checkpoints.inc({ partition: String(partition), kind });
    if (kind !== 'stale') this.#stateBytes.set(bytes, { partition: String(partition), kind });
  }
  restored(partition: number): void {
    this.#restored.inc({ partition: String(partition) });
  }
  hole(partition: number, hole: SeqRange, at: Date): void {
    this.#holeCount.inc({ partition: String(partition) });
    this.#holeSeqs.inc({ partition: String(partition) }, hole.to - hole.from + 1);
    this.#holes.push({ partition, from: hole.from, to: hole.to, at: at.toISOString() });
  }
  restoreFailed(partition: number, err: Error, at: Date): void {
    this.#restoreFailed.inc({ partition: String(partition) });
    this.#restoreFailures.push({ partition, message: err.message, at: at.toISOString() });
  }

  health(): ScaleHealthReport {
    const degraded = this.#holes.length > 0 || this.#restoreFailures.length > 0;
    return {
      status: degraded ? 'degraded' : 'ok',
      instanceId: this.#instanceId,
      ownedPartitions: [...this.#owned()],
      // The latest 100 of each: bounded whatever happens.
      deliveryHoles: this.#holes.slice(-100),
      restoreFailures: this.#restoreFailures.slice(-100),
    };
  }
}

/** Serves /health and /metrics; resolves with the bound port (port 0: any free one). */
export async function serveScaleStatus(
  status: ScaleStatus,
  host: string,
  port: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status.health()));
    } else if (req.method === 'GET' && path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(status.registry.render());
    } else {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `no route ${req.method} ${path}; use GET /health or GET /metrics` }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
