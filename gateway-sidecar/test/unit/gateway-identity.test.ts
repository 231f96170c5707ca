import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityVerifier, signIdentity } from '../../src/adapters/http/gateway-identity.ts';
import { SidecarError } from '../../src/errors.ts';

const SECRET = 'a-very-long-shared-secret-for-tests-0123456789';
const req = { method: 'POST', path: '/api/recommendations/r1/decision' };

test('a correctly signed identity is accepted once', () => {
  const v = new IdentityVerifier(SECRET, 60);
  const h = signIdentity(SECRET, { user: 'alice', roles: ['Operator'], ...req, timestampMs: 10_000 });
  const id = v.verify(h, req, 12_000);
  assert.equal(id.user, 'alice');
  assert.deepEqual(id.roles, ['Operator']);
  assert.throws(
    () => v.verify(h, req, 12_500),
    (e: unknown) => e instanceof SidecarError && e.code === 'SC_ERR_IDENTITY_REPLAYED',
  );
});

test('forged, stale, or re-targeted identities are refused', () => {
  const v = new IdentityVerifier(SECRET, 60);
  const code = (fn: () => unknown): string => {
    try {
      fn();
      return 'accepted';
    } catch (e) {
      return (e as SidecarError).code;
    }
  };
  const forged = signIdentity('another-secret-that-is-long-enough-000000', {
    user: 'mallory',
    roles: ['Engineer'],
    ...req,
    timestampMs: 1000,
  });
  assert.equal(
    code(() => v.verify(forged, req, 1000)),
    'SC_ERR_IDENTITY_INVALID',
  );
  const stale = signIdentity(SECRET, { user: 'alice', roles: [], ...req, timestampMs: 0 });
  assert.equal(
    code(() => v.verify(stale, req, 120_000)),
    'SC_ERR_IDENTITY_INVALID',
  );
  const other = signIdentity(SECRET, {
    user: 'alice',
    roles: [],
    method: 'GET',
    path: '/api/recommendations',
    timestampMs: 1000,
  });
  assert.equal(
    code(() => v.verify(other, req, 1000)),
    'SC_ERR_IDENTITY_INVALID',
  );
  const good = signIdentity(SECRET, { user: 'alice', roles: ['Operator'], ...req, timestampMs: 1000 });
  const [, payload, sig] = good.split('.');
  const tampered = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
  tampered.r = ['Engineer'];
  const tamperedHeader = `v1.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${sig}`;
  assert.equal(
    code(() => v.verify(tamperedHeader, req, 1000)),
    'SC_ERR_IDENTITY_INVALID',
  );
  assert.equal(
    code(() => v.verify('garbage', req, 1000)),
    'SC_ERR_IDENTITY_INVALID',
  );
});
