/**
 * Scale-out throughput on the real NATS JetStream + Postgres: 1, 2 and 3 worker processes
 * (`src/cli/scale-worker.ts`) share 12 partitions of a 48-equipment stream. Events are published
 * first; the clock runs from the moment the workers (already started, leases settled) see the
 * first event until every event has its silver row. Result: events/s keyed by instance count.
 * Every worker scores with the shipped ONNX ensemble and writes bronze, silver and recommendations.
 */
import {
  countOf,
  eventStream,
  openScaleLab,
  publish,
  SCORED_EVENTS_SQL,
  startWorker,
  stopWorker,
  until,
} from '../test/fixtures/scale-harness.ts';

const EQUIPMENT = 48;
const TICKS = 60; // 5,760 events

async function measure(instances: number): Promise<number> {
  const lab = await openScaleLab('sc_scale_bench', 2, {
    equipment: EQUIPMENT,
    partitions: 12,
    batchSize: 500,
  });
  const { run } = lab;
  const workers = Array.from({ length: instances }, (_, i) => startWorker(run, `w${i}`));
  try {
    await Promise.all(workers.map((w) => w.ready));
    await new Promise((r) => setTimeout(r, 3_000)); // lease shares settle
    const events = eventStream(EQUIPMENT, TICKS);
    await publish(run, events);
    const total = (): number => workers.reduce((s, w) => s + w.processed(), 0);
    // Timed on the workers' own commits, from the first to the last (publishing is not measured).
    await until(() => total() > 0, 'first commit', 120_000);
    const t0 = performance.now();
    const before = total();
    await until(() => total() >= events.length, 'all events', 600_000);
    const seconds = (performance.now() - t0) / 1_000;
    const scored = await countOf(lab.pool, SCORED_EVENTS_SQL);
    if (scored !== events.length) throw new Error(`silver has ${scored} of ${events.length} events`);
    return Math.round((events.length - before) / Math.max(seconds, 1e-3));
  } finally {
    for (const w of workers) await stopWorker(w);
    await lab.close();
  }
}

export async function run(): Promise<{ scale_events_per_s: Record<'1' | '2' | '3', number> }> {
  return { scale_events_per_s: { '1': await measure(1), '2': await measure(2), '3': await measure(3) } };
}
