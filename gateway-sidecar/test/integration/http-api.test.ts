/**
 * The operator API end to end on the real stack (Postgres, Recommendations service, simulated
 * plant writer): list/filter/page, get with history, decisions with validation, roles, optimistic
 * concurrency, the setpoint write on approval, revert, gateway identity, shelving, health, metrics,
 * and the per-route, per-code refusal counters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY_HEADER, signIdentity } from '../../src/adapters/http/gateway-identity.ts';
import { SidecarMetrics } from '../../src/adapters/prom-metrics.ts';
import type { Recommendation } from '../../src/app/recommendation-service.ts';
import { auth, SECRET, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';

interface ErrorBody {
  code: string;
  message: string;
}

describe('operator API', () => {
  let h: ApiHarness;
  const t0 = Date.now() - 60 * 60_000;
  let reactor: Recommendation;
  let pump: Recommendation;

  before(async () => {
    h = await startApiHarness();
    assert.equal(await h.raise(t0), 1);
    assert.equal(await h.raise(t0 + 1000, { equipment: 'PUMP_02' }), 1);
    const list = (await (
      await fetch(`${h.base}/api/recommendations`, { headers: auth(TOKENS.viewer) })
    ).json()) as { items: Recommendation[] };
    reactor = list.items.find((r) => r.equipmentId === 'REACTOR_01') as Recommendation;
    pump = list.items.find((r) => r.equipmentId === 'PUMP_02') as Recommendation;
    assert.ok(reactor && pump, 'both recommendations exist');
  });
  after(() => h.close());

  test('everything under /api needs credentials (401 with code and message)', async () => {
    for (const [method, path] of [
      ['GET', '/api/recommendations'],
      ['GET', `/api/recommendations/${reactor.id}`],
      ['POST', `/api/recommendations/${reactor.id}/decision`],
      ['GET', '/api/stream'],
      ['GET', '/api/critical-alerts'],
    ] as const) {
      const res = await fetch(`${h.base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      assert.equal(res.status, 401, `${method} ${path}`);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, 'SC_ERR_API_UNAUTHENTICATED');
      assert.ok(body.message.length > 0);
    }
  });

  test('list filters by status, equipment and severity, and pages', async () => {
    const get = async (
      q: string,
    ): Promise<{ items: Recommendation[]; total: number; limit: number; offset: number }> => {
      const res = await fetch(`${h.base}/api/recommendations${q}`, { headers: auth(TOKENS.viewer) });
      assert.equal(res.status, 200, q);
      return (await res.json()) as { items: Recommendation[]; total: number; limit: number; offset: number };
    };
    const all = await get('');
    assert.equal(all.total, 2);
    const byEq = await get('?equipment=PUMP_02');
    assert.deepEqual(
      byEq.items.map((r) => r.id),
      [pump.id],
    );
    const byAlias = await get('?equipmentId=REACTOR_01');
    assert.deepEqual(
      byAlias.items.map((r) => r.id),
      [reactor.id],
    );
    assert.equal((await get('?status=pending,deferred')).total, 2);
    assert.equal((await get('?status=rejected')).total, 0);
    assert.equal(
      (await get(`?severity=${reactor.severity}`)).items.some((r) => r.id === reactor.id),
      true,
    );
    const page1 = await get('?limit=1&offset=0');
    const page2 = await get('?limit=1&offset=1');
    assert.equal(page1.items.length, 1);
    assert.equal(page2.items.length, 1);
    assert.notEqual(page1.items[0]?.id, page2.items[0]?.id);
    assert.equal(page1.total, 2);
  });

  test('bad query parameters are 400 naming the field', async () => {
    for (const [q, field] of [
      ['?limit=0', 'limit'],
      ['?limit=abc', 'limit'],
      ['?offset=-1', 'offset'],
      ['?status=bogus', 'status'],
      ['?severity=extreme', 'severity'],
      ['?equipment=bad%20id', 'equipment'],
      ['?colour=red', 'unknown field'],
    ] as const) {
      const res = await fetch(`${h.base}/api/recommendations${q}`, { headers: auth(TOKENS.viewer) });
      assert.equal(res.status, 400, q);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.code, 'SC_ERR_API_VALIDATION');
      assert.ok(body.message.includes(field), `${q}: '${body.message}' names ${field}`);
    }
  });

  test('get one returns it with its history; unknown is 404, malformed id 400', async () => {
    const res = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(reactor.id)}`, {
      headers: auth(TOKENS.viewer),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { recommendation: Recommendation; history: unknown[] };
    assert.equal(body.recommendation.id, reactor.id);
    assert.ok(Array.isArray(body.history) && body.history.length >= 1, 'creation is in the history');
    const missing = await fetch(`${h.base}/api/recommendations/no-such-id`, { headers: auth(TOKENS.viewer) });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as ErrorBody).code, 'SC_ERR_API_NOT_FOUND');
    const bad = await fetch(`${h.base}/api/recommendations/${encodeURIComponent('a b<c>')}`, {
      headers: auth(TOKENS.viewer),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as ErrorBody).message, /^id:/);
  });

  test('decision input is validated: 400 naming the field, 413 when too large, 403 for a viewer', async () => {
    const post = (token: string, body: string): Promise<Response> =>
      fetch(`${h.base}/api/recommendations/${encodeURIComponent(pump.id)}/decision`, {
        method: 'POST',
        headers: auth(token, { 'content-type': 'application/json' }),
        body,
      });
    const cases: [string, string][] = [
      ['{"decision":"approve"}', 'expectedVersion'],
      ['{"decision":"maybe","expectedVersion":1}', 'decision'],
      ['{"decision":"reject","expectedVersion":1}', 'note'],
      ['{"decision":"defer","expectedVersion":1}', 'deferUntil'],
      ['{"decision":"defer","expectedVersion":1,"deferUntil":"tomorrow"}', 'deferUntil'],
      ['{"decision":"approve","expectedVersion":"1"}', 'expectedVersion'],
      ['{"decision":"approve","expectedVersion":1,"admin":true}', 'admin'],
      ['[1,2]', 'request'],
    ];
    for (const [body, field] of cases) {
      const res = await post(TOKENS.operator, body);
      assert.equal(res.status, 400, body);
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.code, 'SC_ERR_API_VALIDATION');
      assert.ok(err.message.includes(field), `${body}: '${err.message}' names ${field}`);
    }
    const big = await post(
      TOKENS.operator,
      JSON.stringify({ decision: 'reject', note: 'x'.repeat(20_000), expectedVersion: 1 }),
    );
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as ErrorBody).code, 'SC_ERR_API_PAYLOAD_TOO_LARGE');
    const viewer = await post(
      TOKENS.viewer,
      JSON.stringify({ decision: 'approve', expectedVersion: pump.version }),
    );
    assert.equal(viewer.status, 403);
    assert.equal(((await viewer.json()) as ErrorBody).code, 'SC_ERR_API_FORBIDDEN');
    // Nothing of the above changed it.
    const after = (await (
      await fetch(`${h.base}/api/recommendations/${encodeURIComponent(pump.id)}`, {
        headers: auth(TOKENS.viewer),
      })
    ).json()) as { recommendation: Recommendation };
    assert.equal(after.recommendation.status, 'pending');
    assert.equal(after.recommendation.version, pump.version);
  });

  test('two operators deciding the same version: one wins, the other gets 409', async () => {
    await h.raise(t0 + 20 * 60_000, { equipment: 'PUMP_02' });
    const list = (await (
      await fetch(`${h.base}/api/recommendations?equipment=PUMP_02&status=pending`, {
        headers: auth(TOKENS.viewer),
      })
    ).json()) as { items: Recommendation[] };
    const target = list.items.find((r) => r.id !== pump.id) ?? pump;
    const decide = (token: string, body: object): Promise<Response> =>
      fetch(`${h.base}/api/recommendations/${encodeURIComponent(target.id)}/decision`, {
        method: 'POST',
        headers: auth(token, { 'content-type': 'application/json' }),
        body: JSON.stringify({ ...body, expectedVersion: target.version }),
      });
    const [a, b] = await Promise.all([
      decide(TOKENS.operator, { decision: 'reject', note: 'known vibration from maintenance' }),
      decide(TOKENS.operator2, {
        decision: 'defer',
        deferUntil: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    ]);
    const statuses = [a.status, b.status].sort();
    assert.deepEqual(statuses, [200, 409]);
    const loser = a.status === 409 ? a : b;
    assert.equal(((await loser.json()) as ErrorBody).code, 'SC_ERR_API_CONFLICT');
    const history = (await (
      await fetch(`${h.base}/api/recommendations/${encodeURIComponent(target.id)}`, {
        headers: auth(TOKENS.viewer),
      })
    ).json()) as {
      recommendation: Recommendation;
      history: { toStatus: string | null }[];
    };
    assert.ok(['rejected', 'deferred'].includes(history.recommendation.status));
    assert.equal(history.recommendation.version, target.version + 1);
  });

  test('approval through a gateway identity counts; a second operator executes the write (two-person rule); forged and replayed identities are 401', async () => {
    const path = `/api/recommendations/${encodeURIComponent(reactor.id)}/decision`;
    const body = JSON.stringify({ decision: 'approve', expectedVersion: reactor.version });
    const forged = signIdentity('not-the-gateway-secret-but-long-enough-0000', {
      user: 'mallory',
      roles: ['Operator'],
      method: 'POST',
      path,
    });
    const f = await fetch(`${h.base}${path}`, {
      method: 'POST',
      headers: { [IDENTITY_HEADER]: forged, 'content-type': 'application/json' },
      body,
    });
    assert.equal(f.status, 401);
    assert.equal(((await f.json()) as ErrorBody).code, 'SC_ERR_IDENTITY_INVALID');

    const spBefore = h.plant.readTag('[default]Reactors/R01/Throughput_SP');
    const header = signIdentity(SECRET, {
      user: 'ignition.operator',
      roles: ['Operator'],
      method: 'POST',
      path,
    });
    const ok = await fetch(`${h.base}${path}`, {
      method: 'POST',
      headers: { [IDENTITY_HEADER]: header, 'content-type': 'application/json' },
      body,
    });
    assert.equal(ok.status, 200);
    const first = (await ok.json()) as Recommendation;
    assert.ok(first.proposedAction, 'the cooling recommendation proposes a throughput change');
    // 80 % -> 64 % is more than 20 % of the range: the two-person rule holds the write for a second approver.
    assert.equal(first.proposedAction?.requiresSecondApprover, true);
    assert.equal(first.status, 'pending');
    assert.deepEqual(
      first.approvals?.map((a) => a.user),
      ['ignition.operator'],
    );
    assert.equal(
      h.plant.readTag('[default]Reactors/R01/Throughput_SP'),
      spBefore,
      'no write after one approval',
    );

    const second = await fetch(`${h.base}${path}`, {
      method: 'POST',
      headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
      body: JSON.stringify({ decision: 'approve', expectedVersion: first.version }),
    });
    assert.equal(second.status, 200);
    const decided = (await second.json()) as Recommendation;
    assert.equal(decided.status, 'executed', JSON.stringify(decided.writeResult));
    assert.equal(h.plant.readTag('[default]Reactors/R01/Throughput_SP'), decided.proposedAction?.newValue);
    assert.notEqual(spBefore, decided.proposedAction?.newValue);

    const replay = await fetch(`${h.base}${path}`, {
      method: 'POST',
      headers: { [IDENTITY_HEADER]: header, 'content-type': 'application/json' },
      body,
    });
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as ErrorBody).code, 'SC_ERR_IDENTITY_REPLAYED');
    reactor = decided;
  });

  test('revert is for engineers only, and writes the previous value back', async () => {
    const path = `${h.base}/api/recommendations/${encodeURIComponent(reactor.id)}/revert`;
    const asOperator = await fetch(path, {
      method: 'POST',
      headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
      body: '{"note":"undo"}',
    });
    assert.equal(asOperator.status, 403);
    const noNote = await fetch(path, {
      method: 'POST',
      headers: auth(TOKENS.engineer, { 'content-type': 'application/json' }),
      body: '{}',
    });
    assert.equal(noNote.status, 400);
    assert.match(((await noNote.json()) as ErrorBody).message, /note/);
    const res = await fetch(path, {
      method: 'POST',
      headers: auth(TOKENS.engineer, { 'content-type': 'application/json' }),
      body: '{"note":"plant stable again"}',
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(
      h.plant.readTag('[default]Reactors/R01/Throughput_SP'),
      reactor.proposedAction?.currentValue,
    );
  });

  test('shelving needs an operator and a reason', async () => {
    const body = {
      equipmentId: 'CONVEYOR_03',
      issueType: '*',
      reason: 'belt replacement',
      durationMinutes: 60,
    };
    const viewer = await fetch(`${h.base}/api/shelves`, {
      method: 'POST',
      headers: auth(TOKENS.viewer, { 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(viewer.status, 403);
    const noReason = await fetch(`${h.base}/api/shelves`, {
      method: 'POST',
      headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
      body: JSON.stringify({ ...body, reason: '' }),
    });
    assert.equal(noReason.status, 400);
    assert.match(((await noReason.json()) as ErrorBody).message, /reason/);
    const ok = await fetch(`${h.base}/api/shelves`, {
      method: 'POST',
      headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
      body: JSON.stringify(body),
    });
    assert.equal(ok.status, 201);
    const list = (await (await fetch(`${h.base}/api/shelves`, { headers: auth(TOKENS.viewer) })).json()) as {
      items: { equipmentId: string }[];
    };
    assert.ok(list.items.some((s) => s.equipmentId === 'CONVEYOR_03'));
  });

  test('/health needs no auth; /metrics counts decisions', async () => {
    const health = await fetch(`${h.base}/health`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    assert.match(metrics, /sidecar_decisions_total\{decision="approve",outcome="ok"\} 2/);
    assert.match(metrics, /sidecar_decisions_total\{decision="(reject|defer)",outcome="conflict"\} 1/);
    assert.match(metrics, /# TYPE sidecar_event_to_push_seconds histogram/);
  });

  test('unknown routes answer 404 in the error shape', async () => {
    const res = await fetch(`${h.base}/api/nothing-here`, { headers: auth(TOKENS.viewer) });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as ErrorBody).code, 'SC_ERR_API_NOT_FOUND');
  });
});

describe('refusal counters (sidecar_http_refusals_total)', () => {
  const counted = new SidecarMetrics();
  let h: ApiHarness;
  before(async () => {
    // Per identity: the viewer's 7th request below is the limit (docs/api.md, rate limit).
    h = await startApiHarness({ rateLimitPerMinute: 7, overrides: { refusalObserver: counted } });
  });
  after(() => h.close());

  test('every 4xx is counted once by route pattern, status and code; successes are not', async () => {
    const go = (path: string, init: RequestInit = {}) =>
      fetch(`${h.base}${path}`, init).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const json = (token: string) => auth(token, { 'content-type': 'application/json' });
    assert.equal(await go('/api/recommendations'), 401); // refused before any route matched
    assert.equal(await go('/api/recommendations', { headers: auth(TOKENS.viewer) }), 200);
    assert.equal(await go('/api/recommendations?limit=0', { headers: auth(TOKENS.viewer) }), 400);
    assert.equal(await go('/api/recommendations?limit=-1', { headers: auth(TOKENS.viewer) }), 400);
    const decide = '/api/recommendations/rec-unknown-1/decision';
    assert.equal(
      await go(decide, { method: 'POST', headers: json(TOKENS.operator), body: '{"decision":"maybe"}' }),
      400,
    );
    assert.equal(
      await go(decide, {
        method: 'POST',
        headers: json(TOKENS.viewer),
        body: '{"decision":"approve","expectedVersion":1}',
      }),
      403,
    );
    assert.equal(await go('/api/stream', { headers: auth(TOKENS.viewer, { 'last-event-id': '-1' }) }), 400);
    assert.equal(await go('/api/nothing-here', { headers: auth(TOKENS.viewer) }), 404);
    assert.equal(await go('/api/recommendations', { headers: auth(TOKENS.viewer) }), 200); // the viewer's 7th: the limit
    assert.equal(await go('/api/recommendations', { headers: auth(TOKENS.viewer) }), 429);

    const c = counted.httpRefusals;
    const at = (route: string, status: number, code: string) =>
      c.get({ route, status: String(status), code });
    assert.equal(at('/api/*', 401, 'SC_ERR_API_UNAUTHENTICATED'), 1);
    assert.equal(at('/api/recommendations', 400, 'SC_ERR_API_VALIDATION'), 2);
    assert.equal(at('/api/recommendations/:id/decision', 400, 'SC_ERR_API_VALIDATION'), 1);
    assert.equal(at('/api/recommendations/:id/decision', 403, 'SC_ERR_API_FORBIDDEN'), 1);
    assert.equal(at('/api/stream', 400, 'SC_ERR_API_VALIDATION'), 1);
    assert.equal(at('/api/*', 404, 'SC_ERR_API_NOT_FOUND'), 1);
    assert.equal(at('/api/*', 429, 'SC_ERR_API_RATE_LIMITED'), 1);
    assert.equal(c.total(), 8, 'the two 200s are not counted');
    assert.match(
      counted.render(),
      /sidecar_http_refusals_total\{code="SC_ERR_API_RATE_LIMITED",route="\/api\/\*",status="429"\} 1/,
    );
  });
});
