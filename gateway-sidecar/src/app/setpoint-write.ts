/**
 * Setpoint writes: approval executes the proposed action exactly once through the TagWriter;
 * an engineer can revert an executed write to its previous value. Order of a write:
 * claim (one row in recommendation_writes, so a second attempt finds it taken) → read the live
 * value → authorizeWrite (range, step, approvers) → write → read back → record executed|failed with
 * the reason, audited, in one transaction. A crash between claim and record leaves the claim
 * unfinished; `recoverInterruptedWrites` marks those failed at start-up instead of writing again.
 */
import { authorizeWrite, type ApprovedWrite, type WriteRefusal } from '../domain/recommendation.ts';
import type { EquipmentIndex } from '../domain/equipment.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Clock, RecommendationStore, TagWriter, WriteOutcome, WriteRecord } from '../ports.ts';
import type { Actor, Change, Recommendation, WriteResult } from './recommendation-service.ts';

export interface WriteOptions {
  /** Fail the write when the read-back differs from the value written by more than the tolerance. */
  readonly requireReadBack: boolean;
  readonly readBackTolerance: number;
}

export interface WriteDeps {
  readonly store: RecommendationStore;
  readonly writer: TagWriter;
  readonly equipment: EquipmentIndex;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: WriteOptions;
}

/** The only call site of TagWriter.write: it takes nothing but an ApprovedWrite. */
async function performWrite(writer: TagWriter, w: ApprovedWrite): Promise<WriteOutcome> {
  try {
    return await writer.write(w.tagPath, w.value);
  } catch (err) {
    return { ok: false, reason: `writer threw: ${(err as Error).message}` };
  }
}

async function readLive(writer: TagWriter, tagPath: string): Promise<number | undefined> {
  try {
    return await writer.read(tagPath);
  } catch {
    // A failed read is reported as an unknown live value by authorizeWrite, with the reason.
    return undefined;
  }
}

function checkReadBack(outcome: WriteOutcome, w: ApprovedWrite, o: WriteOptions): WriteOutcome {
  if (!outcome.ok || !o.requireReadBack) return outcome;
  if (!Number.isFinite(outcome.readBack) || Math.abs(outcome.readBack - w.value) > o.readBackTolerance) {
    return { ok: false, reason: `read-back ${outcome.readBack} differs from the written value ${w.value}` };
  }
  return outcome;
}

function resultOf(outcome: WriteOutcome, live: number | undefined, nowMs: number): WriteResult {
  return {
    ok: outcome.ok,
    readBack: outcome.ok ? outcome.readBack : null,
    previousValue: live ?? (outcome.ok ? (outcome.previous ?? null) : null),
    reason: outcome.ok ? null : outcome.reason,
    at: new Date(nowMs).toISOString(),
  };
}

const REFUSAL_ERROR: Record<WriteRefusal['code'], (typeof ERRORS)[keyof typeof ERRORS]> = {
  not_approved: ERRORS.API_CONFLICT,
  two_person_required: ERRORS.API_CONFLICT,
  not_engineer: ERRORS.API_FORBIDDEN,
  unknown_live_value: ERRORS.WRITE_FAILED,
  out_of_range: ERRORS.WRITE_OUT_OF_RANGE,
  step_too_large: ERRORS.WRITE_STEP_TOO_LARGE,
};

/**
 * Executes the approved recommendation's action once. Returns undefined when there is nothing to
 * write (no action) or another caller already claimed the write.
 */
export async function executeApprovedWrite(
  d: WriteDeps,
  rec: Recommendation,
  actor: Actor,
): Promise<{ recommendation: Recommendation; change: Change } | undefined> {
  const action = rec.proposedAction;
  if (action === null) return undefined;
  if (!(await d.store.claimWrite(rec.id, 'apply', 'approved', action.tagPath, actor.user, d.clock.now())))
    return undefined;
  const sp = d.equipment.setpointsByTag.get(action.tagPath);
  let live: number | undefined;
  let outcome: WriteOutcome;
  let target: number | null = action.newValue;
  if (sp === undefined) {
    outcome = {
      ok: false,
      reason: `'${action.tagPath}' is not a configured setpoint (${ERRORS.WRITE_UNKNOWN_TAG.code})`,
    };
  } else {
    live = await readLive(d.writer, sp.tagPath);
    const approvals = (rec.approvals ?? []).map((a) => ({ user: a.user, atMs: Date.parse(a.at) }));
    const auth = authorizeWrite({
      purpose: 'apply',
      setpoint: sp,
      target: action.newValue,
      liveValue: live,
      status: rec.status,
      approvals,
    });
    if (auth.ok) outcome = checkReadBack(await performWrite(d.writer, auth.write), auth.write, d.options);
    else {
      outcome = { ok: false, reason: `refused (${auth.code}): ${auth.reason}` };
      target = null;
    }
  }
  const now = d.clock.now();
  const result = resultOf(outcome, live, now);
  const record: WriteRecord = {
    liveValue: live ?? null,
    targetValue: target,
    readBack: result.readBack,
    ok: result.ok,
    reason: result.reason,
  };
  const done = await d.store.finishWrite(rec.id, 'apply', record, now, (cur) => ({
    toStatus: result.ok ? 'executed' : 'failed',
    bumpVersion: true,
    writeResult: result,
    audit: {
      action: result.ok ? 'write_executed' : 'write_failed',
      actor: actor.user,
      actorRoles: actor.roles,
      note: result.reason,
      before: { tagPath: action.tagPath, value: live ?? null, status: cur.status },
      after: { tagPath: action.tagPath, value: result.readBack, requested: action.newValue },
    },
  }));
  d.logger.info(
    {
      recommendationId: rec.id,
      tagPath: action.tagPath,
      ok: result.ok,
      reason: result.reason,
      previous: live,
      value: result.readBack,
    },
    'setpoint write',
  );
  return done;
}

