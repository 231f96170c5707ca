/**
 * An operator's decision on a recommendation: the patch the state machine plans
 * (domain/recommendation.ts planDecision) and the store method that commits it together with the
 * changes its pattern's other open recommendations need (their `patternHistory` moved).
 */
import { planDecision } from '../domain/recommendation.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { RecommendationStore, TransitionPatch } from '../ports.ts';
import type { Actor, Change, DecisionRequest, Recommendation } from './recommendation-service.ts';

/**
 * The store side of a decision, beside ports.ts RecommendationStore (PgRecommendationStore
 * implements both).
 */
export interface DecisionStore {
  /**
   * RecommendationStore.transition for an operator's decision. When the decision makes the
   * recommendation count in its pattern's history (now approved or rejected), the same transaction
   * logs one `recommendation` change per other open (pending or deferred) recommendation of the
   * same equipment × issue type, carrying it as it is now with its new `patternHistory` (newest
   * first, capped by the adapter). `siblings` are those changes in ascending seq, all after
   * `change`; publish them after it. Errors as transition (SC_ERR_API_NOT_FOUND, SC_ERR_API_CONFLICT,
   * or whatever `plan` throws).
   */
  decide(
    id: string,
    nowMs: number,
    plan: (current: Recommendation) => TransitionPatch,
  ): Promise<{ recommendation: Recommendation; change: Change; siblings: readonly Change[] }>;
}

export type DecidingStore = RecommendationStore & DecisionStore;

const DECIDE_STATUS: Record<'forbidden' | 'validation' | 'conflict', (typeof ERRORS)[keyof typeof ERRORS]> = {
  forbidden: ERRORS.API_FORBIDDEN,
  validation: ERRORS.API_VALIDATION,
  conflict: ERRORS.API_CONFLICT,
};

/** The patch of `request` on `cur`; throws the SidecarError planDecision's refusal maps to. */
export function decisionPatch(
  cur: Recommendation,
  request: DecisionRequest,
  actor: Actor,
  nowMs: number,
  policy: { readonly maxDeferMs: number },
): TransitionPatch {
  const approvals = (cur.approvals ?? []).map((a) => ({ user: a.user, atMs: Date.parse(a.at) }));
  const plan = planDecision(
    { status: cur.status, version: cur.version, proposedAction: cur.proposedAction, approvals },
    request,
    actor,
    nowMs,
    policy,
  );
  if (!plan.ok) throw new SidecarError(DECIDE_STATUS[plan.kind], plan.message);
  return {
    toStatus: plan.toStatus,
    bumpVersion: true,
    approvals: plan.approvals,
    deferredUntilMs: plan.deferredUntilMs,
    ...(plan.auditAction === 'approval_recorded' ? {} : { decidedBy: actor.user }),
    ...(plan.note === null ? {} : { operatorNote: plan.note }),
    audit: {
      action: plan.auditAction,
      actor: actor.user,
      actorRoles: actor.roles,
      note: plan.note,
      before: { status: cur.status, version: cur.version },
      after: {
        status: plan.toStatus,
        deferredUntil: request.deferUntil ?? null,
        approvals: plan.approvals.map((a) => a.user),
      },
    },
  };
}
