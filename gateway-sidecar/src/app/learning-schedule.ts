/**
 * The retraining schedule: runs `run` at every time the cron expression names (default
 * `learning.retrainCron` = '0 0 * * 0', Sunday midnight). One run at a time: a tick that comes
 * while the previous run is still going is skipped and logged, never queued.
 */
import { CronExpressionParser } from 'cron-parser';
import type { Logger } from '../log.ts';
import type { Clock } from '../ports.ts';

export interface RetrainSchedule {
  /** When the next run is due (ms since epoch). */
  readonly nextAtMs: () => number;
  /** Runs started so far. */
  readonly runs: () => number;
  stop(): void;
}

/** Longest setTimeout delay node accepts; later times are reached in hops. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Starts the schedule. `run` errors are logged and the schedule continues.
 * ```ts
 * const schedule = startRetrainSchedule({ cron: config.learning.retrainCron, clock: systemClock, logger, run: () => retrain(deps, opts) });
 * // on shutdown
 * schedule.stop();
 * ```
 * Throws a RangeError naming the expression when it is not a valid cron expression.
 */
export function startRetrainSchedule(o: {
  cron: string;
  clock: Clock;
  logger: Logger;
  run: () => Promise<unknown>;
}): RetrainSchedule {
  let expr;
  try {
    expr = CronExpressionParser.parse(o.cron, { currentDate: new Date(o.clock.now()) });
  } catch (cause) {
    throw new RangeError(`learning.retrainCron '${o.cron}' is not a cron expression: ${String(cause)}`);
  }
  let nextAt = expr.next().getTime();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let stopped = false;
  let runs = 0;
  const arm = (): void => {
    if (stopped) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, nextAt - o.clock.now()));
    timer = setTimeout(fire, delay);
    timer.unref?.();
  };
  const fire = (): void => {
    if (o.clock.now() < nextAt) return arm(); // a hop of a long delay
    const due = nextAt;
    nextAt = CronExpressionParser.parse(o.cron, { currentDate: new Date(Math.max(o.clock.now(), due) + 1) })
      .next()
      .getTime();
    if (running)
      o.logger.warn({ due: new Date(due).toISOString() }, 'retrain still running; scheduled run skipped');
    else {
      running = true;
      runs++;
      o.logger.info({ due: new Date(due).toISOString(), cron: o.cron }, 'scheduled retrain started');
      o.run()
        .catch((err: unknown) => o.logger.error({ err }, 'scheduled retrain failed'))
        .finally(() => {
          running = false;
        });
    }
    arm();
  };
  arm();
  return {
    nextAtMs: () => nextAt,
    runs: () => runs,
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
