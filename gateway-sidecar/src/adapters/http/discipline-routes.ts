/**
 * Alarm-management routes (ISA-18.2 applied to ML output): shelving, operating modes, KPIs.
 * Mounted under /api after authentication; the service enforces its own rules and errors.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { AlarmDisciplineService } from '../../ports.ts';
import type { Logger } from '../../log.ts';
import { actorOf, requireRole } from './auth.ts';
import { NUL_MESSAGE, noNul, parseOrThrow } from './schemas.ts';
import { OPERATING_MODES, canonicalMode } from '../../domain/alarm-discipline.ts';

const equipmentId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -');

const shelveBody = z
  .object({
    equipmentId,
    issueType: z.string().regex(/^(\*|[a-z0-9_]{1,64})$/, "must be an issue type or '*'"),
    reason: z.string().trim().min(1, 'a reason is required').max(2000).refine(noNul, NUL_MESSAGE),
    durationMinutes: z.number().int().positive(),
  })
  .strict();

const shelfId = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a positive integer')
  .transform(Number);

/** One of OPERATING_MODES (any case, 'start-up' allowed), stored canonical; anything else is a 400. */
const modeBody = z
  .object({
    mode: z
      .string()
      .max(32)
      .transform((m, ctx) => {
        const mode = canonicalMode(m);
        if (mode === undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            message: `must be one of ${OPERATING_MODES.join(', ')}`,
          });
          return z.NEVER;
        }
        return mode;
      }),
  })
  .strict();

export function disciplineRoutes(service: AlarmDisciplineService, logger: Logger): Router {
  const router = Router();
  const audit = logger.child({ component: 'api' });

  router.get('/shelves', requireRole('viewer'), async (_req, res) => {
    res.json({ items: await service.listShelves() });
  });

  router.post('/shelves', requireRole('operator'), async (req, res) => {
    const body = parseOrThrow(shelveBody, req.body ?? {}, '');
    const actor = actorOf(req);
    const shelf = await service.shelve(body, actor);
    audit.info(
      {
        shelfId: shelf.id,
        equipmentId: shelf.equipmentId,
        issueType: shelf.issueType,
        user: actor.user,
        until: shelf.until,
      },
      'pattern shelved',
    );
    res.status(201).json(shelf);
  });

  router.delete('/shelves/:id', requireRole('operator'), async (req, res) => {
    const id = parseOrThrow(shelfId, req.params.id, 'id');
    const actor = actorOf(req);
    await service.unshelve(id, actor);
    audit.info({ shelfId: id, user: actor.user }, 'pattern unshelved');
    res.status(204).end();
  });

  router.get('/modes', requireRole('viewer'), (_req, res) => {
    res.json({ modes: Object.fromEntries(service.modes()) });
  });

  router.put('/equipment/:id/mode', requireRole('operator'), async (req, res) => {
    const id = parseOrThrow(equipmentId, req.params.id, 'id');
    const body = parseOrThrow(modeBody, req.body ?? {}, '');
    const actor = actorOf(req);
    await service.setMode(id, body.mode, actor);
    audit.info({ equipmentId: id, mode: body.mode, user: actor.user }, 'operating mode set');
    res.json({ equipmentId: id, mode: body.mode });
  });

  router.get('/kpis', requireRole('viewer'), (_req, res) => {
    res.json(service.kpis());
  });

  return router;
}
