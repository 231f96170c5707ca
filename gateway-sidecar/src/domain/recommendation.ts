/**
 * The recommendation state machine and the only producer of `ApprovedWrite` (STYLE.md §2:
 * setpoint safety lives in the type system). Pure: time comes in as `nowMs`.
 *
 *   pending ──approve──► approved ──write──► executed | failed
 *      │  ▲                 (two-person rule: the first approval of a large change stays pending)
 *      │  └── deferred ◄──defer── pending       deferred ──(deferUntil reached)──► pending
 *      ├──reject──► rejected
 *      └──(older than expireAfter)──► expired
 *
 * Decisions are allowed from pending and deferred only; approved/executed/failed/rejected/expired
 * are final for operators (engineers may revert an executed write, which keeps status executed).
 */
import type { SetpointTag } from './equipment.ts';

export type RecommendationStatus =
  'pending' | 'approved' | 'deferred' | 'rejected' | 'executed' | 'failed' | 'expired';
export type DecisionKind = 'approve' | 'defer' | 'reject';
export type ActorRole = 'viewer' | 'operator' | 'engineer';

export interface DecisionActor {
  readonly user: string;
  readonly roles: readonly ActorRole[];
}

/** The setpoint change a recommendation proposes. */
export interface ActionSpec {
  readonly tagPath: string;
  readonly setpointName: string;
  readonly unit: string;
  readonly currentValue: number | null;
  readonly newValue: number;
  readonly min: number;
  readonly max: number;
  readonly maxStep: number;
  readonly requiresSecondApprover: boolean;
}

export interface Approval {
  readonly user: string;
  readonly atMs: number;
}

/** What the state machine needs to know about a stored recommendation. */
export interface DecidableState {
  readonly status: RecommendationStatus;
  readonly version: number;
  readonly proposedAction: ActionSpec | null;
  readonly approvals: readonly Approval[];
}

export interface DecisionInput {
  readonly decision: DecisionKind;
  readonly note?: string | undefined;
  /** ISO 8601; required for 'defer'. */
  readonly deferUntil?: string | undefined;
  readonly expectedVersion: number;
}

export interface DecisionPolicy {
  /** Longest allowed deferral, ms from now. */
  readonly maxDeferMs: number;
}

export type DecisionFailure = {
  readonly ok: false;
  /** forbidden → 403, validation → 400, conflict → 409. */
  readonly kind: 'forbidden' | 'validation' | 'conflict';
  readonly message: string;
};

export type DecisionPlan = {
  readonly ok: true;
  readonly toStatus: RecommendationStatus;
  readonly approvals: readonly Approval[];
  readonly deferredUntilMs: number | null;
  readonly note: string | null;
  /** Audit action: the first of two approvals is recorded but changes no status. */
  readonly auditAction: 'approve' | 'approval_recorded' | 'defer' | 'reject';
};

const DECIDABLE: ReadonlySet<RecommendationStatus> = new Set(['pending', 'deferred']);

/** True when the actor may approve/defer/reject (operators and engineers; viewers only read). */
export function canDecide(actor: DecisionActor): boolean {
  return actor.roles.includes('operator') || actor.roles.includes('engineer');
}

function fail(kind: DecisionFailure['kind'], message: string): DecisionFailure {
  return { ok: false, kind, message };
}

/**
 * Validates a decision against the current state and returns what to store, or why not.
 * Checks, in order: role (forbidden), version (conflict), state (conflict), fields (validation),
 * two-person rule (a second approver must be a different user).
 */
export function planDecision(
  state: DecidableState,
  input: DecisionInput,
  actor: DecisionActor,
  nowMs: number,
  policy: DecisionPolicy,
): DecisionPlan | DecisionFailure {
  if (!canDecide(actor))
    return fail('forbidden', `user '${actor.user}' has no operator or engineer role and cannot decide`);
  if (input.expectedVersion !== state.version) {
    return fail(
      'conflict',
      `recommendation changed: expectedVersion ${input.expectedVersion}, current version ${state.version}`,
    );
  }
  if (!DECIDABLE.has(state.status))
    return fail('conflict', `a ${state.status} recommendation cannot be decided`);
  const note = input.note === undefined || input.note.trim() === '' ? null : input.note.trim();
  const base = { ok: true as const, approvals: state.approvals, deferredUntilMs: null, note };
  if (input.decision === 'reject') {
    if (note === null) return fail('validation', '`note` is required to reject a recommendation');
    return { ...base, toStatus: 'rejected', auditAction: 'reject' };
  }
  if (input.decision === 'defer') {
    if (input.deferUntil === undefined)
      return fail('validation', '`deferUntil` is required to defer a recommendation');
    const until = Date.parse(input.deferUntil);
    if (!Number.isFinite(until))
      return fail('validation', `\`deferUntil\` must be an ISO 8601 time, got '${input.deferUntil}'`);
    if (until <= nowMs) return fail('validation', '`deferUntil` must be in the future');
    if (until - nowMs > policy.maxDeferMs) {
      return fail(
        'validation',
        `\`deferUntil\` may be at most ${Math.round(policy.maxDeferMs / 3_600_000)} h ahead`,
      );
    }
    return { ...base, toStatus: 'deferred', deferredUntilMs: until, auditAction: 'defer' };
  }
  const needsTwo = state.proposedAction?.requiresSecondApprover === true;
  if (state.approvals.some((a) => a.user === actor.user)) {
    return fail(
      'forbidden',
      `user '${actor.user}' already approved; the second approver must be a different user`,
    );
  }
  const approvals = [...state.approvals, { user: actor.user, atMs: nowMs }];
  if (needsTwo && approvals.length < 2)
    return { ...base, approvals, toStatus: state.status, auditAction: 'approval_recorded' };
  return { ...base, approvals, toStatus: 'approved', auditAction: 'approve' };
}

