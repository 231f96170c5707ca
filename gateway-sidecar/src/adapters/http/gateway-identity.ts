/**
 * The gateway-signed identity: how the Ignition gateway module vouches for the Perspective user on
 * whose behalf it calls the sidecar. The browser never holds a sidecar credential.
 *
 * Header `X-Ignition-Identity: v1.<payload>.<signature>` where
 *   payload   = base64url(JSON {u: user, r: [ignition roles], t: epoch ms, n: nonce, m: METHOD, p: path})
 *   signature = base64url(HMAC-SHA256(gatewaySecret, "v1." + payload))
 * The sidecar accepts it only if the signature matches (constant-time compare), |now - t| is within
 * the allowed skew, the method and path equal the request's, and the nonce was not seen before
 * within the skew window (replay protection). The format is documented in docs/api.md and
 * implemented identically by the Java delegate in module-build/java.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ERRORS, SidecarError } from '../../errors.ts';

export const IDENTITY_HEADER = 'x-ignition-identity';

export interface GatewayIdentity {
  readonly user: string;
  readonly roles: readonly string[];
  readonly timestampMs: number;
  readonly nonce: string;
  readonly method: string;
  readonly path: string;
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

function sign(secret: string, payload: string): string {
  return b64url(createHmac('sha256', secret).update(`v1.${payload}`).digest());
}

/** Builds a header value (used by tests, the bench and the preview host's gateway emulation). */
export function signIdentity(
  secret: string,
  identity: {
    user: string;
    roles: readonly string[];
    method: string;
    path: string;
    timestampMs?: number;
    nonce?: string;
  },
): string {
  const body = {
    u: identity.user,
    r: identity.roles,
    t: identity.timestampMs ?? Date.now(),
    n: identity.nonce ?? b64url(randomBytes(12)),
    m: identity.method.toUpperCase(),
    p: identity.path,
  };
  const payload = b64url(Buffer.from(JSON.stringify(body), 'utf8'));
  return `v1.${payload}.${sign(secret, payload)}`;
}

/** Verifies header values; remembers nonces for the skew window. */
export class IdentityVerifier {
  readonly #secret: string;
  readonly #maxSkewMs: number;
  readonly #seen = new Map<string, number>();
  readonly #maxNonces: number;

  constructor(secret: string, maxSkewSec: number, maxNonces = 100_000) {
    this.#secret = secret;
    this.#maxSkewMs = maxSkewSec * 1000;
    this.#maxNonces = maxNonces;
  }

  verify(header: string, request: { method: string; path: string }, nowMs: number): GatewayIdentity {
    const invalid = (why: string): SidecarError =>
      new SidecarError(ERRORS.IDENTITY_INVALID, `gateway identity rejected: ${why}`);
    if (header.length > 4096) throw invalid('header longer than 4096 characters');
    const parts = header.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') throw invalid("expected 'v1.<payload>.<signature>'");
    const payload = parts[1] as string;
    const given = Buffer.from(parts[2] as string, 'base64url');
    const expected = Buffer.from(sign(this.#secret, payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw invalid('signature does not match');
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid('payload is not JSON');
    }
    const b = body as Record<string, unknown>;
    if (
      typeof b.u !== 'string' ||
      b.u.length === 0 ||
      !Array.isArray(b.r) ||
      !b.r.every((r) => typeof r === 'string') ||
      typeof b.t !== 'number' ||
      typeof b.n !== 'string' ||
      b.n.length < 8 ||
      typeof b.m !== 'string' ||
      typeof b.p !== 'string'
    ) {
      throw invalid('payload must hold u (user), r (roles), t (ms), n (nonce), m (method), p (path)');
    }
    if (Math.abs(nowMs - b.t) > this.#maxSkewMs) {
      throw invalid(
        `timestamp is ${Math.round((nowMs - b.t) / 1000)} s away from the sidecar clock (max ${this.#maxSkewMs / 1000} s)`,
      );
    }
    if (b.m !== request.method.toUpperCase() || b.p !== request.path) {
      throw invalid(`signed for ${b.m} ${b.p}, used for ${request.method.toUpperCase()} ${request.path}`);
    }
    this.#prune(nowMs);
    if (this.#seen.has(b.n)) {
      throw new SidecarError(
        ERRORS.IDENTITY_REPLAYED,
        'gateway identity rejected: nonce already used (replay)',
      );
    }
    this.#seen.set(b.n, b.t);
    return { user: b.u, roles: b.r as string[], timestampMs: b.t, nonce: b.n, method: b.m, path: b.p };
  }

  #prune(nowMs: number): void {
    if (this.#seen.size < this.#maxNonces && this.#seen.size % 1024 !== 0) return;
    for (const [nonce, t] of this.#seen) {
      if (Math.abs(nowMs - t) > this.#maxSkewMs) this.#seen.delete(nonce);
    }
    // Still full after pruning: evicting a live nonce would reopen a replay window, so refuse.
    if (this.#seen.size >= this.#maxNonces) {
      throw new SidecarError(
        ERRORS.IDENTITY_REPLAYED,
        'gateway identity rejected: too many identities in the skew window',
      );
    }
  }
}
