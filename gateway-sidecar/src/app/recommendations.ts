/**
 * The RecommendationService implementation, plus the ingest-side entry points (onScored, onMode,
 * onSetpoint, the critical bypass) and the alarm-management operations. Construct it once with
 * `createRecommendations(deps)`; it loads modes and shelves, and fails interrupted writes.
 * Live subscribers are told about every change after it committed.
 */
import { AlarmDiscipline, validateShelveRequest, type Shelf } from '../domain/alarm-discipline.ts';
import { CriticalDetector } from '../domain/critical.ts';
import type { ScoredReading } from '../domain/detection.ts';
import type { EquipmentIndex } from '../domain/equipment.ts';
import { canDecide, dueTransition } from '../domain/recommendation.ts';
import type { ModeReading, SetpointReading } from '../domain/tag-event.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Advisor, Clock, TagWriter } from '../ports.ts';
import { decisionPatch, type DecidingStore } from './decision.ts';
import type { ModeListener, RecommendationIntake, SetpointListener } from './ingest.ts';
import { CriticalPush, pushFirstBypass, withPending, type PushFirstBypass } from './critical-push.ts';
import { RecommendationEngine } from './recommendation-engine.ts';
import type { RecommendationsOptions } from './recommendations-options.ts';
import type {
  Actor,
  AlarmDisciplineService,
  AlarmKpiView,
  AuditEntry,
  Change,
  DecisionRequest,
  ListFilter,
  Recommendation,
  RecommendationService,
  ShelfView,
} from './recommendation-service.ts';
import {
  executeApprovedWrite,
  recoverInterruptedWrites,
  revertWrite,
  type WriteDeps,
} from './setpoint-write.ts';

export { recommendationsOptionsFrom, type RecommendationsOptions } from './recommendations-options.ts';

export interface RecommendationsDeps {
  /** The recommendation store, with the decision that updates the pattern's open recommendations. */
  readonly store: DecidingStore;
  readonly writer: TagWriter;
  readonly equipment: EquipmentIndex;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: RecommendationsOptions;
  readonly advisor?: Advisor;
  /** Learned per-pattern confidence (app/learning.ts `Learning.confidence`). */
  readonly confidence?: (equipmentId: string, issueType: string, base: number) => number;
}

function shelfView(s: Shelf): ShelfView {
  return {
    id: s.id,
    equipmentId: s.equipmentId,
    issueType: s.issueType,
    reason: s.reason,
    by: s.by,
    from: new Date(s.fromMs).toISOString(),
    until: new Date(s.untilMs).toISOString(),
  };
}

