/**
 * The /api routes (DESIGN.md "Sidecar HTTP API"): list, get with history, decide, revert, the SSE
 * stream and the recent critical alerts. Handlers only validate, authorise and call the service.
 */
import { Router, type Request } from 'express';
import type { Decision, Recommendation } from '../../domain/recommendation-view.ts';
import type { RecommendationService } from '../../ports.ts';
import { ERRORS, SidecarError } from '../../errors.ts';
import type { Clock } from '../../ports.ts';
import type { Logger } from '../../log.ts';
import { actorOf, requireRole } from './auth.ts';
import {
  alertsQuerySchema,
  decisionBodySchema,
  idParamSchema,
  listQuerySchema,
  parseOrThrow,
  revertBodySchema,
  toDecision,
  toListFilter,
} from './schemas.ts';
import { sseHandler, type SseObserver, type SseOptions } from './sse.ts';

import type { CriticalAlertView } from '../../domain/recommendation-view.ts';

/** A critical alert as the API returns it. */
export type { CriticalAlertView };

export interface CriticalAlertReader {
  recent(limit: number, equipmentId?: string): Promise<CriticalAlertView[]>;
}

/** Counts decisions for /metrics. */
export interface DecisionObserver {
  decided(
    decision: Decision | 'revert',
    outcome: 'ok' | 'conflict' | 'refused',
    result?: Recommendation,
  ): void;
}

export interface ApiRouteDeps {
  readonly recommendations: RecommendationService;
  readonly criticalAlerts: CriticalAlertReader | undefined;
  readonly sse: SseOptions;
  readonly sseObserver: SseObserver | undefined;
  readonly decisionObserver: DecisionObserver | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

function idOf(req: Request): string {
  return parseOrThrow(idParamSchema, req.params.id, 'id');
}

function outcomeOf(err: unknown): 'conflict' | 'refused' {
  return err instanceof SidecarError && err.code === ERRORS.API_CONFLICT.code ? 'conflict' : 'refused';
}

export function apiRoutes(deps: ApiRouteDeps): Router {
  const router = Router();
  const { recommendations: service, logger } = deps;
  const audit = logger.child({ component: 'api' });

  router.get('/recommendations', requireRole('viewer'), async (req, res) => {
    const query = parseOrThrow(listQuerySchema, req.query, '');
    const { items, total } = await service.list(toListFilter(query));
    res.json({ items, total, limit: query.limit, offset: query.offset });
  });

  router.get('/recommendations/:id', requireRole('viewer'), async (req, res) => {
    const id = idOf(req);
    const found = await service.get(id);
    if (!found) throw new SidecarError(ERRORS.API_NOT_FOUND, `recommendation '${id}' does not exist`);
    res.json(found);
  });

  router.post('/recommendations/:id/decision', requireRole('operator'), async (req, res) => {
    const id = idOf(req);
    const body = parseOrThrow(decisionBodySchema, req.body ?? {}, '');
    const actor = actorOf(req);
    try {
      const updated = await service.decide(id, toDecision(body), actor);
      deps.decisionObserver?.decided(body.decision, 'ok', updated);
      audit.info(
        {
          recommendationId: id,
          decision: body.decision,
          user: actor.user,
          via: actor.via,
          status: updated.status,
          version: updated.version,
        },
        'recommendation decided',
      );
      res.json(updated);
    } catch (err) {
      deps.decisionObserver?.decided(body.decision, outcomeOf(err));
      throw err;
    }
  });

  router.post('/recommendations/:id/revert', requireRole('engineer'), async (req, res) => {
    const id = idOf(req);
    const body = parseOrThrow(revertBodySchema, req.body ?? {}, '');
    const actor = actorOf(req);
    try {
      const updated = await service.revert(id, actor, body.note);
      deps.decisionObserver?.decided('revert', 'ok', updated);
      audit.info(
        { recommendationId: id, user: actor.user, via: actor.via, status: updated.status },
        'setpoint write reverted',
      );
      res.json(updated);
    } catch (err) {
      deps.decisionObserver?.decided('revert', outcomeOf(err));
      throw err;
    }
  });

  router.get('/critical-alerts', requireRole('viewer'), async (req, res) => {
    const query = parseOrThrow(alertsQuerySchema, req.query, '');
    if (!deps.criticalAlerts)
      throw new SidecarError(ERRORS.API_NOT_FOUND, 'critical alerts are not available in this deployment');
    res.json({ items: await deps.criticalAlerts.recent(query.limit, query.equipment) });
  });

  router.get('/me', requireRole('viewer'), (req, res) => {
    res.json(actorOf(req));
  });

  router.get(
    '/stream',
    requireRole('viewer'),
    sseHandler(service, deps.sse, deps.clock, logger.child({ component: 'sse' }), deps.sseObserver),
  );

  return router;
}
