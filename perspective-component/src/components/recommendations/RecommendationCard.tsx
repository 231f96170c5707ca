/** One recommendation: what happened, why, what to do, and the decision buttons. Reads only. */
import * as React from 'react';
import { observer } from 'mobx-react';
import type { Decision, Recommendation } from '../../api/types.ts';
import { formatAge } from './ordering.ts';
import {
  clipText,
  describePatternHistory,
  HISTORY_NOTE_MAX,
  OUTCOME_LABEL,
  SEVERITY_LABEL,
  describeOutcome,
  STATUS_LABEL,
  describeContribution,
  formatPercent,
  formatValue,
  humanize,
  isDecidable,
} from './format.ts';

export interface CardProps {
  readonly rec: Recommendation;
  readonly nowMs: number;
  readonly selected: boolean;
  readonly busy: Decision | undefined;
  readonly actions: readonly Decision[];
  /** Why decisions are disabled (designer mode, role), or null when they are enabled. */
  readonly disabledReason: string | null;
  onSelect(id: string): void;
  onDecide(rec: Recommendation, decision: Decision, trigger: HTMLElement): void;
}

const BUTTON_LABEL: Record<Decision, string> = { approve: 'Approve', defer: 'Defer', reject: 'Reject' };
const BUSY_LABEL: Record<Decision, string> = {
  approve: 'Approving…',
  defer: 'Deferring…',
  reject: 'Rejecting…',
};

function WriteResultLine({ rec }: { rec: Recommendation }): React.ReactElement | null {
  const w = rec.writeResult;
  const unit = rec.proposedAction?.unit ?? '';
  if (rec.status === 'executed') {
    return (
      <p className="aim-result aim-result-ok">
        Executed
        {w?.readBack !== null && w?.readBack !== undefined
          ? `: read back ${formatValue(w.readBack, unit)}`
          : ''}
      </p>
    );
  }
  if (rec.status === 'failed') {
    return <p className="aim-result aim-result-failed">Write failed: {w?.reason ?? 'no reason given'}</p>;
  }
  return null;
}

/** The learning loop's outcome check of the executed write, once recorded. */
function OutcomeLine({ rec }: { rec: Recommendation }): React.ReactElement | null {
  const o = rec.outcome;
  if (!o) return null;
  return (
    <p className={`aim-outcome aim-outcome-${o.outcome}`} data-outcome={o.outcome}>
      <span className="aim-outcome-badge">Outcome: {OUTCOME_LABEL[o.outcome]}</span>{' '}
      <span className="aim-outcome-detail">
        <span aria-hidden="true">— </span>
        {describeOutcome(o)}
      </span>
    </p>
  );
}

/**
 * The pattern's earlier decisions (equipment × issue type, this one excluded): what the learned
 * confidence above is based on, and why the last rejection was made. Plain text, muted like the
 * facts; a long note is cut (the whole note is its tooltip).
 */
function PatternHistoryLine({ rec }: { rec: Recommendation }): React.ReactElement | null {
  const h = rec.patternHistory;
  if (!h) return null;
  const note = h.rejected > 0 && h.lastRejectionNote ? h.lastRejectionNote.trim() : '';
  const shown = clipText(note, HISTORY_NOTE_MAX);
  const clipped = note.replace(/\s+/g, ' ').length > HISTORY_NOTE_MAX;
  return (
    <p className="aim-history" data-approved={h.approved} data-rejected={h.rejected}>
      {describePatternHistory(h)}
      {shown ? (
        <>
          <span aria-hidden="true"> — </span>
          <span className="aim-history-note" title={clipped ? note : undefined}>
            last rejection: “{shown}”
          </span>
        </>
      ) : null}
    </p>
  );
}

/** A recommendation raised past a rejection of its pattern says why, muted like the history line. */
function ReopenLine({ rec }: { rec: Recommendation }): React.ReactElement | null {
  if (!rec.reopenReason) return null;
  return (
    <p className="aim-reopen" data-reopened-from={rec.reopenedFrom ?? undefined}>
      {rec.reopenReason}
    </p>
  );
}