export class Recommendations
  implements
    RecommendationService,
    AlarmDisciplineService,
    RecommendationIntake,
    ModeListener,
    SetpointListener
{
  readonly #d: RecommendationsDeps;
  readonly #log: Logger;
  readonly #listeners = new Set<(change: Change) => void>();
  /** Push-first bypasses: their pushed, not yet durable alerts join SSE resume reads. */
  readonly #criticalPushes = new Set<CriticalPush>();
  readonly #discipline: AlarmDiscipline;
  readonly #live = new Map<string, number>();
  #modes = new Map<string, string>();
  #shelves: Shelf[] = [];
  #lastPruneMs = Number.NEGATIVE_INFINITY;
  readonly #engine: RecommendationEngine;
  readonly #writeDeps: WriteDeps;

  constructor(deps: RecommendationsDeps) {
    const o = deps.options;
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'recommendations' });
    this.#discipline = new AlarmDiscipline(
      {
        limitPer10Min: o.maxRecommendationsPer10Min,
        chatterCount: o.chatterCount,
        chatterWindowMs: o.chatterWindowMinutes * 60_000,
      },
      deps.clock.now(),
    );
    this.#writeDeps = {
      store: deps.store,
      writer: deps.writer,
      equipment: deps.equipment,
      clock: deps.clock,
      logger: this.#log,
      options: { requireReadBack: o.requireReadBack, readBackTolerance: o.readBackTolerance },
    };
    this.#engine = new RecommendationEngine({
      store: deps.store,
      equipment: deps.equipment,
      discipline: this.#discipline,
      shelves: () => this.#shelves,
      modes: () => this.#modes,
      liveSetpoints: this.#live,
      advisor: deps.advisor,
      ...(deps.confidence ? { confidence: deps.confidence } : {}),
      clock: deps.clock,
      logger: this.#log,
      options: {
        minConfidence: o.minConfidence,
        dedupWindowMinutes: o.dedupWindowMinutes,
        maxRecommendationsPer10Min: o.maxRecommendationsPer10Min,
        reopenScoreMargin: o.reopenScoreMargin,
      },
      publish: (c) => this.#publish(c),
    });
  }

  /**
   * Loads modes and active shelves, rebuilds flood control and the alarm KPIs from the stored
   * rows, and fails writes a crash interrupted. Call once before use.
   */
  async start(): Promise<void> {
    this.#modes = await this.#d.store.modes();
    const now = this.#d.clock.now();
    this.#shelves = await this.#d.store.activeShelves(now);
    // Flood windows and KPIs continue where a crash left them, from the rows already stored.
    this.#discipline.restore(await this.#d.store.disciplineHistory(now), now);
    for (const c of await recoverInterruptedWrites(this.#writeDeps)) this.#publish(c);
  }

  #publish(change: Change): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#log.warn({ err }, 'change listener threw');
      }
    }
  }

  // ── ingest side ──────────────────────────────────────────────────────────
  onScored(scored: readonly ScoredReading[]): Promise<number> {
    return this.#engine.onScored(scored);
  }

  async onMode(mode: ModeReading): Promise<void> {
    if (this.#modes.get(mode.equipmentId) === mode.mode) return;
    this.#modes.set(mode.equipmentId, mode.mode);
    await this.#d.store.setMode(mode.equipmentId, mode.mode, 'tag', 'mode-tag', mode.sourceTimestampMs);
  }

  onSetpoint(setpoint: SetpointReading): void {
    this.#live.set(setpoint.tag.tagPath, setpoint.value);
  }

  /**
   * The emergency bypass for the ingest pipeline: detection, then push first, write after
   * (critical-push.ts). Each bypass adds a change listener; `close()` it when done (the scale-out
   * makes one per partition takeover).
   */
  criticalBypass(detector: CriticalDetector = new CriticalDetector()): PushFirstBypass {
    const push = new CriticalPush(this.#d.store, (c) => this.#publish(c), this.#log);
    this.#criticalPushes.add(push);
    const detach = [this.subscribe((c) => push.observe(c)), () => this.#criticalPushes.delete(push)];
    return pushFirstBypass(detector, push, this.#log, detach);
  }

  /** Change listeners registered now (live subscribers and open critical bypasses). */
  listenerCount(): number {
    return this.#listeners.size;
  }

  /** Resolves when background enrichments have finished. */
  idle(): Promise<void> {
    return this.#engine.idle();
  }

  // ── RecommendationService ────────────────────────────────────────────────
  list(filter: ListFilter): Promise<{ items: Recommendation[]; total: number }> {
    return this.#d.store.list(filter);
  }

  get(id: string): Promise<{ recommendation: Recommendation; history: AuditEntry[] } | undefined> {
    return this.#d.store.get(id);
  }

  async decide(id: string, request: DecisionRequest, actor: Actor): Promise<Recommendation> {
    if (!canDecide(actor))
      throw new SidecarError(
        ERRORS.API_FORBIDDEN,
        `user '${actor.user}' has no operator or engineer role and cannot decide`,
      );
    const now = this.#d.clock.now();
    const policy = { maxDeferMs: this.#d.options.maxDeferHours * 3_600_000 };
    const done = await this.#d.store.decide(id, now, (cur) =>
      decisionPatch(cur, request, actor, now, policy),
    );
    this.#discipline.recordDecision(actor.user, now);
    // With the pattern's other open recommendations and their new history, in seq order (live SSE
    // clients skip a seq below one already sent).
    for (const c of [done.change, ...done.siblings].sort((x, y) => x.seq - y.seq)) this.#publish(c);
    this.#log.info(
      {
        recommendationId: id,
        decision: request.decision,
        user: actor.user,
        status: done.recommendation.status,
        siblingsUpdated: done.siblings.length,
      },
      'recommendation decided',
    );
    if (done.recommendation.status !== 'approved') return done.recommendation;
    const written = await executeApprovedWrite(this.#writeDeps, done.recommendation, actor);
    if (written === undefined) return done.recommendation;
    this.#publish(written.change);
    return written.recommendation;
  }

  async revert(id: string, actor: Actor, note: string): Promise<Recommendation> {
    if (!actor.roles.includes('engineer'))
      throw new SidecarError(
        ERRORS.API_FORBIDDEN,
        `user '${actor.user}' is not an engineer; only engineers may revert a write`,
      );
    const found = await this.#d.store.get(id);
    if (found === undefined)
      throw new SidecarError(ERRORS.API_NOT_FOUND, `recommendation '${id}' does not exist`);
    const done = await revertWrite(this.#writeDeps, found.recommendation, actor, note);
    this.#publish(done.change);
    return done.recommendation;
  }

  async changesSince(afterSeq: number, limit: number): Promise<Change[]> {
    const durable = await this.#d.store.changesSince(afterSeq, limit);
    return withPending(durable, [...this.#criticalPushes], afterSeq, limit);
  }

  /**
   * Tells live subscribers (SSE, notifier) about a change another component committed to the
   * change log itself: the learning loop's write outcome (main-learning.ts).
   */
  announce(change: Change): void {
    this.#publish(change);
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Time-driven work, called every few seconds by main.ts: deferred → pending when due, pending →
   * expired after expireAfterMinutes, and a refresh of the active shelves. Returns transitions made.
   */
  async tick(): Promise<number> {
    const now = this.#d.clock.now();
    const expireMs = this.#d.options.expireAfterMinutes * 60_000;
    let n = 0;
    for (const id of await this.#d.store.dueIds(now, expireMs)) {
      try {
        const done = await this.#d.store.transition(id, now, (cur) => {
          const due = dueTransition(
            {
              status: cur.status,
              createdAtMs: Date.parse(cur.createdAt),
              deferredUntilMs: cur.deferredUntil === null ? null : Date.parse(cur.deferredUntil),
            },
            now,
            expireMs,
          );
          if (due === null) throw new SidecarError(ERRORS.API_CONFLICT, 'no longer due');
          const to = due === 'resume' ? 'pending' : 'expired';
          return {
            toStatus: to,
            bumpVersion: true,
            ...(due === 'resume' ? { deferredUntilMs: null } : {}),
            audit: {
              action: due === 'resume' ? 'resumed' : 'expired',
              actor: 'system',
              actorRoles: [],
              note: null,
              before: { status: cur.status },
              after: { status: to },
            },
          };
        });
        this.#publish(done.change);
        n++;
      } catch (err) {
        if (!(err instanceof SidecarError && err.code === ERRORS.API_CONFLICT.code)) throw err;
      }
    }
    this.#shelves = await this.#d.store.activeShelves(now);
    if (now - this.#lastPruneMs >= 3_600_000) {
      this.#lastPruneMs = now;
      const pruned = await this.#d.store.pruneChanges(
        now - this.#d.options.changeLogRetentionHours * 3_600_000,
      );
      if (pruned > 0) this.#log.info({ pruned }, 'change log pruned');
    }
    return n;
  }

  // ── AlarmDisciplineService ───────────────────────────────────────────────
  async shelve(
    req: { equipmentId: string; issueType: string; reason: string; durationMinutes: number },
    actor: Actor,
  ): Promise<ShelfView> {
    if (!canDecide(actor))
      throw new SidecarError(
        ERRORS.API_FORBIDDEN,
        `user '${actor.user}' cannot shelve (operator or engineer role needed)`,
      );
    const problem = validateShelveRequest(req, this.#d.options.shelveMaxHours);
    if (problem !== null)
      throw new SidecarError(ERRORS.API_VALIDATION, problem.message, { details: { field: problem.field } });
    if (!this.#d.equipment.equipment.has(req.equipmentId))
      throw new SidecarError(
        ERRORS.API_VALIDATION,
        `\`equipmentId\` '${req.equipmentId}' is not configured`,
        { details: { field: 'equipmentId' } },
      );
    const now = this.#d.clock.now();
    const shelf = await this.#d.store.addShelf({
      equipmentId: req.equipmentId,
      issueType: req.issueType,
      reason: req.reason.trim(),
      by: actor.user,
      fromMs: now,
      untilMs: now + req.durationMinutes * 60_000,
    });
    this.#shelves = [...this.#shelves, shelf];
    this.#log.info(
      {
        shelfId: shelf.id,
        equipmentId: shelf.equipmentId,
        issueType: shelf.issueType,
        user: actor.user,
        until: shelf.untilMs,
      },
      'pattern shelved',
    );
    return shelfView(shelf);
  }

  async unshelve(id: number, actor: Actor): Promise<void> {
    if (!canDecide(actor))
      throw new SidecarError(
        ERRORS.API_FORBIDDEN,
        `user '${actor.user}' cannot unshelve (operator or engineer role needed)`,
      );
    const now = this.#d.clock.now();
    if (!(await this.#d.store.endShelf(id, actor.user, now)))
      throw new SidecarError(ERRORS.API_NOT_FOUND, `no active shelf ${id}`);
    this.#shelves = this.#shelves.filter((s) => s.id !== id);
  }

  async listShelves(): Promise<ShelfView[]> {
    return (await this.#d.store.activeShelves(this.#d.clock.now())).map(shelfView);
  }

  async setMode(equipmentId: string, mode: string, actor: Actor): Promise<void> {
    if (!canDecide(actor))
      throw new SidecarError(
        ERRORS.API_FORBIDDEN,
        `user '${actor.user}' cannot set modes (operator or engineer role needed)`,
      );
    if (!this.#d.equipment.equipment.has(equipmentId))
      throw new SidecarError(ERRORS.API_VALIDATION, `\`equipmentId\` '${equipmentId}' is not configured`, {
        details: { field: 'equipmentId' },
      });
    if (mode.trim() === '')
      throw new SidecarError(ERRORS.API_VALIDATION, '`mode` is required', { details: { field: 'mode' } });
    await this.#d.store.setMode(equipmentId, mode.trim(), 'api', actor.user, this.#d.clock.now());
    this.#modes.set(equipmentId, mode.trim());
  }

  modes(): ReadonlyMap<string, string> {
    return this.#modes;
  }

  kpis(): AlarmKpiView {
    return { ...this.#discipline.kpis(this.#d.clock.now()), reopened: this.#engine.reopened() };
  }
}

/** Builds the service and runs `start()`. */
export async function createRecommendations(deps: RecommendationsDeps): Promise<Recommendations> {
  const r = new Recommendations(deps);
  await r.start();
  return r;
}
