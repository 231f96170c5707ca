/**
 * Reopening on the real API stack (Postgres, Recommendations service, HTTP, SSE, /metrics): a
 * REACTOR_01 cooling alarm led by Temperature is rejected over the API; two minutes later a
 * CoolantFlow-led anomaly of the same pattern and window arrives. The new recommendation reaches
 * SSE clients, GET one and GET list with `reopenedFrom` and `reopenReason`, the rejected one stays
 * rejected, and /metrics counts one reopening by its reason.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Recommendation } from '../../src/app/recommendation-service.ts';
import { eventIdOf, type ScoredReading } from '../../src/domain/detection.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';

const MIN = 60_000;
const REASON = 'Reopened: CoolantFlow now leads (the rejected alarm was led by Temperature)';

let h: ApiHarness;
before(async () => {
  h = await startApiHarness();
});
after(() => h.close());

/** An anomalous reading of a REACTOR_01 tag, as the harness's own raise() builds them. */
function reading(tagPath: string, value: number, z: number, tsMs: number): ScoredReading {
  const tag = h.index.sensorsByTag.get(tagPath);
  assert.ok(tag, tagPath);
  return {
    reading: {
      kind: 'sensor',
      tag,
      value,
      quality: 'good',
      sourceTimestampMs: tsMs,
      receivedTimestampMs: tsMs,
    },
    eventId: eventIdOf(tagPath, tsMs),
    features: { z_score: z, rolling_std: 1 },
    score: 0.95,
    ifScore: 0.9,
    rfScore: 0.97,
    isAnomaly: true,
    severity: 'high',
    modelVersion: 'test',
    explanation: [{ feature: 'z_score', sensorType: tag.sensorType, tagPath, value: z, weight: 0.5 }],
  };
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${h.base}${path}`, { headers: auth(TOKENS.viewer) });
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

test('a reopened recommendation is served with its link and reason on SSE, GET one, GET list; /metrics counts it', async () => {
  // The start of a 5-minute window an hour ago (same window for both batches).
  const t = Math.floor((Date.now() - 60 * MIN) / (5 * MIN)) * 5 * MIN + 10_000;
  assert.equal(await h.raise(t), 1);
  const [first] = (await getJson<{ items: Recommendation[] }>('/api/recommendations?equipment=REACTOR_01'))
    .items;
  assert.ok(first);
  const res = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(first.id)}/decision`, {
    method: 'POST',
    headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
    body: JSON.stringify({ decision: 'reject', note: 'motor cool-down', expectedVersion: first.version }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(
    ((await res.json()) as Recommendation).reopenedFrom,
    null,
    'a first recommendation has no link',
  );

  const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
  try {
    await stream.waitForComment((c) => c === 'ready');
    const flowLed = [
      reading('[default]Reactors/R01/CoolantFlow', 12, -4, t + 2 * MIN),
      reading('[default]Reactors/R01/Temperature', 86, 4, t + 2 * MIN),
    ];
    assert.equal(await h.recs.onScored(flowLed), 1);
    const ev = await stream.next((e) => {
      const r = e.event === 'recommendation' ? (JSON.parse(e.data) as Change).recommendation : undefined;
      return r !== undefined && r.id !== first.id;
    });
    const pushed = (JSON.parse(ev.data) as Change).recommendation as Recommendation;
    assert.equal(pushed.status, 'pending');
    assert.equal(pushed.reopenedFrom, first.id);
    assert.equal(pushed.reopenReason, REASON);
    const one = (await getJson<{ recommendation: Recommendation }>(`/api/recommendations/${pushed.id}`))
      .recommendation;
    assert.equal(one.reopenedFrom, first.id);
    assert.equal(one.reopenReason, REASON);
    const items = (await getJson<{ items: Recommendation[] }>('/api/recommendations?equipment=REACTOR_01'))
      .items;
    assert.deepEqual(
      items.map((r) => [r.id, r.status, r.reopenedFrom ?? null, r.reopenReason ?? null]).sort(),
      [
        [first.id, 'rejected', null, null],
        [pushed.id, 'pending', first.id, REASON],
      ].sort(),
    );
  } finally {
    stream.close();
  }
  const metrics = await (await fetch(`${h.base}/metrics`)).text();
  assert.match(metrics, /# TYPE sidecar_recommendations_reopened_total counter/);
  assert.match(metrics, /sidecar_recommendations_reopened_total\{reason="top_tag"\} 1/);
  assert.match(metrics, /sidecar_recommendations_reopened_total\{reason="severity"\} 0/);
});
