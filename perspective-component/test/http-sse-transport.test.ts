// @vitest-environment node
/**
 * HttpSseTransport against a real HTTP server on port 0 that speaks the sidecar contract:
 * JSON list/decide with bearer auth, {code,message} errors, and an SSE stream that drops so the
 * transport must reconnect with Last-Event-ID.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSseTransport } from '../src/api/http-sse-transport.ts';
import type { ConnectionInfo } from '../src/api/transport.ts';
import type { Change } from '../src/api/types.ts';
import { buildRecommendation } from './support/builders.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];

async function serve(handler: Handler, port = 0): Promise<{ url: string; server: Server; port: number }> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${p}/api`, server, port: p };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('HttpSseTransport', () => {
  it('lists with the filter as query, the bearer token, and parses the answer', async () => {
    let seen: IncomingMessage | undefined;
    const { url } = await serve((req, res) => {
      seen = req;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ items: [buildRecommendation({ id: 'r1' })], total: 7 }));
    });
    const t = new HttpSseTransport({ baseUrl: url, token: () => 'tok-operator-0123456789' });
    const result = await t.list({
      status: ['pending', 'deferred'],
      severity: ['critical'],
      equipmentId: 'R 1',
      limit: 5,
      offset: 10,
    });
    expect(result.total).toBe(7);
    expect(result.items[0]?.id).toBe('r1');
    const q = new URL(seen?.url ?? '', 'http://x');
    expect(q.pathname).toBe('/api/recommendations');
    expect(Object.fromEntries(q.searchParams)).toEqual({
      status: 'pending,deferred',
      severity: 'critical',
      equipmentId: 'R 1',
      limit: '5',
      offset: '10',
    });
    expect(seen?.headers.authorization).toBe('Bearer tok-operator-0123456789');
  });

  it('posts a decision and maps {code,message} errors to TransportError', async () => {
    const bodies: unknown[] = [];
    const { url } = await serve((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        bodies.push({ path: req.url, method: req.method, body: JSON.parse(raw) });
        res.statusCode = 409;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ code: 'SC_ERR_API_CONFLICT', message: 'version 3 is stale, current is 4' }));
      });
    });
    const t = new HttpSseTransport({ baseUrl: url });
    const err = await t.decide('a/b', { decision: 'approve', expectedVersion: 3 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'SC_ERR_API_CONFLICT',
      status: 409,
      isConflict: true,
      message: 'version 3 is stale, current is 4',
    });
    expect(bodies).toEqual([
      {
        path: '/api/recommendations/a%2Fb/decision',
        method: 'POST',
        body: { decision: 'approve', expectedVersion: 3 },
      },
    ]);
  });

  it('rejects malformed data with a clear client error', async () => {
    const { url } = await serve((_req, res) => res.end(JSON.stringify({ items: [{ id: 1 }] })));
    const err = await new HttpSseTransport({ baseUrl: url })
      .list({ limit: 1, offset: 0 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLIENT_ERR_BAD_RESPONSE' });
    expect((err as Error).message).toContain('recommendation.id');
  });

  it('rejects a malformed patternHistory and accepts a recommendation without one', async () => {
    const history = { approved: 2, rejected: 1, lastRejectionNote: 'cool-down', lastDecidedAt: null };
    const cases: [unknown, string | null][] = [
      [history, null],
      [undefined, null],
      [null, 'recommendation.patternHistory must be an object'],
      [
        { ...history, approved: '2' },
        'recommendation.patternHistory.approved must be a non-negative integer',
      ],
      [{ ...history, rejected: -1 }, 'recommendation.patternHistory.rejected must be a non-negative integer'],
      [
        { ...history, approved: 1.5 },
        'recommendation.patternHistory.approved must be a non-negative integer',
      ],
      [
        { ...history, lastRejectionNote: 3 },
        'recommendation.patternHistory.lastRejectionNote must be a string or null',
      ],
      [
        { ...history, lastDecidedAt: undefined },
        'recommendation.patternHistory.lastDecidedAt must be a string or null',
      ],
    ];
    for (const [patternHistory, message] of cases) {
      const rec = { ...buildRecommendation({ id: 'ph' }), patternHistory };
      const { url } = await serve((_req, res) => res.end(JSON.stringify({ items: [rec], total: 1 })));
      const out = await new HttpSseTransport({ baseUrl: url })
        .list({ limit: 1, offset: 0 })
        .catch((e: unknown) => e);
      if (message === null) {
        expect(out).toMatchObject({ total: 1 });
        expect((out as { items: { patternHistory?: unknown }[] }).items[0]?.patternHistory).toEqual(
          patternHistory,
        );
      } else {
        expect(out).toMatchObject({ code: 'CLIENT_ERR_BAD_RESPONSE' });
        expect((out as Error).message).toContain(message);
      }
    }
  });

  it('streams changes, reconnects after a drop with Last-Event-ID, and reports offline while the server is gone', async () => {
    const lastEventIds: (string | undefined)[] = [];
    let connections = 0;
    const handler: Handler = (req, res) => {
      connections += 1;
      lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': connected\n\n');
      const base = connections === 1 ? 1 : 3;
      for (const seq of [base, base + 1]) {
        const change: Change = {
          seq,
          type: 'recommendation',
          recommendation: buildRecommendation({ id: `s${seq}` }),
        };
        res.write(`id: ${seq}\nevent: change\ndata: ${JSON.stringify(change)}\n\n`);
      }
      if (connections === 1) setTimeout(() => res.destroy(), 50); // first connection drops
    };
    const first = await serve(handler);
    const t = new HttpSseTransport({
      baseUrl: first.url,
      initialBackoffMs: 20,
      maxBackoffMs: 50,
      offlineAfterAttempts: 2,
    });
    const changes: number[] = [];
    const states: ConnectionInfo[] = [];
    let resumed = 0;
    const stop = t.subscribe({
      onChange: (c) => changes.push(c.seq),
      onConnection: (i) => states.push(i),
      onResumed: () => (resumed += 1),
    });
    await until(() => changes.length === 4, 'four changes over two connections');
    expect(changes).toEqual([1, 2, 3, 4]);
    expect(lastEventIds).toEqual([undefined, '2']);
    expect(resumed).toBe(1);
    expect(states.map((s) => s.state)).toEqual(['connecting', 'online', 'reconnecting', 'online']);

    // The server goes away entirely: attempts pile up and the state turns offline.
    first.server.closeAllConnections();
    await new Promise((r) => first.server.close(r));
    await until(() => states.at(-1)?.state === 'offline', 'offline state');
    expect(states.at(-1)?.attempts).toBeGreaterThanOrEqual(2);

    // It comes back on the same port: the stream resumes from the last id.
    await serve(handler, first.port);
    await until(() => states.at(-1)?.state === 'online', 'back online');
    expect(lastEventIds.at(-1)).toBe('4');
    expect(resumed).toBe(2);
    stop();
  });
});
