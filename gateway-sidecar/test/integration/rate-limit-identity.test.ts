/**
 * The /api rate limit is kept per authenticated identity, not per client address: behind the
 * gateway every Perspective session arrives from 127.0.0.1, so an address key would pool every
 * user into one budget. Real API stack, real HTTP, every request from 127.0.0.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { IDENTITY_HEADER, signIdentity } from '../../src/adapters/http/gateway-identity.ts';
import { auth, SECRET, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';

const LIMIT = 5;
let h: ApiHarness;
before(async () => {
  h = await startApiHarness({ rateLimitPerMinute: LIMIT });
});
after(() => h.close());

async function get(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; code?: string; message?: string }> {
  const res = await fetch(`${h.base}${path}`, { headers });
  const body = (await res.json()) as { code?: string; message?: string };
  return { status: res.status, code: body.code, message: body.message };
}

/** A fresh gateway-signed identity header for one GET (nonces are single-use). */
function gateway(user: string): Record<string, string> {
  return {
    [IDENTITY_HEADER]: signIdentity(SECRET, { user, roles: ['Viewer'], method: 'GET', path: '/api/me' }),
  };
}

test('two gateway-signed users from one address have separate budgets; one user alone still gets 429', async () => {
  for (let i = 0; i < LIMIT; i++)
    assert.equal((await get('/api/me', gateway('alice'))).status, 200, `alice ${i}`);
  const refused = await get('/api/me', gateway('alice'));
  assert.equal(refused.status, 429);
  assert.equal(refused.code, 'SC_ERR_API_RATE_LIMITED');
  assert.match(refused.message ?? '', /from this user/);
  // bob shares alice's address (the gateway's) but not her budget.
  for (let i = 0; i < LIMIT; i++)
    assert.equal((await get('/api/me', gateway('bob'))).status, 200, `bob ${i}`);
  assert.equal((await get('/api/me', gateway('bob'))).status, 429);
});

test('bearer tokens are limited per token user; unauthenticated requests per address, apart from them', async () => {
  for (let i = 0; i < LIMIT; i++)
    assert.equal((await get('/api/me', auth(TOKENS.viewer))).status, 200, `vera ${i}`);
  assert.equal((await get('/api/me', auth(TOKENS.viewer))).status, 429);
  assert.equal((await get('/api/me', auth(TOKENS.operator))).status, 200, 'otto has his own budget');
  // Guessing tokens is limited by address, and does not eat the users' budgets.
  for (let i = 0; i < LIMIT; i++)
    assert.equal((await get('/api/me', auth(`guess-${i}`))).status, 401, `guess ${i}`);
  const probe = await get('/api/me', auth('guess-last'));
  assert.equal(probe.status, 429);
  assert.match(probe.message ?? '', /from this client address/);
  assert.equal(
    (await get('/api/me', { [IDENTITY_HEADER]: 'v1.forged.sig' })).status,
    429,
    'a bad identity header counts on the address',
  );
  assert.equal(
    (await get('/api/me', auth(TOKENS.operator2))).status,
    200,
    'olga is unaffected by the guessing',
  );
  assert.equal((await get('/api/me', auth(TOKENS.engineer))).status, 200);
});
