/**
 * Fuzzing the notification routes (list, get, acknowledge) mounted in the real app (auth, error
 * middleware, security headers, refusal counter) over a real Notifier and Postgres, and the SSE
 * stream's Last-Event-ID (garbage, huge, negative, unicode sent as raw UTF-8 bytes, ids from the
 * future). Nothing answers 5xx; every 4xx is documented, logged and counted in
 * `sidecar_http_refusals_total` by route and code; nothing unvalidated reaches the database; a
 * stream opened with any accepted id still delivers the next live change.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Router, type RequestHandler } from 'express';
import fc from 'fast-check';
import { actorOf } from '../../src/adapters/http/auth.ts';
import { createNotificationsRouter } from '../../src/adapters/http/notifications-routes.ts';
import { PgNotificationStore } from '../../src/adapters/pg-notification-store.ts';
import { SidecarMetrics } from '../../src/adapters/prom-metrics.ts';
import { auth, TOKENS } from '../fixtures/api-harness.ts';
import { routesOnlyNotifier } from '../fixtures/notifier-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';
import { anyValue, hostileString, jsonAuth as json, MARK, RUNS, sum, useFuzzedApi } from './fuzz-support.ts';

const NOTE_ID = 'n-fuzz-1';

interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * One GET /api/stream over a raw socket, so the Last-Event-ID value goes out as the exact bytes
 * given (fetch refuses non-Latin-1 header values). Resolves with the status line, headers and the
 * body read so far once the stream says `: ready` or the server closes the connection.
 */