/** The time-driven transition due for a recommendation at `nowMs`, if any. */
export function dueTransition(
  state: {
    readonly status: RecommendationStatus;
    readonly createdAtMs: number;
    readonly deferredUntilMs: number | null;
  },
  nowMs: number,
  expireAfterMs: number,
): 'expire' | 'resume' | null {
  if (state.status === 'deferred' && state.deferredUntilMs !== null && state.deferredUntilMs <= nowMs)
    return 'resume';
  if (state.status === 'pending' && nowMs - state.createdAtMs >= expireAfterMs) return 'expire';
  return null;
}

/** Two-person rule: true when |to − from| exceeds `twoPersonAbovePct` of the setpoint's range. */
export function needsSecondApprover(
  setpoint: Pick<SetpointTag, 'min' | 'max' | 'twoPersonAbovePct'>,
  from: number,
  to: number,
): boolean {
  return Math.abs(to - from) > setpoint.twoPersonAbovePct * (setpoint.max - setpoint.min);
}

declare const approvedWriteBrand: unique symbol;

/**
 * A write that passed every check: the only value the setpoint-write use case hands to
 * `TagWriter.write`. Created only by `authorizeWrite` (the brand cannot be spelled elsewhere).
 */
export interface ApprovedWrite {
  readonly tagPath: string;
  readonly value: number;
  /** Live value the checks were made against. */
  readonly liveValue: number;
  readonly purpose: 'apply' | 'revert';
  readonly approvers: readonly string[];
  readonly [approvedWriteBrand]: true;
}

export type WriteRefusal = {
  readonly ok: false;
  readonly code:
    | 'not_approved'
    | 'two_person_required'
    | 'not_engineer'
    | 'unknown_live_value'
    | 'out_of_range'
    | 'step_too_large';
  readonly reason: string;
};

export interface WriteRequest {
  readonly purpose: 'apply' | 'revert';
  /** The configured setpoint (limits come from config, never from the stored row). */
  readonly setpoint: SetpointTag;
  readonly target: number;
  readonly liveValue: number | undefined;
  readonly status: RecommendationStatus;
  /** apply: the recorded approvals; revert: the engineer asking. */
  readonly approvals: readonly Approval[];
  readonly reverter?: DecisionActor;
}

function refuse(code: WriteRefusal['code'], reason: string): WriteRefusal {
  return { ok: false, code, reason };
}

/**
 * Checks approval, range and step against the live value and returns an ApprovedWrite or the
 * reason for refusing. apply: status approved, ≥ 1 approver (2 distinct when the change exceeds
 * the two-person threshold). revert: status executed and the asker is an engineer.
 */
export function authorizeWrite(
  req: WriteRequest,
): { readonly ok: true; readonly write: ApprovedWrite } | WriteRefusal {
  const sp = req.setpoint;
  const approvers = [...new Set(req.approvals.map((a) => a.user))];
  if (req.purpose === 'apply') {
    if (req.status !== 'approved' || approvers.length === 0)
      return refuse('not_approved', `status is ${req.status}; only an approved recommendation is written`);
  } else {
    if (req.status !== 'executed')
      return refuse('not_approved', `status is ${req.status}; only an executed write can be reverted`);
    if (req.reverter === undefined || !req.reverter.roles.includes('engineer')) {
      return refuse('not_engineer', 'only an engineer may revert a write');
    }
  }
  const live = req.liveValue;
  if (live === undefined || !Number.isFinite(live))
    return refuse('unknown_live_value', `live value of '${sp.tagPath}' could not be read`);
  const target = req.target;
  if (!Number.isFinite(target) || target < sp.min || target > sp.max) {
    return refuse(
      'out_of_range',
      `value ${target} is outside the allowed range [${sp.min}, ${sp.max}] of '${sp.tagPath}'`,
    );
  }
  const step = Math.abs(target - live);
  // A tiny epsilon: limits are configured in decimals that floats cannot always hold exactly.
  if (step > sp.maxStep + 1e-9) {
    return refuse(
      'step_too_large',
      `change ${round(step)} from live value ${live} exceeds maxStep ${sp.maxStep} of '${sp.tagPath}'`,
    );
  }
  if (req.purpose === 'apply' && needsSecondApprover(sp, live, target) && approvers.length < 2) {
    return refuse(
      'two_person_required',
      `change ${round(step)} exceeds ${sp.twoPersonAbovePct * 100} % of the range; a second approver is required`,
    );
  }
  const who = req.purpose === 'revert' && req.reverter ? [req.reverter.user] : approvers;
  const write = Object.freeze({
    tagPath: sp.tagPath,
    value: target,
    liveValue: live,
    purpose: req.purpose,
    approvers: who,
  });
  return { ok: true, write: write as unknown as ApprovedWrite };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
