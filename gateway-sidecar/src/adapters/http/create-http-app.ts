/**
 * Builds the Express app; never listens (main.ts does, tests listen on port 0).
 *
 * Order matters: the refusal counter first (it counts at response end), CORS, `/health` and
 * `/metrics` (neither limited nor authenticated), the per-address rate limit for everything but
 * `/api`, then `/api` (identity, rate limit per identity or address, refusal of the
 * unauthenticated, JSON body limit, routes), then the preview page, then 404 and the one error
 * middleware.
 */
import express, { type Express, type Router } from 'express';
import type { RecommendationService } from '../../ports.ts';
import type { Clock } from '../../ports.ts';
import type { Logger } from '../../log.ts';
import { identify, rateLimitKeyOf, requireIdentity, type AuthOptions } from './auth.ts';
import { errorMiddleware, notFound } from './error-middleware.ts';
import { apiRoutes, type CriticalAlertReader, type DecisionObserver } from './recommendation-routes.ts';
import { apiHeaders, cors, pageHeaders, rateLimiter } from './security.ts';
import type { SseObserver } from './sse.ts';
import { previewRoutes, type PreviewOptions } from './preview-page.ts';
import { countRefusals, type RefusalObserver } from './refusals.ts';

export type DependencyState = 'up' | 'degraded' | 'down';

export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly dependencies: Readonly<
    Record<string, { readonly state: DependencyState; readonly detail?: string }>
  >;
}

export interface HttpOptions {
  readonly bodyLimitBytes: number;
  readonly rateLimitPerMinute: number;
  readonly corsOrigins: readonly string[];
  readonly frameAncestors: readonly string[];
  readonly sseHeartbeatMs: number;
  readonly sseMaxQueue?: number;
}

export interface HttpDeps {
  readonly recommendations: RecommendationService;
  readonly auth: AuthOptions;
  readonly http: HttpOptions;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly health: () => Promise<HealthReport>;
  /** Prometheus text exposition. */
  readonly metrics: () => string | Promise<string>;
  readonly criticalAlerts?: CriticalAlertReader;
  readonly sseObserver?: SseObserver;
  readonly decisionObserver?: DecisionObserver;
  /** Told about every 4xx answer, by route pattern, status and code (`sidecar_http_refusals_total`). */
  readonly refusalObserver?: RefusalObserver;
  /** Additional authenticated /api routes (e.g. shelving, modes); mounted after the core ones. */
  readonly extraApiRoutes?: Router;
  /** The preview page at `/` (omitted: no page). */
  readonly preview?: PreviewOptions;
}

function isApiPath(path: string): boolean {
  const p = path.toLowerCase(); // Express routes case-insensitively: /API/x reaches the /api router
  return p === '/api' || p.startsWith('/api/');
}

export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  const log = deps.logger.child({ component: 'http' });
  app.disable('x-powered-by');
  app.set('etag', false);
  // Query strings parse with the simple parser: no nested objects from `a[b]=c`.
  app.set('query parser', 'simple');

  app.use(countRefusals(deps.refusalObserver));
  app.use(cors(deps.http.corsOrigins));

  app.get('/health', apiHeaders(), async (_req, res) => {
    const report = await deps.health();
    res.status(report.status === 'down' ? 503 : 200).json(report);
  });

  app.get('/metrics', apiHeaders(), async (_req, res) => {
    res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    res.send(await deps.metrics());
  });

  // Limited from here on (the page and /api), not the monitoring routes above: a saturated API
  // must still be observable. The page is limited per client address; /api below per identity.
  app.use(rateLimiter(deps.http.rateLimitPerMinute, { skip: (req) => isApiPath(req.path) }));

  // /api: who is calling first, then the limit keyed on that identity (behind the gateway every
  // Perspective session shares one address, so an address key would pool all users), and only then
  // the refusal of unauthenticated requests, which are limited by address. The body is parsed last.
  const api = express.Router();
  api.use(apiHeaders());
  api.use(identify(deps.auth, deps.clock));
  api.use(rateLimiter(deps.http.rateLimitPerMinute, { keyOf: rateLimitKeyOf }));
  api.use(requireIdentity());
  api.use(express.json({ limit: deps.http.bodyLimitBytes, strict: true }));
  api.use(
    apiRoutes({
      recommendations: deps.recommendations,
      criticalAlerts: deps.criticalAlerts,
      sse: {
        heartbeatMs: deps.http.sseHeartbeatMs,
        maxQueue: deps.http.sseMaxQueue ?? 1_000,
        replayPage: 200,
        retryMs: 2_000,
      },
      sseObserver: deps.sseObserver,
      decisionObserver: deps.decisionObserver,
      clock: deps.clock,
      logger: log,
    }),
  );
  if (deps.extraApiRoutes) api.use(deps.extraApiRoutes);
  api.use(notFound);
  app.use('/api', api);

  if (deps.preview) {
    app.use(
      pageHeaders({
        frameAncestors: deps.http.frameAncestors,
        corsOrigins: deps.http.corsOrigins,
        rateLimitPerMinute: deps.http.rateLimitPerMinute,
      }),
    );
    app.use(previewRoutes(deps.preview, log));
  }

  app.use(notFound);
  app.use(errorMiddleware(log));
  return app;
}
