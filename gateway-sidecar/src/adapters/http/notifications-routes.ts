/**
 * Routes for notification delivery state and acknowledgement, as a router the app mounts under
 * `/api` AFTER its authentication middleware:
 *
 *   GET  /notifications?acknowledged=&kind=&deliveryState=&subjectId=&limit=&offset=   (viewer)
 *   GET  /notifications/:id                                                             (viewer)
 *   POST /notifications/:id/acknowledge   body { note? }                                (operator)
 *
 * Assumption: authentication already ran and `actorOf(req)` returns the request's actor (pass the
 * app's `actorOf` from auth.ts); this router only checks roles. Bad query values answer
 * SC_ERR_API_VALIDATION naming the field; an unknown id answers SC_ERR_API_NOT_FOUND.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { ERRORS, SidecarError } from '../../errors.ts';
import type { NotificationListFilter, NotificationRecord } from '../../ports.ts';
import { noNul, NUL_MESSAGE } from './schemas.ts';

type Role = 'viewer' | 'operator' | 'engineer';

/** The authenticated caller, as the app's auth middleware records it (structurally the app's Actor). */
export interface RouteActor {
  readonly user: string;
  readonly roles: readonly Role[];
}

/** The part of the Notifier these routes use. */
export interface NotificationsApi {
  list(filter: NotificationListFilter): Promise<{ items: NotificationRecord[]; total: number }>;
  get(id: string): Promise<NotificationRecord | undefined>;
  acknowledge(id: string, actor: RouteActor, note?: string): Promise<NotificationRecord>;
}

export interface NotificationsRouterOptions {
  readonly notifier: NotificationsApi;
  readonly actorOf: (req: Request) => RouteActor;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 1, operator: 2, engineer: 3 };

function requireRoleOf(actor: RouteActor, needed: Role): void {
  if (!actor.roles.some((r) => RANK[r] >= RANK[needed])) {
    throw new SidecarError(
      ERRORS.API_FORBIDDEN,
      `role '${needed}' required; '${actor.user}' has ${actor.roles.join(', ') || 'no sidecar role'}`,
    );
  }
}

const listQuery = z
  .object({
    acknowledged: z.enum(['true', 'false']).optional(),
    kind: z.enum(['critical_alert', 'recommendation_pending', 'drift_alert']).optional(),
    deliveryState: z.enum(['queued', 'sent', 'retrying', 'failed', 'suppressed', 'cancelled']).optional(),
    subjectId: z.string().min(1).max(200).refine(noNul, NUL_MESSAGE).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

// Postgres text cannot hold U+0000: refused here with a 400 naming the field, not a 500 from the insert.
const ackBody = z.object({ note: z.string().max(2000).refine(noNul, NUL_MESSAGE).optional() }).strict();
const idParam = z.string().min(1).max(200).refine(noNul, NUL_MESSAGE);

function parse<S extends z.ZodTypeAny>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || where;
    throw new SidecarError(
      ERRORS.API_VALIDATION,
      `${where}${issue?.path.length ? `.${field}` : ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data as z.output<S>;
}

export function createNotificationsRouter(options: NotificationsRouterOptions): Router {
  const router = Router();

  router.get('/notifications', async (req, res) => {
    requireRoleOf(options.actorOf(req), 'viewer');
    const q = parse(listQuery, req.query, 'query');
    const result = await options.notifier.list({
      acknowledged: q.acknowledged === undefined ? undefined : q.acknowledged === 'true',
      kind: q.kind,
      deliveryState: q.deliveryState,
      subjectId: q.subjectId,
      limit: q.limit,
      offset: q.offset,
    });
    res.json(result);
  });

  router.get('/notifications/:id', async (req, res) => {
    requireRoleOf(options.actorOf(req), 'viewer');
    const id = parse(idParam, req.params.id, 'id');
    const found = await options.notifier.get(id);
    if (!found) throw new SidecarError(ERRORS.API_NOT_FOUND, `no notification '${id}'`);
    res.json(found);
  });

  router.post('/notifications/:id/acknowledge', async (req, res) => {
    const actor = options.actorOf(req);
    requireRoleOf(actor, 'operator');
    const id = parse(idParam, req.params.id, 'id');
    const body = parse(ackBody, req.body ?? {}, 'body');
    res.json(await options.notifier.acknowledge(id, actor, body.note));
  });

  return router;
}
