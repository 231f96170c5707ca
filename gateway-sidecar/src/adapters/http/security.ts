/**
 * Security headers, CORS and rate limiting.
 *
 * Framing: the Perspective component does not frame the sidecar; it runs inside the gateway page
 * and its requests reach the sidecar through the gateway module's proxy. The only sidecar page is
 * the preview host at `/`, and a designer may want to show it in a Perspective Inline Frame. So
 * `frame-ancestors` defaults to 'self' and `http.frameAncestors` can add the gateway origin;
 * X-Frame-Options (which cannot name another origin) is sent only while the list is just 'self'.
 * API responses are data, never documents: `default-src 'none'` and `frame-ancestors 'none'`.
 */
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { ERRORS, SidecarError } from '../../errors.ts';

export interface SecurityOptions {
  readonly frameAncestors: readonly string[];
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerMinute: number;
}

export function apiHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    next();
  };
}

export function pageHeaders(options: SecurityOptions): RequestHandler {
  const ancestors = options.frameAncestors.length === 0 ? ["'self'"] : options.frameAncestors;
  const onlySelf = ancestors.length === 1 && ancestors[0] === "'self'";
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // The component and React set inline style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${ancestors.join(' ')}`,
  ].join('; ');
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', csp);
    if (onlySelf) res.setHeader('X-Frame-Options', 'SAMEORIGIN');
    next();
  };
}

/** CORS only for configured origins; with none configured no CORS header is ever sent. */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (allowed.size === 0 || origin === undefined || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader(
      'Access-Control-Allow-Headers',
      'Authorization, Content-Type, Last-Event-ID, X-Ignition-Identity',
    );
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Max-Age', '600');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Per-client-address limit; the excess gets 429 with SC_ERR_API_RATE_LIMITED and Retry-After. */
/**
 * At most `perMinute` requests a minute per key: `keyOf(req)` when it gives one (the authenticated
 * identity), else the client address (IPv6 by /56 subnet). `skip` leaves requests out entirely.
 */
export function rateLimiter(
  perMinute: number,
  options: { keyOf?: (req: Request) => string | undefined; skip?: (req: Request) => boolean } = {},
): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req) => options.keyOf?.(req) ?? `addr:${ipKeyGenerator(req.ip ?? '')}`,
    ...(options.skip ? { skip: options.skip } : {}),
    handler: (req, res, next) => {
      // The limiter may run before the API headers; a refused request still must not be sniffed or cached.
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'no-store');
      const who = options.keyOf?.(req) === undefined ? 'this client address' : 'this user';
      next(
        new SidecarError(
          ERRORS.API_RATE_LIMITED,
          `more than ${perMinute} requests per minute from ${who}; retry later`,
        ),
      );
    },
  });
}