/** Engineers only: writes the previous value back. Throws SidecarError (FORBIDDEN, CONFLICT, WRITE_*). */
export async function revertWrite(
  d: WriteDeps,
  rec: Recommendation,
  actor: Actor,
  note: string,
): Promise<{ recommendation: Recommendation; change: Change }> {
  if (!actor.roles.includes('engineer'))
    throw new SidecarError(
      ERRORS.API_FORBIDDEN,
      `user '${actor.user}' is not an engineer; only engineers may revert a write`,
    );
  if (note.trim() === '')
    throw new SidecarError(ERRORS.API_VALIDATION, '`note` is required to revert a write');
  const action = rec.proposedAction;
  const previous = rec.writeResult?.previousValue ?? null;
  if (rec.status !== 'executed' || action === null || previous === null) {
    throw new SidecarError(
      ERRORS.API_CONFLICT,
      `recommendation '${rec.id}' has no executed write to revert (status ${rec.status})`,
    );
  }
  if (!(await d.store.claimWrite(rec.id, 'revert', 'executed', action.tagPath, actor.user, d.clock.now()))) {
    throw new SidecarError(
      ERRORS.API_CONFLICT,
      `the write of '${rec.id}' was already reverted or a revert is running`,
    );
  }
  const sp = d.equipment.setpointsByTag.get(action.tagPath);
  if (sp === undefined) {
    await d.store.releaseClaim(rec.id, 'revert');
    throw new SidecarError(ERRORS.WRITE_UNKNOWN_TAG, `'${action.tagPath}' is not a configured setpoint`);
  }
  const live = await readLive(d.writer, sp.tagPath);
  const auth = authorizeWrite({
    purpose: 'revert',
    setpoint: sp,
    target: previous,
    liveValue: live,
    status: rec.status,
    approvals: [],
    reverter: actor,
  });
  let outcome: WriteOutcome;
  if (!auth.ok) outcome = { ok: false, reason: auth.reason };
  else outcome = checkReadBack(await performWrite(d.writer, auth.write), auth.write, d.options);
  const now = d.clock.now();
  const result = resultOf(outcome, live, now);
  const audit = {
    action: result.ok ? 'revert' : 'revert_failed',
    actor: actor.user,
    actorRoles: actor.roles,
    note: result.ok ? note.trim() : `${note.trim()} (${result.reason})`,
    before: { tagPath: action.tagPath, value: live ?? null },
    after: { tagPath: action.tagPath, value: result.readBack, requested: previous },
  };
  if (!result.ok) {
    await d.store.releaseClaim(rec.id, 'revert');
    await d.store.transition(rec.id, now, (cur) => ({ toStatus: cur.status, bumpVersion: false, audit }));
    const spec = auth.ok ? ERRORS.WRITE_FAILED : REFUSAL_ERROR[auth.code];
    throw new SidecarError(spec, `revert of '${rec.id}' failed: ${result.reason}`);
  }
  const record: WriteRecord = {
    liveValue: live ?? null,
    targetValue: previous,
    readBack: result.readBack,
    ok: true,
    reason: null,
  };
  const done = await d.store.finishWrite(rec.id, 'revert', record, now, (cur) => ({
    toStatus: cur.status,
    bumpVersion: true,
    revertResult: result,
    audit,
  }));
  d.logger.info(
    {
      recommendationId: rec.id,
      tagPath: action.tagPath,
      previous: live,
      value: result.readBack,
      user: actor.user,
    },
    'setpoint write reverted',
  );
  return done;
}

/** Start-up: a claim without an outcome means the process died mid-write; never write it again. */
export async function recoverInterruptedWrites(d: WriteDeps): Promise<Change[]> {
  const changes: Change[] = [];
  for (const w of await d.store.unfinishedWrites()) {
    if (w.purpose === 'revert') {
      await d.store.releaseClaim(w.id, 'revert');
      continue;
    }
    const found = await d.store.get(w.id);
    if (found === undefined) continue;
    const tag = found.recommendation.proposedAction?.tagPath;
    const live = tag === undefined ? undefined : await readLive(d.writer, tag);
    const now = d.clock.now();
    const reason = `interrupted: the sidecar stopped during the write; live value is ${live ?? 'unknown'}, check it before acting again`;
    const result: WriteResult = {
      ok: false,
      readBack: null,
      previousValue: null,
      reason,
      at: new Date(now).toISOString(),
    };
    const done = await d.store.finishWrite(
      w.id,
      'apply',
      { liveValue: live ?? null, targetValue: null, readBack: null, ok: false, reason },
      now,
      () => ({
        toStatus: 'failed',
        bumpVersion: true,
        writeResult: result,
        audit: {
          action: 'write_interrupted',
          actor: 'system',
          actorRoles: [],
          note: reason,
          before: null,
          after: { value: live ?? null },
        },
      }),
    );
    changes.push(done.change);
  }
  return changes;
}
