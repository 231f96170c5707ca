/**
 * Authentication under fuzzed credentials, and the rate limit, on the real API stack:
 *  - random bearer tokens and Authorization headers: 401 SC_ERR_API_UNAUTHENTICATED, never a 2xx;
 *  - random, forged (wrong secret), tampered, stale, mis-addressed and replayed X-Ignition-Identity
 *    headers: 401 SC_ERR_IDENTITY_INVALID / _REPLAYED, never a 2xx;
 *  - a correctly signed identity gets only the roles the role map grants, whatever roles it claims;
 *  - the per-client rate limit answers 429 SC_ERR_API_RATE_LIMITED with RateLimit headers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { signIdentity } from '../../src/adapters/http/gateway-identity.ts';
import { auth, SECRET, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { call, hostileString, newLedger, RUNS, sum, useFuzzedApi } from './fuzz-support.ts';

const ROUTES: [string, string][] = [
  ['GET', '/api/recommendations'],
  ['GET', '/api/me'],
  ['POST', '/api/shelves'],
  ['GET', '/api/kpis'],
];
/** Printable ASCII: what an HTTP header value can carry (fetch refuses the rest before sending). */
const headerText = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const KNOWN = new Set<string>(Object.values(TOKENS));

describe('API authentication under fuzzed credentials', () => {
  const api = useFuzzedApi();
  const { counting } = api;

  test('random bearer tokens and Authorization headers are 401 SC_ERR_API_UNAUTHENTICATED', async () => {
    const authorization = fc.oneof(
      headerText,
      headerText.map((s) => `Bearer ${s}`),
      fc.constantFrom(
        `Bearer ${TOKENS.viewer}x`,
        `Basic ${TOKENS.viewer}`,
        `Bearer  `,
        `bearer ${TOKENS.viewer.slice(1)}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), authorization, async ([method, path], value) => {
        fc.pre(![...KNOWN].some((k) => value.trim().endsWith(k)));
        const r = await api.call(method, path, {
          headers: { authorization: value, 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : '{}',
        });
        assert.equal(r.status, 401);
        assert.equal((r.body as { code: string }).code, 'SC_ERR_API_UNAUTHENTICATED');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
      }),
      { numRuns: RUNS },
    );
  });

  test('random, forged, tampered, stale and mis-addressed identity headers are 401 SC_ERR_IDENTITY_INVALID', async () => {
    const forged = fc.oneof(
      headerText,
      headerText.map(
        (s) => `v1.${Buffer.from(s).toString('base64url')}.${Buffer.from(s).toString('base64url')}`,
      ),
      // Right shape, wrong secret.
      fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), hostileString).map(([secret, user]) =>
        signIdentity(`${secret}-not-the-secret`, {
          user,
          roles: ['Administrator'],
          method: 'GET',
          path: '/api/me',
        }),
      ),
      // Right secret, then one character of the payload or signature changed.
      fc.tuple(fc.nat(), fc.constantFrom('A', 'B', '_', '-')).map(([at, ch]) => {
        const good = signIdentity(SECRET, {
          user: 'mallory',
          roles: ['Administrator'],
          method: 'GET',
          path: '/api/me',
        });
        const i = 3 + (at % (good.length - 3));
        const swapped = good[i] === ch ? (ch === 'A' ? 'B' : 'A') : ch;
        return good.slice(0, i) + swapped + good.slice(i + 1);
      }),
      // Right secret, stale or future timestamp.
      // (A margin of 60 s over the 60 s skew: the arbitrary is built once, values are drawn later.)
      fc.tuple(fc.integer({ min: 120_000, max: 10 ** 10 }), fc.boolean()).map(([skew, past]) =>
        signIdentity(SECRET, {
          user: 'mallory',
          roles: ['Administrator'],
          method: 'GET',
          path: '/api/me',
          timestampMs: Date.now() + (past ? -skew : skew),
        }),
      ),
      // Right secret, signed for another request.
      fc
        .constantFrom(
          ['POST', '/api/me'],
          ['GET', '/api/recommendations'],
          ['GET', '/api/me/'],
          ['GET', '/API/me'],
        )
        .map(([m, p]) =>
          signIdentity(SECRET, {
            user: 'mallory',
            roles: ['Administrator'],
            method: m as string,
            path: p as string,
          }),
        ),
    );
    await fc.assert(
      fc.asyncProperty(forged, async (header) => {
        const r = await api.call('GET', '/api/me', {
          headers: { 'x-ignition-identity': header, authorization: `Bearer ${TOKENS.engineer}` },
        });
        assert.equal(
          r.status,
          401,
          `identity header must not fall back to the bearer token: ${header.slice(0, 80)}`,
        );
        assert.equal((r.body as { code: string }).code, 'SC_ERR_IDENTITY_INVALID');
      }),
      { numRuns: RUNS },
    );
  });

  test('a replayed identity header is refused with SC_ERR_IDENTITY_REPLAYED; the first use works', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Short enough for the 4096-character header cap (a longer header is refused as invalid).
        hostileString.filter((u) => u.length > 0 && u.length <= 1000),
        fc.integer({ min: 2, max: 4 }),
        async (user, replays) => {
          const header = signIdentity(SECRET, { user, roles: ['Operator'], method: 'GET', path: '/api/me' });
          const first = await api.call('GET', '/api/me', {
            headers: { 'x-ignition-identity': header },
          });
          assert.equal(first.status, 200);
          assert.equal(
            (first.body as { user: string }).user,
            user,
            'the user name comes back as data, verbatim',
          );
          for (let i = 0; i < replays; i++) {
            const again = await api.call('GET', '/api/me', {
              headers: { 'x-ignition-identity': header },
            });
            assert.equal(again.status, 401);
            assert.equal((again.body as { code: string }).code, 'SC_ERR_IDENTITY_REPLAYED');
          }
        },
      ),
      { numRuns: Math.min(RUNS, 60) },
    );
  });

  test('a signed identity gets only mapped roles, whatever it claims', async () => {
    const claimed = fc.array(
      fc.oneof(
        fc.constantFrom(
          'Administrator',
          'Operator',
          'Engineer',
          'Viewer',
          'engineer',
          'root',
          '*',
          '__proto__',
          'constructor',
        ),
        fc.string({ maxLength: 12 }),
      ),
      { maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(claimed, async (roles) => {
        const header = signIdentity(SECRET, { user: 'ivy', roles, method: 'GET', path: '/api/me' });
        const r = await api.call('GET', '/api/me', {
          headers: { 'x-ignition-identity': header },
        });
        if (r.status === 200) {
          const granted = (r.body as { roles: string[] }).roles;
          assert.ok(
            granted.every((g) => g === 'viewer' || g === 'operator' || g === 'engineer'),
            JSON.stringify(granted),
          );
          assert.ok(granted.length > 0, 'a 200 from /api/me needs a mapped role');
        } else {
          assert.equal((r.body as { code: string }).code, 'SC_ERR_API_FORBIDDEN');
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('afterwards: healthy, every refusal logged, no 2xx from a bad credential', async (t) => {
    assert.equal((await fetch(`${api.h.base}/health`)).status, 200);
    assert.deepEqual(new Map([...counting.refused].sort()), new Map([...api.ledger.refusals].sort()));
    t.diagnostic(
      `responses: ${api.ledger.successes} 2xx, ${sum(api.ledger.refusals)} refusals ${JSON.stringify(Object.fromEntries(api.ledger.refusals))}`,
    );
  });
});

describe('rate limit and security headers', () => {
  let h: ApiHarness;
  before(async () => {
    h = await startApiHarness({ rateLimitPerMinute: 20 });
  });
  after(async () => {
    await h?.close();
  });

  test('past the per-minute limit every request is 429 SC_ERR_API_RATE_LIMITED with RateLimit headers', async () => {
    const ledger = newLedger();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await call(
        ledger,
        h.base,
        'GET',
        i % 2 === 0 ? '/api/recommendations' : '/api/me',
        { headers: auth(TOKENS.viewer) },
        { apiHeaders: i < 20 },
      );
      statuses.push(r.status);
      if (i === 0) assert.match(r.headers.get('ratelimit-policy') ?? '', /^20;w=60/);
      if (r.status === 429) {
        assert.equal((r.body as { code: string }).code, 'SC_ERR_API_RATE_LIMITED');
        assert.match(r.headers.get('ratelimit') ?? '', /remaining=0/);
        // The limiter answers before the API header middleware runs; it sets these two itself.
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('cache-control'), 'no-store');
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      }
    }
    assert.deepEqual(statuses, [...Array(20).fill(200), ...Array(10).fill(429)]);
    // The limit covers unauthenticated probing too: keyed on the address, apart from the viewer's
    // budget (the limit is per authenticated identity), so guesses past it are 429, not 401.
    const probes: number[] = [];
    for (let i = 0; i < 21; i++) {
      const probe = await fetch(`${h.base}/api/me`, { headers: { authorization: `Bearer guess-${i}` } });
      await probe.arrayBuffer();
      probes.push(probe.status);
    }
    assert.deepEqual(probes, [...Array(20).fill(401), 429]);
  });
});
