/**
 * Property-based fuzzing of every /api route on the real stack (createHttpApp on port 0, the real
 * Recommendations service, real Postgres). Bodies, raw bytes, path ids and query strings come from
 * fast-check; each response must be a 2xx (legitimately valid input) or a documented 4xx with
 * `{code, message}`, every refusal must be logged with its code, the server must stay healthy, and
 * afterwards no hostile string may sit in the database outside the free-text fields.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { auth, TOKENS } from '../fixtures/api-harness.ts';
import { anyValue, hostileString, jsonAuth as json, MARK, RUNS, sum, useFuzzedApi } from './fuzz-support.ts';

/** Mutating routes and the fields their schemas know (fuzzed bodies mix these with random keys). */
const BODY_ROUTES: { method: string; path: (id: string) => string; keys: string[] }[] = [
  {
    method: 'POST',
    path: (id) => `/api/recommendations/${id}/decision`,
    keys: ['decision', 'note', 'deferUntil', 'expectedVersion'],
  },
  { method: 'POST', path: (id) => `/api/recommendations/${id}/revert`, keys: ['note'] },
  {
    method: 'POST',
    path: () => '/api/shelves',
    keys: ['equipmentId', 'issueType', 'reason', 'durationMinutes'],
  },
  { method: 'PUT', path: () => '/api/equipment/REACTOR_01/mode', keys: ['mode'] },
];

const ID_ROUTES: { method: string; path: (id: string) => string; body?: string }[] = [
  { method: 'GET', path: (id) => `/api/recommendations/${id}` },
  {
    method: 'POST',
    path: (id) => `/api/recommendations/${id}/decision`,
    body: '{"decision":"approve","expectedVersion":1}',
  },
  { method: 'POST', path: (id) => `/api/recommendations/${id}/revert`, body: '{"note":"fuzz"}' },
  { method: 'DELETE', path: (id) => `/api/shelves/${id}` },
  { method: 'PUT', path: (id) => `/api/equipment/${id}/mode`, body: '{"mode":"RUN"}' },
];

const QUERY_ROUTES = [
  '/api/recommendations',
  '/api/critical-alerts',
  '/api/shelves',
  '/api/modes',
  '/api/kpis',
  '/api/me',
];

/** Free-text columns where a validated note may legitimately hold any text, verbatim. */
const FREE_TEXT = new Set([
  'agentic_hmi.recommendation_audit.note',
  'agentic_hmi.agent_recommendations.operator_notes',
  'agentic_hmi.alarm_shelves.reason',
  'agentic_hmi.alarm_shelves.ended_reason',
  // The change log carries a copy of the recommendation (with its notes) as JSON for SSE replay.
  'agentic_hmi.recommendation_changes.payload',
]);