/** Two-person progress, flood-summary members and a revert, when the API reports them. */
function Extras({ rec }: { rec: Recommendation }): React.ReactElement {
  const approvals = rec.approvals ?? [];
  const grouped = rec.groupedItems ?? [];
  const unit = rec.proposedAction?.unit ?? '';
  return (
    <>
      {approvals.length > 0 && rec.status === 'pending' ? (
        <p className="aim-approvals">
          Approved by {approvals.map((a) => a.user).join(', ')}; waiting for a second approver
        </p>
      ) : null}
      {grouped.length > 0 ? (
        <details className="aim-grouped">
          <summary>Groups {grouped.length} similar recommendations</summary>
          <ul>
            {grouped.map((g, i) => (
              <li key={`${g.equipmentId}:${g.issueType}:${i}`}>
                {g.equipmentId}: {humanize(g.issueType)} ({formatPercent(g.confidence)})
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {rec.revertResult ? (
        <p className={`aim-result${rec.revertResult.ok ? '' : ' aim-result-failed'}`}>
          {rec.revertResult.ok
            ? `Reverted to ${formatValue(rec.revertResult.readBack, unit)}`
            : `Revert failed: ${rec.revertResult.reason ?? 'no reason given'}`}
        </p>
      ) : null}
    </>
  );
}

export const RecommendationCard = observer(function RecommendationCard(props: CardProps): React.ReactElement {
  const { rec, busy } = props;
  const titleId = `aim-title-${rec.id}`;
  const reasonId = `aim-reason-${rec.id}`;
  const a = rec.proposedAction;
  const decidable = isDecidable(rec.status) && props.actions.length > 0;
  const top = rec.explanation.slice(0, 3);
  return (
    <li
      className={`aim-card aim-sev-${rec.severity}${props.selected ? ' aim-selected' : ''}`}
      aria-labelledby={titleId}
      aria-busy={busy ? true : undefined}
      data-recommendation-id={rec.id}
      data-status={rec.status}
    >
      <div className="aim-card-head">
        <button
          type="button"
          id={titleId}
          className="aim-card-title"
          aria-pressed={props.selected}
          onClick={() => props.onSelect(rec.id)}
        >
          <span className="aim-equipment">{rec.equipmentId}</span>
          <span className="aim-issue">{humanize(rec.issueType)}</span>
        </button>
        <span className="aim-severity" data-severity={rec.severity}>
          <span className="aim-visually-hidden">Severity: </span>
          {SEVERITY_LABEL[rec.severity]}
        </span>
        <span className="aim-status" data-status={rec.status}>
          <span className="aim-visually-hidden">Status: </span>
          {busy ? BUSY_LABEL[busy] : STATUS_LABEL[rec.status]}
        </span>
      </div>
      <p className="aim-text">{rec.text}</p>
      <dl className="aim-facts">
        <div>
          <dt>Confidence</dt>
          <dd>{formatPercent(rec.confidence)}</dd>
        </div>
        <div>
          <dt>Age</dt>
          <dd>{formatAge(rec.createdAt, props.nowMs)}</dd>
        </div>
        <div>
          <dt>Occurrences</dt>
          <dd>{rec.occurrenceCount}</dd>
        </div>
      </dl>
      <PatternHistoryLine rec={rec} />
      <ReopenLine rec={rec} />
      {a ? (
        <p className="aim-action">
          <span className="aim-action-name">{a.setpointName}: </span>
          <span className="aim-action-values">
            {formatValue(a.currentValue, a.unit)} <span aria-hidden="true">→</span>
            <span className="aim-visually-hidden"> to </span> {formatValue(a.newValue, a.unit)}
          </span>
          {a.requiresSecondApprover && isDecidable(rec.status) ? (
            <span className="aim-two-person">Needs a second approver</span>
          ) : null}
        </p>
      ) : (
        <p className="aim-action aim-action-none">No setpoint change proposed</p>
      )}
      {top.length > 0 ? (
        <div className="aim-explanation">
          <span className="aim-explanation-label">Top contributing signals</span>
          <ul aria-label={`Top contributing signals for ${rec.equipmentId}`}>
            {top.map((c) => (
              <li key={`${c.tagPath}:${c.feature}`}>{describeContribution(c)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <WriteResultLine rec={rec} />
      <OutcomeLine rec={rec} />
      <Extras rec={rec} />
      {rec.operatorNotes ? <p className="aim-note">Note: {rec.operatorNotes}</p> : null}
      {decidable ? (
        <div
          className="aim-buttons"
          role="group"
          aria-label={`Decide on ${rec.equipmentId} ${humanize(rec.issueType)}`}
        >
          {props.actions.map((d) => (
            <button
              key={d}
              type="button"
              className={`aim-btn aim-btn-${d}`}
              disabled={Boolean(busy) || props.disabledReason !== null}
              aria-describedby={props.disabledReason ? reasonId : undefined}
              onClick={(e) => props.onDecide(rec, d, e.currentTarget)}
            >
              {BUTTON_LABEL[d]}
            </button>
          ))}
          {props.disabledReason ? (
            <span id={reasonId} className="aim-disabled-reason">
              {props.disabledReason}
            </span>
          ) : null}
        </div>
      ) : null}
    </li>
  );
});
