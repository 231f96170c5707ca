/**
 * `patternHistory` on the real API stack (Postgres, Recommendations service, simulated plant
 * writer, HTTP): earlier recommendations of REACTOR_01 × its issue are decided over the API
 * (approved twice, rejected once with a note, deferred once) and one of PUMP_02 is rejected; then a
 * new REACTOR_01 recommendation carries "2 approved, 1 rejected, the rejection's note" on the SSE
 * change that announces it, on GET one and on GET list. Its own decision never counts, a deferral
 * never counts, the other pattern never mixes in, and a pattern without decisions has zeros.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Recommendation } from '../../src/app/recommendation-service.ts';
import type { PatternHistory } from '../../src/domain/recommendation-view.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';

const MIN = 60_000;
const NOTE = 'normal cool-down after start-up';
const PUMP_NOTE = 'bearing replaced yesterday, running in';
const NONE: PatternHistory = { approved: 0, rejected: 0, lastRejectionNote: null, lastDecidedAt: null };

let h: ApiHarness;
/** Each raise gets its own dedup window (5 min), so each is a new recommendation. */
const t0 = Date.now() - 3 * 60 * MIN;
let slot = 0;

before(async () => {
  h = await startApiHarness();
});
after(() => h.close());

async function getOne(id: string): Promise<Recommendation> {
  const res = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(id)}`, {
    headers: auth(TOKENS.viewer),
  });
  assert.equal(res.status, 200, id);
  return ((await res.json()) as { recommendation: Recommendation }).recommendation;
}

async function list(query = ''): Promise<Recommendation[]> {
  const res = await fetch(`${h.base}/api/recommendations?limit=500${query}`, {
    headers: auth(TOKENS.viewer),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: Recommendation[] }).items;
}

/** A new recommendation of `equipment`, found by id among the ones that existed before. */
async function raiseNew(equipment: 'REACTOR_01' | 'PUMP_02'): Promise<Recommendation> {
  const known = new Set((await list()).map((r) => r.id));
  assert.equal(await h.raise(t0 + slot++ * 7 * MIN, { equipment }), 1);
  const fresh = (await list()).filter((r) => !known.has(r.id));
  assert.equal(fresh.length, 1, JSON.stringify(fresh));
  return fresh[0] as Recommendation;
}

async function decide(
  rec: Recommendation,
  body: Record<string, unknown>,
  token: string,
): Promise<Recommendation> {
  const res = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(rec.id)}/decision`, {
    method: 'POST',
    headers: auth(token, { 'content-type': 'application/json' }),
    body: JSON.stringify({ ...body, expectedVersion: rec.version }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Recommendation;
}

/** Approves (a second operator too when the two-person rule asks); executed or failed both count. */
async function approve(rec: Recommendation): Promise<Recommendation> {
  let cur = await decide(rec, { decision: 'approve' }, TOKENS.operator);
  if (cur.status === 'pending') cur = await decide(cur, { decision: 'approve' }, TOKENS.operator2);
  assert.ok(['approved', 'executed', 'failed'].includes(cur.status), cur.status);
  return cur;
}

test('a pattern’s earlier decisions reach a new recommendation on SSE, GET one and GET list', async () => {
  const a1 = await raiseNew('REACTOR_01');
  const a2 = await raiseNew('REACTOR_01');
  const a3 = await raiseNew('REACTOR_01');
  const a4 = await raiseNew('REACTOR_01');
  const p1 = await raiseNew('PUMP_02');
  assert.notEqual(p1.issueType, a1.issueType, 'the pump is another pattern (its own issue too)');
  // No decisions yet: every pattern's history is zeros (never absent, never null).
  for (const r of [a1, a2, a3, a4, p1]) assert.deepEqual(r.patternHistory, NONE, r.id);
  assert.deepEqual((await getOne(a4.id)).patternHistory, NONE);

  await approve(a1);
  await approve(a2);
  const rejected = await decide(a3, { decision: 'reject', note: NOTE }, TOKENS.operator);
  assert.equal(rejected.status, 'rejected');
  const deferred = await decide(
    a4,
    { decision: 'defer', deferUntil: new Date(Date.now() + 60 * MIN).toISOString() },
    TOKENS.operator,
  );
  assert.equal(deferred.status, 'deferred');
  // The decision answer carries it too: the three decided others, none of them itself.
  assert.deepEqual(deferred.patternHistory, {
    approved: 2,
    rejected: 1,
    lastRejectionNote: NOTE,
    lastDecidedAt: rejected.decidedAt,
  });
  assert.equal(
    (await decide(p1, { decision: 'reject', note: PUMP_NOTE }, TOKENS.operator)).status,
    'rejected',
  );

  const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
  try {
    await stream.waitForComment((c) => c === 'ready');
    const before = new Set((await list()).map((r) => r.id));
    assert.equal(await h.raise(t0 + slot++ * 7 * MIN), 1);
    const ev = await stream.next((e) => {
      if (e.event !== 'recommendation') return false;
      const r = (JSON.parse(e.data) as Change).recommendation;
      return r !== undefined && r.equipmentId === 'REACTOR_01' && !before.has(r.id);
    }, 10_000);
    const pushed = (JSON.parse(ev.data) as Change).recommendation as Recommendation;
    const expected: PatternHistory = {
      approved: 2,
      rejected: 1,
      lastRejectionNote: NOTE,
      // The newest counted decision is the rejection: the later deferral does not count.
      lastDecidedAt: rejected.decidedAt,
    };
    assert.ok(deferred.decidedAt !== null && rejected.decidedAt !== null);
    assert.ok(Date.parse(deferred.decidedAt) >= Date.parse(rejected.decidedAt));
    assert.deepEqual(pushed.patternHistory, expected, 'on the SSE change of the new recommendation');
    assert.equal(pushed.status, 'pending');
    assert.deepEqual((await getOne(pushed.id)).patternHistory, expected, 'GET one');
    const items = await list();
    assert.deepEqual(items.find((r) => r.id === pushed.id)?.patternHistory, expected, 'GET list');

    // Its own decision never counts: the rejected one sees the two approvals and no rejection,
    // and its newest other decision is the second approval.
    const a2now = await getOne(a2.id);
    assert.deepEqual((await getOne(a3.id)).patternHistory, {
      approved: 2,
      rejected: 0,
      lastRejectionNote: null,
      lastDecidedAt: a2now.decidedAt,
    });
    assert.deepEqual((await getOne(a1.id)).patternHistory, {
      approved: 1,
      rejected: 1,
      lastRejectionNote: NOTE,
      lastDecidedAt: rejected.decidedAt,
    });
    // The pump's own rejection is all its pattern has: zeros, and its note is nowhere else.
    assert.deepEqual((await getOne(p1.id)).patternHistory, NONE);
    for (const r of items) assert.notEqual(r.patternHistory?.lastRejectionNote, PUMP_NOTE, r.id);
    // A new pump recommendation sees the pump's rejection, not the reactor's decisions.
    const p2 = await raiseNew('PUMP_02');
    assert.equal(p2.patternHistory?.approved, 0);
    assert.equal(p2.patternHistory?.rejected, 1);
    assert.equal(p2.patternHistory?.lastRejectionNote, PUMP_NOTE);

    // The list and GET one agree for every recommendation on the page (one grouped query vs one).
    for (const r of await list())
      assert.deepEqual(r.patternHistory, (await getOne(r.id)).patternHistory, r.id);
    // A filtered page computes the same history: it does not depend on what else is on the page.
    const [only] = await list(`&status=pending&equipment=REACTOR_01`);
    assert.equal(only?.id, pushed.id);
    assert.deepEqual(only?.patternHistory, expected);
  } finally {
    stream.close();
  }
});

test('the SSE replay (Last-Event-ID) serves the history as it was logged with the change', async () => {
  const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer, { 'last-event-id': '0' }));
  try {
    await stream.waitForComment((c) => c === 'ready');
    const recs = stream.events
      .filter((e) => e.event === 'recommendation')
      .map((e) => (JSON.parse(e.data) as Change).recommendation as Recommendation);
    assert.ok(recs.length > 0);
    for (const r of recs) {
      assert.ok(r.patternHistory, `every logged change has it: ${r.id} v${r.version}`);
      assert.equal(typeof r.patternHistory.approved, 'number');
    }
    // The first change of the first reactor recommendation was logged before any decision.
    const firstReactor = recs.find((r) => r.equipmentId === 'REACTOR_01');
    assert.deepEqual(firstReactor?.patternHistory, NONE);
  } finally {
    stream.close();
  }
});
