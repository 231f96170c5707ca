/**
 * Authentication and the error middleware on a real Express server (port 0): bearer tokens, the
 * gateway-signed identity (valid, forged, replayed, re-targeted, unmapped roles), role checks,
 * body limit, malformed JSON, rate limit, headers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { actorOf, authenticate, requireRole, type AuthOptions } from '../../src/adapters/http/auth.ts';
import { errorMiddleware, notFound } from '../../src/adapters/http/error-middleware.ts';
import { IDENTITY_HEADER, signIdentity } from '../../src/adapters/http/gateway-identity.ts';
import { apiHeaders, rateLimiter } from '../../src/adapters/http/security.ts';
import { createLogger } from '../../src/log.ts';
import { systemClock } from '../../src/ports.ts';

const SECRET = 'gateway-secret-for-the-auth-test-0123456789';
const AUTH: AuthOptions = {
  tokens: [
    { token: 'viewer-token-0123456789', user: 'vera', roles: ['viewer'] },
    { token: 'operator-token-0123456789', user: 'otto', roles: ['operator'] },
  ],
  gatewaySecret: SECRET,
  gatewayMaxSkewSec: 60,
  gatewayRoleMap: { Operator: 'operator', Viewer: 'viewer' },
};

async function listen(app: express.Express): Promise<{ server: Server; base: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function buildApp(auth: AuthOptions, perMinute = 1000): express.Express {
  const app = express();
  const logger = createLogger({ level: 'silent' });
  app.use(rateLimiter(perMinute));
  const api = express.Router();
  api.use(apiHeaders());
  api.use(express.json({ limit: 1024 }));
  api.use(authenticate(auth, systemClock));
  api.get('/whoami', requireRole('viewer'), (req, res) => {
    res.json(actorOf(req));
  });
  api.post('/act', requireRole('operator'), (req, res) => {
    res.json({ ok: true, user: actorOf(req).user, body: req.body as unknown });
  });
  api.use(notFound);
  app.use('/api', api);
  app.use(errorMiddleware(logger));
  return app;
}

describe('authentication', () => {
  let server: Server;
  let base: string;
  before(async () => {
    ({ server, base } = await listen(buildApp(AUTH)));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('no credentials: 401 with code, message and WWW-Authenticate', async () => {
    const res = await fetch(`${base}/api/whoami`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
    const body = (await res.json()) as { code: string; message: string };
    assert.equal(body.code, 'SC_ERR_API_UNAUTHENTICATED');
    assert.match(body.message, /Bearer/);
  });

  test('unknown or malformed bearer token: 401', async () => {
    for (const h of ['Bearer not-a-known-token-000000', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const res = await fetch(`${base}/api/whoami`, { headers: { authorization: h } });
      assert.equal(res.status, 401, h);
      assert.equal(((await res.json()) as { code: string }).code, 'SC_ERR_API_UNAUTHENTICATED');
    }
  });

  test('a known token authenticates with its roles; a viewer may read but not act (403)', async () => {
    const who = await fetch(`${base}/api/whoami`, {
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    assert.equal(who.status, 200);
    assert.deepEqual(await who.json(), { user: 'vera', roles: ['viewer'], via: 'token' });
    const act = await fetch(`${base}/api/act`, {
      method: 'POST',
      headers: { authorization: 'Bearer viewer-token-0123456789', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(act.status, 403);
    const body = (await act.json()) as { code: string; message: string };
    assert.equal(body.code, 'SC_ERR_API_FORBIDDEN');
    assert.match(body.message, /operator/);
  });

  test('a valid gateway identity works once; its replay, a forgery and a re-targeted one are 401', async () => {
    const path = '/api/act';
    const header = signIdentity(SECRET, { user: 'ignition-op', roles: ['Operator'], method: 'POST', path });
    const post = (h: string): Promise<Response> =>
      fetch(`${base}${path}?x=1`, {
        method: 'POST',
        headers: { [IDENTITY_HEADER]: h, 'content-type': 'application/json' },
        body: '{"a":1}',
      });
    const ok = await post(header);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { ok: true, user: 'ignition-op', body: { a: 1 } });

    const replay = await post(header);
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as { code: string }).code, 'SC_ERR_IDENTITY_REPLAYED');

    const forged = signIdentity('a-different-secret-of-sufficient-length!!', {
      user: 'mallory',
      roles: ['Operator'],
      method: 'POST',
      path,
    });
    const f = await post(forged);
    assert.equal(f.status, 401);
    assert.equal(((await f.json()) as { code: string }).code, 'SC_ERR_IDENTITY_INVALID');

    const elsewhere = signIdentity(SECRET, {
      user: 'ignition-op',
      roles: ['Operator'],
      method: 'GET',
      path: '/api/whoami',
    });
    const e = await post(elsewhere);
    assert.equal(e.status, 401);
    assert.equal(((await e.json()) as { code: string }).code, 'SC_ERR_IDENTITY_INVALID');

    const stale = signIdentity(SECRET, {
      user: 'ignition-op',
      roles: ['Operator'],
      method: 'POST',
      path,
      timestampMs: Date.now() - 10 * 60_000,
    });
    assert.equal((await post(stale)).status, 401);
  });

  test('gateway roles map through gatewayRoleMap; unmapped roles grant nothing (403)', async () => {
    const who = await fetch(`${base}/api/whoami`, {
      headers: {
        [IDENTITY_HEADER]: signIdentity(SECRET, {
          user: 'v',
          roles: ['Viewer', 'Unknown'],
          method: 'GET',
          path: '/api/whoami',
        }),
      },
    });
    assert.deepEqual(await who.json(), { user: 'v', roles: ['viewer'], via: 'gateway' });
    const none = await fetch(`${base}/api/whoami`, {
      headers: {
        [IDENTITY_HEADER]: signIdentity(SECRET, {
          user: 'x',
          roles: ['Guest'],
          method: 'GET',
          path: '/api/whoami',
        }),
      },
    });
    assert.equal(none.status, 403);
  });

  test('body over the limit is 413, malformed JSON is 400 naming the body', async () => {
    const headers = { authorization: 'Bearer operator-token-0123456789', 'content-type': 'application/json' };
    const big = await fetch(`${base}/api/act`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ note: 'x'.repeat(5000) }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { code: string }).code, 'SC_ERR_API_PAYLOAD_TOO_LARGE');
    const bad = await fetch(`${base}/api/act`, { method: 'POST', headers, body: '{"decision": ' });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { code: string; message: string };
    assert.equal(body.code, 'SC_ERR_API_VALIDATION');
    assert.match(body.message, /^body:/);
  });

  test('API responses carry nosniff, no-store and deny framing', async () => {
    const res = await fetch(`${base}/api/whoami`, {
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    });
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });
});

describe('gateway identity without a configured secret', () => {
  test('is refused with 401, never trusted', async () => {
    const { server, base } = await listen(buildApp({ ...AUTH, gatewaySecret: undefined }));
    try {
      const res = await fetch(`${base}/api/whoami`, {
        headers: {
          [IDENTITY_HEADER]: signIdentity(SECRET, {
            user: 'x',
            roles: ['Operator'],
            method: 'GET',
            path: '/api/whoami',
          }),
        },
      });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, 'SC_ERR_IDENTITY_INVALID');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('rate limit', () => {
  test('the request over the per-minute limit gets 429 with the catalogue code', async () => {
    const { server, base } = await listen(buildApp(AUTH, 5));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await fetch(`${base}/api/whoami`, {
          headers: { authorization: 'Bearer viewer-token-0123456789' },
        });
        statuses.push(res.status);
        if (res.status === 429)
          assert.equal(((await res.json()) as { code: string }).code, 'SC_ERR_API_RATE_LIMITED');
        else await res.arrayBuffer();
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