function rawStream(port: number, lastEventId: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer for Last-Event-ID ${lastEventId.toString('hex').slice(0, 80)}`));
    }, 15_000);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: split === -1 ? '' : text.slice(split + 4),
      });
    };
    socket.on('data', (b: Buffer) => {
      chunks.push(b);
      if (Buffer.concat(chunks).includes(': ready')) finish();
    });
    socket.on('end', finish);
    socket.on('error', finish);
    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          Buffer.from(
            `GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.viewer}\r\nConnection: close\r\nLast-Event-ID: `,
          ),
          lastEventId,
          Buffer.from('\r\n\r\n'),
        ]),
      );
    });
  });
}

describe('notification routes and SSE Last-Event-ID under fuzzed input', () => {
  const counted = new SidecarMetrics();
  let notifications: RequestHandler | undefined;
  // The harness builds the app before the pool exists; the notifier needs the pool, so the router
  // is mounted through this hand-off and filled in right after start-up.
  const mounted = Router();
  mounted.use((req, res, next) => (notifications ? notifications(req, res, next) : next()));
  const api = useFuzzedApi({ refusalObserver: counted, extraApiRoutes: mounted });
  const { counting } = api;

  before(async () => {
    const store = new PgNotificationStore(api.h.pool);
    const t0 = Date.now();
    await store.create(
      {
        id: NOTE_ID,
        kind: 'critical_alert',
        dedupKey: 'alert:fuzz',
        subjectId: 'alert-fuzz',
        equipmentId: 'REACTOR_01',
        area: 'Reactors',
        severity: 'critical',
        title: 'EMERGENCY temperature on REACTOR_01',
        body: 'hot',
        details: {},
        routeIds: ['all'],
        channelIds: ['hook'],
        createdAt: new Date(t0).toISOString(),
      },
      [{ channelId: 'hook', action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: t0 }],
    );
    notifications = createNotificationsRouter({ notifier: routesOnlyNotifier(store, Date.now), actorOf });
  });

  test('a NUL character in an acknowledge note is a 400 naming the note, and nothing is stored', async () => {
    const res = await api.call('POST', `/api/notifications/${NOTE_ID}/acknowledge`, {
      headers: json(TOKENS.operator),
      body: JSON.stringify({ note: 'seen\u0000then' }),
    });
    assert.equal(res.status, 400);
    assert.match((res.body as { message: string }).message, /note.*NUL/);
    const row = await api.h.pool.query<{ acknowledged_by: string | null }>(
      'SELECT acknowledged_by FROM agentic_hmi.notifications WHERE notification_id = $1',
      [NOTE_ID],
    );
    assert.equal(row.rows[0]?.acknowledged_by, null);
  });

  test('random acknowledge bodies and ids: 2xx or a documented 4xx, never a crash', async () => {
    const bodyArb = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ note: fc.oneof(hostileString, anyValue) }, { requiredKeys: [] }),
      fc.dictionary(
        fc.oneof(fc.constantFrom('note', '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
        anyValue,
        {
          maxKeys: 4,
        },
      ),
    );
    const idArb = fc.oneof(fc.constant(NOTE_ID), hostileString, fc.string({ unit: 'binary', maxLength: 30 }));
    await fc.assert(
      fc.asyncProperty(
        idArb,
        bodyArb,
        fc.constantFrom(TOKENS.viewer, TOKENS.operator),
        async (id, body, token) => {
          const r = await api.call('POST', `/api/notifications/${encodeURIComponent(id)}/acknowledge`, {
            headers: json(token),
            body: JSON.stringify(body) ?? 'null',
          });
          assert.ok([200, 400, 403, 404, 413].includes(r.status), `status ${r.status}`);
          if (token === TOKENS.viewer) assert.notEqual(r.status, 200, 'a viewer never acknowledges');
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('random list queries and ids on the read routes: 200, 400 or 404', async () => {
    const queryArb = fc.dictionary(
      fc.constantFrom(
        'acknowledged',
        'kind',
        'deliveryState',
        'subjectId',
        'limit',
        'offset',
        'x',
        'limit[]',
      ),
      fc.oneof(
        hostileString,
        fc.constantFrom('true', 'false', '-1', '0', '1e309', 'NaN', '501', 'queued', 'critical_alert'),
      ),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(queryArb, hostileString, async (query, id) => {
        const qs = new URLSearchParams(query).toString();
        const list = await api.call('GET', `/api/notifications?${qs}`, {
          headers: auth(TOKENS.viewer),
        });
        assert.ok([200, 400].includes(list.status), `list ${list.status}`);
        const one = await api.call('GET', `/api/notifications/${encodeURIComponent(id)}`, {
          headers: auth(TOKENS.viewer),
        });
        assert.ok([400, 404].includes(one.status), `get ${one.status}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('Last-Event-ID: garbage, huge, negative and unicode ids are 400 naming it; any accepted id still gets live changes', async () => {
    const port = Number(new URL(api.h.base).port);
    const idArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
      fc.integer({ min: 0, max: 99 }).map(String),
      fc.constantFrom(
        '-1',
        '1.5',
        '1e3',
        '0x10',
        ' 7',
        '٣',
        '１２',
        '9'.repeat(16),
        '9'.repeat(5000),
        '',
        '00000000000001',
        'NaN',
      ),
      hostileString,
    );
    let refused = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(idArb, async (id) => {
        // CR/LF would end the header line itself (a different request, not a value); Node's parser
        // refuses other control bytes before the app sees them.
        const bytes = Buffer.from(id.replace(/[\r\n]/g, ''), 'utf8');
        const r = await rawStream(port, bytes);
        assert.ok(
          r.status > 0 && r.status < 500,
          `no 5xx for ${JSON.stringify(id).slice(0, 80)}: ${r.head.slice(0, 120)}`,
        );
        if (r.status === 200) {
          accepted++;
          assert.match(r.head, /text\/event-stream/);
          assert.match(bytes.toString('latin1').trim(), /^\d{1,15}$/, 'only plain decimal seqs are accepted');
        } else {
          refused++;
          assert.equal(r.status, 400, r.head);
          // Node's own HTTP parser refuses some raw bytes before the app: a bare 400 without our body.
          if (/content-type: application\/json/i.test(r.head)) {
            const body = JSON.parse(r.body) as { code: string; message: string };
            assert.equal(body.code, 'SC_ERR_API_VALIDATION');
            assert.match(body.message, /Last-Event-ID/);
          }
        }
      }),
      { numRuns: RUNS },
    );
    assert.ok(
      refused > 0 && accepted > 0,
      `both kinds were tried (${refused} refused, ${accepted} accepted)`,
    );

    // An id from the future (a forged id, or a database restored to an older point) must not
    // silence the stream: the next live change still arrives.
    const future = await openSse(
      `${api.h.base}/api/stream`,
      auth(TOKENS.viewer, { 'last-event-id': '999999999999999' }),
    );
    await future.waitForComment((c) => c === 'ready');
    await api.h.raise(Date.now() - 60_000);
    const live = await future.next((e) => e.event === 'recommendation');
    assert.ok(Number(live.id) < 999999999999999);
    future.close();
  });

  test('after the run: refusals logged and counted by route and code agree; the hostile marker reached no column', async () => {
    await new Promise((r) => setTimeout(r, 50));
    // Every refusal the fuzzed requests saw is in the log and in the counter with the same code.
    for (const [code, n] of api.ledger.refusals) {
      assert.ok(
        (counting.refused.get(code) ?? 0) >= n,
        `${code}: logged ${counting.refused.get(code) ?? 0} < seen ${n}`,
      );
      let c = 0;
      for (const line of counted.httpRefusals.render().split('\n'))
        if (line.includes(`code="${code}"`)) c += Number(line.split(' ').pop());
      assert.ok(c >= n, `${code}: counted ${c} < seen ${n}`);
    }
    assert.ok(sum(api.ledger.refusals) > 0);
    const routes = new Set(
      [...counted.httpRefusals.render().matchAll(/route="([^"]*)"/g)].map((m) => m[1] as string),
    );
    for (const r of [
      '/api/notifications/:id/acknowledge',
      '/api/notifications',
      '/api/notifications/:id',
      '/api/stream',
    ])
      assert.ok(
        routes.has(r),
        `refusals on ${r} are counted under its pattern (have ${[...routes].join(', ')})`,
      );
    // Only a validated acknowledge note may hold the marker; ids and subject filters never do.
    const { rows } = await api.h.pool.query<{ notification_id: string }>(
      'SELECT notification_id FROM agentic_hmi.notifications',
    );
    assert.deepEqual(
      rows.map((r) => r.notification_id),
      [NOTE_ID],
    );
    for (const r of rows) assert.ok(!r.notification_id.includes(MARK), 'no hostile id was stored');
    const health = await fetch(`${api.h.base}/health`);
    assert.equal(health.status, 200);
  });
});
