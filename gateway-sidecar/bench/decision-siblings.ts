/**
 * Latency of one operator decision (RecommendationService.decide, a rejection) against the number
 * of OTHER open recommendations of its pattern, which the decision's transaction updates with
 * their new pattern history (pg-recommendation-log.ts appendDecisionChanges). Real Postgres at
 * 127.0.0.1:5432, a fresh database per sibling count, one subscriber serialising every published
 * change as the SSE stream does. Not part of `npm run bench`; run by hand:
 *
 *   cd gateway-sidecar && npx tsx bench/decision-siblings.ts [siblings ...]   (default 0 10 100 200)
 *
 * Prints one JSON line per count: median / p90 / max ms over the measured decisions, how many
 * sibling changes each decision logged, and for comparison the median of the same rejection through
 * the plain `store.transition` (the decision path before sibling changes: no pattern lock, no
 * siblings; the service's own bookkeeping and publishing left out).
 */
import { openTarget } from '../test/fixtures/db-targets.ts';
import { buildHarness, coolingEvent, operator, T0 } from '../test/fixtures/recommendation-harness.ts';
import { decisionPatch } from '../src/app/decision.ts';
import { dedupKey, recommendationIdFor } from '../src/domain/dedup.ts';

const MIN = 60_000;
const WARMUP = 3;
const MEASURED = 20;

const counts = process.argv.slice(2).map(Number);
for (const siblings of counts.length > 0 ? counts : [0, 10, 100, 200]) {
  const target = await openTarget('postgres');
  try {
    const h = await buildHarness(target.pool);
    let bytes = 0;
    let published = 0;
    h.service.subscribe((c) => {
      bytes += JSON.stringify(c).length;
      published++;
    });
    let slot = 0;
    const raise = async (): Promise<string> => {
      const ts = T0 + ++slot * 7 * MIN;
      h.clock.advance(MIN);
      await h.service.onScored(coolingEvent(h, ts));
      return recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5));
    };
    for (let i = 0; i < siblings; i++) await raise();
    const ms: number[] = [];
    let logged = 0;
    let pushedBytes = 0;
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      // A new recommendation is decided each time, so `siblings` stay open.
      const id = await raise();
      published = 0;
      bytes = 0;
      const t = process.hrtime.bigint();
      await h.service.decide(id, { decision: 'reject', note: `bench ${i}`, expectedVersion: 1 }, operator());
      const dt = Number(process.hrtime.bigint() - t) / 1e6;
      if (i >= WARMUP) ms.push(dt);
      logged = published - 1;
      pushedBytes = bytes;
    }
    const plain: number[] = [];
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      const id = await raise();
      const now = h.clock.now();
      const request = { decision: 'reject' as const, note: `plain ${i}`, expectedVersion: 1 };
      const t = process.hrtime.bigint();
      await h.store.transition(id, now, (cur) =>
        decisionPatch(cur, request, operator(), now, { maxDeferMs: 86_400_000 }),
      );
      if (i >= WARMUP) plain.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    plain.sort((a, b) => a - b);
    ms.sort((a, b) => a - b);
    const at = (q: number): number =>
      Number((ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN).toFixed(2));
    console.log(
      JSON.stringify({
        openSiblings: siblings,
        siblingChangesPerDecision: logged,
        pushedBytesPerDecision: pushedBytes,
        decisions: ms.length,
        medianMs: at(0.5),
        p90Ms: at(0.9),
        maxMs: at(1),
        plainTransitionMedianMs: Number((plain[Math.floor(plain.length / 2)] ?? NaN).toFixed(2)),
      }),
    );
    await h.service.idle();
  } finally {
    await target.close();
  }
}