describe('API routes under fuzzed input', () => {
  const api = useFuzzedApi();
  const { counting } = api;
  let recId = '';

  before(async () => {
    await api.h.raise(Date.now() - 60_000);
    const listed = await api.call('GET', '/api/recommendations', {
      headers: auth(TOKENS.viewer),
    });
    recId = ((listed.body as { items: { id: string }[] }).items[0] as { id: string }).id;
  });

  test('random bodies on every mutating route: 2xx or a documented 4xx, never a crash', async () => {
    const bodyArb = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            'decision',
            'note',
            'deferUntil',
            'expectedVersion',
            'equipmentId',
            'issueType',
            'reason',
            'durationMinutes',
            'mode',
            '__proto__',
            'constructor',
          ),
          fc.string({ maxLength: 12 }),
        ),
        anyValue,
        { maxKeys: 6 },
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        bodyArb,
        fc.constantFrom(TOKENS.operator, TOKENS.engineer),
        async (route, body, token) => {
          await api.call(route.method, route.path(recId), {
            headers: json(token),
            body: JSON.stringify(body) ?? 'null',
          });
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  test('raw bytes, NaN/Infinity literals and bodies over the limit: 400 or 413 with the catalogue code', async () => {
    const raw = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.constantFrom(
        '{"expectedVersion": NaN, "decision": "approve"}',
        '{"durationMinutes": Infinity}',
        '{"a":1,}',
        "{'a':1}",
        '[',
        '\u0000',
        '{"note":"\ud800"}',
      ),
      fc.integer({ min: 17_000, max: 200_000 }).map((n) => JSON.stringify({ note: 'x'.repeat(n) })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BODY_ROUTES), raw, async (route, text) => {
        const r = await api.call(route.method, route.path(recId), {
          headers: json(TOKENS.engineer),
          body: text,
        });
        if (text.length > 16_384)
          assert.equal((r.body as { code: string }).code, 'SC_ERR_API_PAYLOAD_TOO_LARGE');
      }),
      { numRuns: RUNS },
    );
  });

  test('hostile path ids (SQL, HTML, unicode, traversal): 2xx or documented 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), hostileString, async (route, id) => {
        const r = await api.call(route.method, route.path(encodeURIComponent(id)), {
          headers: json(TOKENS.engineer),
          ...(route.body !== undefined ? { body: route.body } : {}),
        });
        // The marker holds a quote and a space: no id pattern accepts it, so this must be a refusal.
        assert.ok(r.status >= 400, `hostile id accepted: ${route.method} ${route.path(id)} -> ${r.status}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('random query strings on every read route: 200 or 400, never a crash', async () => {
    const key = fc.oneof(
      fc.constantFrom(
        'status',
        'severity',
        'equipment',
        'equipmentId',
        'limit',
        'offset',
        'status[$ne]',
        'limit[]',
      ),
      fc.string({ maxLength: 10 }),
    );
    const value = fc.oneof(
      hostileString,
      fc.constantFrom('-1', '1e309', 'NaN', '501', '0x10', 'pending,deferred', 'pending,,,', ''),
      fc.integer().map(String),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...QUERY_ROUTES),
        fc.array(fc.tuple(key, value), { maxLength: 4 }),
        async (path, pairs) => {
          const qs = new URLSearchParams(pairs).toString();
          const r = await api.call('GET', qs === '' ? path : `${path}?${qs}`, {
            headers: auth(TOKENS.viewer),
          });
          assert.ok(r.status === 200 || r.status === 400, `${path}?${qs} -> ${r.status}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('hostile free text is stored verbatim and returned as JSON data, never interpreted', async () => {
    // Found by this property: a NUL character reached Postgres (which refuses it) and answered 500.
    for (const [path, body] of [
      [
        '/api/shelves',
        { equipmentId: 'PUMP_02', issueType: 'fuzz_issue', reason: 'a\u0000b', durationMinutes: 5 },
      ],
      [
        `/api/recommendations/${recId}/decision`,
        { decision: 'reject', note: 'a\u0000b', expectedVersion: 1 },
      ],
    ] as const) {
      const r = await api.call('POST', path, {
        headers: json(TOKENS.operator),
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 400);
      assert.match((r.body as { message: string }).message, /NUL/);
    }
    const reasons: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        hostileString.filter((s) => s.trim().length > 0 && s.length <= 2000),
        async (reason) => {
          const r = await api.call('POST', '/api/shelves', {
            headers: json(TOKENS.operator),
            body: JSON.stringify({
              equipmentId: 'PUMP_02',
              issueType: 'fuzz_issue',
              reason,
              durationMinutes: 5,
            }),
          });
          if (r.status >= 400) {
            // Lone surrogates cannot be stored as UTF-8 text; the API must refuse them cleanly, not mangle them.
            assert.equal((r.body as { code: string }).code, 'SC_ERR_API_VALIDATION', JSON.stringify(r.body));
            return;
          }
          assert.equal(r.status, 201);
          assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(
            (r.body as { reason: string }).reason,
            reason.trim(),
            'returned verbatim (JSON-escaped on the wire)',
          );
          reasons.push(reason.trim());
        },
      ),
      { numRuns: Math.min(RUNS, 100) },
    );
    const stored = await api.h.pool.query<{ reason: string }>(
      `SELECT reason FROM agentic_hmi.alarm_shelves WHERE issue_type = 'fuzz_issue' ORDER BY shelf_id`,
    );
    assert.deepEqual(
      stored.rows.map((r) => r.reason),
      reasons,
      'stored verbatim, one row per accepted request',
    );
    assert.ok(
      reasons.length >= Math.min(RUNS, 100) / 2,
      `most hostile reasons were valid free text (${reasons.length})`,
    );
  });

  test('afterwards: healthy, every refusal logged with its code, tables intact, nothing hostile outside free text', async (t) => {
    const health = await fetch(`${api.h.base}/health`);
    assert.equal(health.status, 200);
    // Every 4xx the fuzzer saw went through the error middleware's "request refused" log line with the same code.
    assert.deepEqual(new Map([...counting.refused].sort()), new Map([...api.ledger.refusals].sort()));
    assert.ok(sum(api.ledger.refusals) > RUNS, `many refusals (${sum(api.ledger.refusals)})`);
    assert.ok(api.ledger.successes > 0);

    const tables = await api.h.pool.query<{ t: string }>(
      `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('agentic_hmi', 'mining_operations') AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    assert.ok(
      tables.rows.some((r) => r.t === 'agentic_hmi.agent_recommendations'),
      'no injected DROP TABLE ran',
    );
    const recs = await api.h.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM agentic_hmi.agent_recommendations',
    );
    assert.ok(Number(recs.rows[0]?.n) >= 1, 'no injected DELETE ran');

    const cols = await api.h.pool.query<{ s: string; t: string; c: string }>(
      `SELECT table_schema AS s, table_name AS t, column_name AS c FROM information_schema.columns
        WHERE table_schema IN ('agentic_hmi', 'mining_operations') AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
          AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')`,
    );
    const leaks: string[] = [];
    for (const { s, t, c } of cols.rows) {
      const hit = await api.h.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "${s}"."${t}" WHERE "${c}"::text LIKE '%' || $1 || '%'`,
        [MARK.trim()],
      );
      const n = Number(hit.rows[0]?.n);
      if (n > 0 && !FREE_TEXT.has(`${s}.${t}.${c}`)) leaks.push(`${s}.${t}.${c} (${n} rows)`);
    }
    assert.deepEqual(leaks, [], 'hostile strings only in validated free-text columns');
    t.diagnostic(
      `responses: ${api.ledger.successes} 2xx, refusals ${JSON.stringify(Object.fromEntries(api.ledger.refusals))}`,
    );
  });
});
