/**
 * Request validation (zod) for the API. Every failure becomes SC_ERR_API_VALIDATION whose message
 * starts with the offending field, e.g. "expectedVersion: Required".
 */
import { z } from 'zod';
import { ERRORS, SidecarError } from '../../errors.ts';
import type { DecisionRequest, ListFilter, RecommendationStatus } from '../../domain/recommendation-view.ts';
import type { Severity } from '../../domain/detection.ts';

const STATUSES = [
  'pending',
  'approved',
  'deferred',
  'rejected',
  'executed',
  'failed',
  'expired',
] as const satisfies readonly RecommendationStatus[];
const SEVERITY_VALUES = ['low', 'medium', 'high', 'critical'] as const satisfies readonly Severity[];

/** `?status=pending,deferred` or repeated `?status=pending&status=deferred`. */
function csvEnum<T extends readonly [string, ...string[]]>(values: T) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(z.enum(values)).max(values.length * 2));
}

/** Postgres text cannot hold U+0000; refusing it here keeps such a note a 400, not a failed insert (500). */
export const noNul = (s: string): boolean => !s.includes('\u0000');
export const NUL_MESSAGE = 'must not contain NUL (U+0000) characters';

export const listQuerySchema = z
  .object({
    status: csvEnum(STATUSES).optional(),
    severity: csvEnum(SEVERITY_VALUES).optional(),
    equipment: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -')
      .optional(),
    /** Alias of `equipment` (the component's client sends this name). */
    equipmentId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -')
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const idParamSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be 1-128 of A-Z a-z 0-9 _ . : -');

export const decisionBodySchema = z
  .object({
    decision: z.enum(['approve', 'defer', 'reject']),
    note: z.string().trim().min(1).max(2000).refine(noNul, NUL_MESSAGE).optional(),
    deferUntil: z.string().datetime({ offset: true }).optional(),
    expectedVersion: z.number().int().min(1),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.decision === 'reject' && b.note === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['note'], message: 'a note is required to reject' });
    }
    if (b.decision === 'defer' && b.deferUntil === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['deferUntil'],
        message: 'deferUntil is required to defer',
      });
    }
    if (b.decision !== 'defer' && b.deferUntil !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['deferUntil'],
        message: 'deferUntil is only allowed with defer',
      });
    }
  });

export const revertBodySchema = z
  .object({ note: z.string().trim().min(1).max(2000).refine(noNul, NUL_MESSAGE) })
  .strict();

export const alertsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    equipment: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 _ . -')
      .optional(),
  })
  .strict();

/** Last-Event-ID header or `?lastEventId=`: a non-negative integer seq. */
export const lastEventIdSchema = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

/** Parses or throws SC_ERR_API_VALIDATION naming the first bad field (prefixed with `where`). */
export function parseOrThrow<T extends z.ZodTypeAny>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<T>;
  const problems = result.error.issues.map((i) => {
    const field = [where, ...i.path.map(String)].filter((s) => s !== '').join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message;
    return `${field || 'request'}: ${message}`;
  });
  throw new SidecarError(ERRORS.API_VALIDATION, problems.join('; '), { details: { problems } });
}

export function toListFilter(q: z.output<typeof listQuerySchema>): ListFilter {
  return {
    ...(q.status ? { status: q.status } : {}),
    ...(q.severity ? { severity: q.severity } : {}),
    ...((q.equipment ?? q.equipmentId) ? { equipmentId: (q.equipment ?? q.equipmentId) as string } : {}),
    limit: q.limit,
    offset: q.offset,
  };
}

export function toDecision(b: z.output<typeof decisionBodySchema>): DecisionRequest {
  return {
    decision: b.decision,
    expectedVersion: b.expectedVersion,
    ...(b.note !== undefined ? { note: b.note } : {}),
    ...(b.deferUntil !== undefined ? { deferUntil: b.deferUntil } : {}),
  };
}
