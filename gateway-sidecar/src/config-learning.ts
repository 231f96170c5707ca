/**
 * The `learning` section of the configuration schema (docs/learning.md). Its own file only to
 * keep config.ts small; config.ts mounts it, so it is validated and documented like every key.
 */
import { z } from 'zod';
import { CronExpressionParser } from 'cron-parser';

const cron = z.string().refine(
  (s) => {
    try {
      CronExpressionParser.parse(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be a cron expression such as '0 0 * * 0'" },
);

export const learningSchema = z
  .object({
    /** Beta prior of a pattern's approval probability (mean alpha / (alpha + beta)). */
    priorAlpha: z.number().positive().default(2),
    priorBeta: z.number().positive().default(1),
    /** Retraining schedule (default weekly, Sunday midnight, like the seed's job). */
    retrainCron: cron.default('0 0 * * 0'),
    /** Run the schedule in the sidecar; `npm run retrain` works either way. */
    retrainEnabled: z.boolean().default(true),
    /** Days of scored events used for retraining (at most retention.silverDays are kept). */
    trainingDays: z.number().int().min(1).max(365).default(7),
    /** Most normal rows used to refit (sampled evenly). */
    maxNormalRows: z.number().int().min(100).default(50_000),
    /** Share of labelled recommendations held back for the gate (by a hash of the id, stable). */
    holdoutShare: z.number().gt(0).lt(1).default(0.3),
    /** Gate: promote only if F1 ≥ current − f1Tolerance and FAR ≤ current + farTolerance. */
    gateF1Tolerance: z.number().min(0).max(1).default(0.02),
    gateFarTolerance: z.number().min(0).max(1).default(0.01),
    /** Gate: fewest held-back labelled rows (both classes needed). */
    gateMinRows: z.number().int().min(1).default(20),
    /** Where retrained versions are written (default: <models root>/if-rf-ensemble). */
    modelsDir: z.string().optional(),
    /** Bounds of the adapted anomaly line on the ensemble score. */
    thresholdMin: z.number().gt(0).lt(1).default(0.5),
    thresholdMax: z.number().gt(0).lt(1).default(0.85),
    thresholdStep: z.number().gt(0).lt(1).default(0.05),
    targetRejectRate: z.number().min(0).max(1).default(0.3),
    /** Minutes the equipment is watched after an executed write before the outcome is recorded. */
    outcomeWindowMinutes: z.number().int().min(1).max(1_440).default(30),
    /** Revert a write whose outcome is 'worse' (through the audited revert path). */
    autoRevertWorse: z.boolean().default(false),
    /** Approvals faster than this count as rubber stamps. */
    minReadingSeconds: z.number().int().min(0).default(10),
    /** PSI at or above which a feature's drift raises an alert. */
    driftPsiAlert: z.number().positive().default(0.25),
    /** How often drift, human metrics and outcome checks run. */
    checkIntervalMs: z.number().int().min(1_000).default(300_000),
  })
  .strict()
  .refine((l) => l.thresholdMin < l.thresholdMax, { message: 'thresholdMin must be below thresholdMax' });

export type LearningConfig = z.infer<typeof learningSchema>;
