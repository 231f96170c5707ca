/**
 * Counts every refused request (status 400–499) by route pattern, status and error code, for
 * `sidecar_http_refusals_total` in /metrics. Counted when the response finishes, so every path that
 * answers 4xx is covered: the error middleware, the rate limiter, the 404 fallback and any route
 * that answers a 4xx itself.
 *
 * Labels stay bounded: `route` is the matched route pattern (`/api/recommendations/:id/decision`),
 * never the raw path; a request refused before any route matched (authentication, rate limit, a
 * body that does not parse, an unknown path) is labelled `/api/*` under /api and `*` elsewhere.
 * `code` is the catalogue code the body carries (docs/errors.md), or `none` when a 4xx was sent
 * without one.
 */
import type { Request, RequestHandler, Response } from 'express';

export interface RefusalObserver {
  refused(route: string, status: number, code: string): void;
}

/** Where the error middleware and the rate limiter leave the code of a refusal. */
export const REFUSAL_CODE = 'refusalCode';

function isApi(req: Request): boolean {
  const url = req.originalUrl;
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');
}

/** The route pattern a request matched, or its bounded stand-in (see the module comment). */
export function routeLabel(req: Request): string {
  const pattern: unknown = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof pattern === 'string') return `${isApi(req) ? '/api' : ''}${pattern}`;
  return isApi(req) ? '/api/*' : '*';
}

export function countRefusals(observer: RefusalObserver | undefined): RequestHandler {
  return (req: Request, res: Response, next) => {
    if (observer) {
      res.once('finish', () => {
        const status = res.statusCode;
        if (status < 400 || status > 499) return;
        const code: unknown = (res.locals as Record<string, unknown>)[REFUSAL_CODE];
        observer.refused(routeLabel(req), status, typeof code === 'string' ? code : 'none');
      });
    }
    next();
  };
}
