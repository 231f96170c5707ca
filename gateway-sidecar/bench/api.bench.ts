/**
 * API bench: list latency and decisions/s under concurrent clients, on the real stack (createHttpApp,
 * the Recommendations service, PgRecommendationStore on the local Postgres), via the api-harness
 * fixture. Pending recommendations are seeded through the store's own upsert so every decision acts
 * on a distinct one. Clients are concurrent keep-alive fetch loops in the same process as the
 * server (one event loop for both on this machine), so the figures are a lower bound.
 * Latencies go into HDR histograms; each phase warms up first and reports how many requests it made.
 */
import { loadavg } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { PgRecommendationStore } from '../src/adapters/pg-recommendation-store.ts';
import { auth, startApiHarness, TOKENS } from '../test/fixtures/api-harness.ts';

const CLIENTS = Number(process.env.BENCH_API_CLIENTS ?? 16);
const LIST_SECONDS = Number(process.env.BENCH_API_LIST_SECONDS ?? 5);
const LIST_ROUNDS = 3;
const DECISIONS = Number(process.env.BENCH_API_DECISIONS ?? 1000);
const SEED_RECS = DECISIONS + 200;

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Runs `clients` loops calling `once` until it returns false; records each call's latency in µs. */
async function load(
  clients: number,
  h: hdr.Histogram,
  once: () => Promise<boolean>,
): Promise<{ requests: number; seconds: number }> {
  let requests = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const s = performance.now();
        if (!(await once())) return;
        h.recordValue(Math.max(1, Math.round((performance.now() - s) * 1000)));
        requests++;
      }
    }),
  );
  return { requests, seconds: (performance.now() - t0) / 1000 };
}

const ms = (h: hdr.Histogram, p: number): number => Math.round(h.getValueAtPercentile(p)) / 1000;

export async function run(): Promise<Record<string, number | string>> {
  // Other work on the host skews these figures; the 1-minute load average goes into the results.
  const loadBefore = loadavg()[0] as number;
  const harness = await startApiHarness({ rateLimitPerMinute: 100_000_000 });
  try {
    const store = new PgRecommendationStore(harness.pool);
    const base = Date.now() - 30 * 86_400_000;
    const ids: string[] = [];
    for (let i = 0; i < SEED_RECS; i += 16) {
      const batch = Array.from({ length: Math.min(16, SEED_RECS - i) }, (_, k) => i + k);
      const out = await Promise.all(
        batch.map((n) =>
          store.upsert({
            id: `rec-bench-${n}`,
            dedupKey: `bench|${n}`,
            equipmentId: n % 2 === 0 ? 'REACTOR_01' : 'PUMP_02',
            area: n % 2 === 0 ? 'Reactors' : 'Utilities',
            issueType: 'bench_issue',
            severity: (['low', 'medium', 'high', 'critical'] as const)[n % 4] as 'low',
            anomalyScore: 0.9,
            confidence: 0.8,
            text: `Bench recommendation ${n}: inspect the equipment.`,
            explanation: [],
            proposedAction: null,
            anomalyAtMs: base + n * 60_000,
            eventIds: [`bench-ev-${n}`],
            groupedItems: [],
            nowMs: base + n * 60_000,
          }),
        ),
      );
      for (const o of out) if (o.outcome === 'inserted') ids.push(o.recommendation.id);
    }
    if (ids.length !== SEED_RECS) throw new Error(`seeded ${ids.length} of ${SEED_RECS} recommendations`);

    const viewer = auth(TOKENS.viewer);
    const listUrl = `${harness.base}/api/recommendations?status=pending&limit=50`;
    const list = async (): Promise<void> => {
      const r = await fetch(listUrl, { headers: viewer });
      if (r.status !== 200) throw new Error(`list answered ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    };
    // Warm-up: JIT, pool connections, keep-alive sockets.
    const warm = histogram();
    let warmLeft = 300;
    await load(CLIENTS, warm, async () => (warmLeft-- > 0 ? (await list(), true) : false));

    const listH = histogram();
    const listRates: number[] = [];
    let listRequests = 0;
    for (let round = 0; round < LIST_ROUNDS; round++) {
      const until = performance.now() + LIST_SECONDS * 1000;
      const r = await load(CLIENTS, listH, async () =>
        performance.now() < until ? (await list(), true) : false,
      );
      listRates.push(r.requests / r.seconds);
      listRequests += r.requests;
    }
    listRates.sort((a, b) => a - b);

    // Decisions: each worker takes the next distinct pending recommendation; approve and reject alternate.
    const decH = histogram();
    let next = 0;
    const conflicts: string[] = [];
    const operator = auth(TOKENS.operator, { 'content-type': 'application/json' });
    const decide = async (): Promise<boolean> => {
      const i = next++;
      const id = ids[i];
      if (id === undefined || i >= DECISIONS) return false;
      const body =
        i % 2 === 0
          ? { decision: 'approve', expectedVersion: 1 }
          : { decision: 'reject', expectedVersion: 1, note: `bench reject ${i}` };
      const r = await fetch(`${harness.base}/api/recommendations/${id}/decision`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify(body),
      });
      const text = await r.text();
      if (r.status !== 200) conflicts.push(`${r.status} ${text.slice(0, 120)}`);
      return true;
    };
    const dec = await load(CLIENTS, decH, decide);
    if (conflicts.length > 0) throw new Error(`${conflicts.length} decisions failed, e.g. ${conflicts[0]}`);
    const decided = await harness.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM agentic_hmi.agent_recommendations WHERE issue_type = 'bench_issue' AND status IN ('approved', 'rejected')`,
    );
    if (Number(decided.rows[0]?.n) !== DECISIONS)
      throw new Error(`expected ${DECISIONS} decided rows, found ${decided.rows[0]?.n}`);

    return {
      api_list_p50_ms: ms(listH, 50),
      api_list_p99_ms: ms(listH, 99),
      api_list_req_per_s: Math.round(listRates[Math.floor(listRates.length / 2)] as number),
      api_list_requests: listRequests,
      api_list_rounds: LIST_ROUNDS,
      api_list_page: 50,
      api_decisions_per_s: Math.round(dec.requests / dec.seconds),
      api_decision_p50_ms: ms(decH, 50),
      api_decision_p99_ms: ms(decH, 99),
      api_decisions: dec.requests,
      api_clients: CLIENTS,
      api_seeded_recommendations: SEED_RECS,
      api_load_average_1m: Math.round(Math.max(loadBefore, loadavg()[0] as number) * 10) / 10,
      api_conditions: `${CLIENTS} concurrent keep-alive fetch clients in the server's process; Postgres 127.0.0.1; list = GET pending page of 50 over ${SEED_RECS} rows, ${LIST_ROUNDS} x ${LIST_SECONDS} s after 300 warm-up requests; decisions = alternating approve / reject-with-note on distinct recommendations, each a transaction with an audit row`,
    };
  } finally {
    await harness.close();
  }
}
