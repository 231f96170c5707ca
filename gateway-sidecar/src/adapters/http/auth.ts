/**
 * Authentication and role checks for everything under /api. Two ways in:
 *  - `Authorization: Bearer <token>` with a token from `auth.tokens` (its roles as configured);
 *  - `X-Ignition-Identity` signed by the gateway module (its Ignition roles mapped through
 *    `auth.gatewayRoleMap`; unmapped roles grant nothing).
 * Tokens are compared by their SHA-256 digest so the lookup time does not depend on how many
 * leading characters of a guess are right.
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ERRORS, SidecarError } from '../../errors.ts';
import type { Clock } from '../../ports.ts';
import type { Actor, Role } from '../../domain/recommendation-view.ts';
import { IDENTITY_HEADER, IdentityVerifier } from './gateway-identity.ts';

export interface AuthOptions {
  readonly tokens: readonly {
    readonly token: string;
    readonly user: string;
    readonly roles: readonly Role[];
  }[];
  readonly gatewaySecret?: string | undefined;
  readonly gatewayMaxSkewSec: number;
  readonly gatewayRoleMap: Readonly<Record<string, Role>>;
}

const ACTOR = Symbol('actor');
type WithActor = Request & { [ACTOR]?: Actor };

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The authenticated actor of a request (set by `authenticate`). Throws if the route forgot auth. */
export function actorOf(req: Request): Actor {
  const actor = (req as WithActor)[ACTOR];
  if (!actor) throw new SidecarError(ERRORS.API_UNAUTHENTICATED, 'authentication required');
  return actor;
}

/** The path the gateway signs: the request path without the query string. */
function signedPath(req: Request): string {
  const q = req.originalUrl.indexOf('?');
  return q === -1 ? req.originalUrl : req.originalUrl.slice(0, q);
}

const AUTH_ERROR = Symbol('authError');
type WithAuthError = WithActor & { [AUTH_ERROR]?: unknown };

/**
 * Authentication in two steps, so the rate limit can sit between them and key on who is calling:
 * `identify` sets the actor, or remembers why there is none and carries on; `requireIdentity`
 * then refuses the request with that reason. `authenticate` is both in one.
 */
export function identify(options: AuthOptions, clock: Clock): RequestHandler {
  const check = authenticate(options, clock);
  return (req, res, next) => {
    let failure: unknown;
    try {
      // A bad gateway identity throws here rather than passing an error on: both are remembered.
      check(req, res, (err?: unknown) => {
        failure = err;
      });
    } catch (err) {
      failure = err;
    }
    if (failure !== undefined) (req as WithAuthError)[AUTH_ERROR] = failure;
    next();
  };
}

export function requireIdentity(): RequestHandler {
  return (req, _res, next) => {
    const err = (req as WithAuthError)[AUTH_ERROR];
    if (err !== undefined) next(err);
    else next();
  };
}

/**
 * The rate-limit key of an authenticated request: the gateway-signed user (`gateway:<user>`) or the
 * bearer token's user (`token:<user>`); undefined before or without authentication (the limiter
 * then keys on the client address).
 */
export function rateLimitKeyOf(req: Request): string | undefined {
  const actor = (req as WithActor)[ACTOR];
  return actor === undefined ? undefined : `${actor.via}:${actor.user}`;
}

export function authenticate(options: AuthOptions, clock: Clock): RequestHandler {
  const byDigest = new Map<string, Actor>(
    options.tokens.map((t) => [
      digest(t.token),
      { user: t.user, roles: [...t.roles], via: 'token' as const },
    ]),
  );
  const verifier = options.gatewaySecret
    ? new IdentityVerifier(options.gatewaySecret, options.gatewayMaxSkewSec)
    : undefined;

  return (req: Request, _res: Response, next: NextFunction) => {
    const identity = req.get(IDENTITY_HEADER);
    const authorization = req.get('authorization');
    if (identity !== undefined) {
      if (!verifier) {
        next(
          new SidecarError(
            ERRORS.IDENTITY_INVALID,
            'gateway identity rejected: no auth.gatewaySecret is configured',
          ),
        );
        return;
      }
      const id = verifier.verify(identity, { method: req.method, path: signedPath(req) }, clock.now());
      // Own keys only: a claimed role named '__proto__' or 'constructor' must map to nothing, not to Object's members.
      const roles = [
        ...new Set(
          id.roles
            .map((r) => (Object.hasOwn(options.gatewayRoleMap, r) ? options.gatewayRoleMap[r] : undefined))
            .filter((r): r is Role => r !== undefined),
        ),
      ];
      (req as WithActor)[ACTOR] = { user: id.user, roles, via: 'gateway' };
      next();
      return;
    }
    if (authorization === undefined) {
      next(
        new SidecarError(
          ERRORS.API_UNAUTHENTICATED,
          `authentication required: send 'Authorization: Bearer <token>' or '${IDENTITY_HEADER}'`,
        ),
      );
      return;
    }
    const match = /^Bearer\s+(\S{1,512})$/i.exec(authorization.trim());
    if (!match) {
      next(new SidecarError(ERRORS.API_UNAUTHENTICATED, "authorization header must be 'Bearer <token>'"));
      return;
    }
    const actor = byDigest.get(digest(match[1] as string));
    if (!actor) {
      next(new SidecarError(ERRORS.API_UNAUTHENTICATED, 'unknown bearer token'));
      return;
    }
    (req as WithActor)[ACTOR] = actor;
    next();
  };
}

/** Role hierarchy: an engineer may do what an operator may, an operator what a viewer may. */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, engineer: 3 };

export function hasRole(actor: Actor, needed: Role): boolean {
  return actor.roles.some((r) => RANK[r] >= RANK[needed]);
}

export function requireRole(needed: Role): RequestHandler {
  return (req, _res, next) => {
    const actor = actorOf(req);
    if (!hasRole(actor, needed)) {
      next(
        new SidecarError(
          ERRORS.API_FORBIDDEN,
          `role '${needed}' required; '${actor.user}' has ${actor.roles.length === 0 ? 'no sidecar role' : actor.roles.join(', ')}`,
        ),
      );
      return;
    }
    next();
  };
}
