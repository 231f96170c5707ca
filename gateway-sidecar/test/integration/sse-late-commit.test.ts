/**
 * GET /api/stream on the real stack when changes are published out of seq order: a change whose
 * transaction took its change-log seq first but committed after a newer one (a database trigger on
 * this test database holds that commit for 800 ms) still reaches a live client, once, after the
 * newer one (src/adapters/http/sse.ts de-duplicates by the seqs it sent, not by the largest).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/app/recommendation-service.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';

describe('SSE stream, late commits', () => {
  let h: ApiHarness;
  const t0 = Date.now() - 3 * 60 * 60_000;
  before(async () => {
    h = await startApiHarness();
  });
  after(() => h.close());

  test('a change committed after a newer one (its transaction took its seq first) still reaches live clients', async () => {
    // Two transactions: the decision on A takes its change-log seq, then (a trigger on this test
    // database holds its commit for 800 ms) a new recommendation for PUMP_02 takes a larger seq,
    // commits and is published first. Live clients must get both, the smaller seq after the larger.
    await h.raise(t0 + 150 * 60_000);
    const listed = (await (
      await fetch(`${h.base}/api/recommendations?equipment=REACTOR_01&status=pending&limit=50`, {
        headers: auth(TOKENS.viewer),
      })
    ).json()) as { items: { id: string; version: number; anomalyAt: string }[] };
    const a = listed.items.find((r) => Date.parse(r.anomalyAt) === t0 + 150 * 60_000);
    assert.ok(a, 'the REACTOR_01 recommendation to decide');
    await h.pool
      .query(`CREATE OR REPLACE FUNCTION pg_temp_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN PERFORM pg_sleep(0.8); RETURN NULL; END $f$`);
    await h.pool.query(
      `CREATE TRIGGER sse_hold_commit AFTER INSERT ON agentic_hmi.recommendation_changes
         FOR EACH ROW WHEN (NEW.subject_id = '${a.id.replace(/'/g, "''")}' AND NEW.payload->>'status' = 'rejected')
         EXECUTE FUNCTION pg_temp_hold_commit()`,
    );
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    try {
      await stream.waitForComment((c) => c === 'ready');
      const decided = fetch(`${h.base}/api/recommendations/${encodeURIComponent(a.id)}/decision`, {
        method: 'POST',
        headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
        body: JSON.stringify({ decision: 'reject', note: 'late commit test', expectedVersion: a.version }),
      });
      await new Promise((r) => setTimeout(r, 300));
      await h.raise(t0 + 155 * 60_000, { equipment: 'PUMP_02' });
      assert.equal((await decided).status, 200);
      const pump = await stream.next(
        (e) => (JSON.parse(e.data) as Change).recommendation?.equipmentId === 'PUMP_02',
      );
      const late = await stream.next(
        (e) =>
          (JSON.parse(e.data) as Change).recommendation?.id === a.id &&
          (JSON.parse(e.data) as Change).recommendation?.status === 'rejected',
        5_000,
      );
      assert.ok(
        Number(late.id) < Number(pump.id),
        `the decision's seq ${late.id} is below the newer change's ${pump.id}`,
      );
      assert.ok(stream.events.indexOf(late) > stream.events.indexOf(pump), 'and it arrived after it');
      assert.equal(stream.events.filter((e) => e.id === late.id).length, 1, 'once');
    } finally {
      stream.close();
      await h.pool.query('DROP TRIGGER IF EXISTS sse_hold_commit ON agentic_hmi.recommendation_changes');
      await h.pool.query('DROP FUNCTION IF EXISTS pg_temp_hold_commit()');
    }
  });
});
