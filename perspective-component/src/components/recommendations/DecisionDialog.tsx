/**
 * The confirmation step: setpoint approvals show the exact write (current → new, tag, two-person
 * rule); defer asks for a duration; reject requires a note. Modal, focus trapped, Escape cancels,
 * and the caller returns focus to the button that opened it.
 */
import * as React from 'react';
import type { Decision, Recommendation } from '../../api/types.ts';
import { formatMinutes, formatValue, humanize } from './format.ts';
import type { DecisionInput } from './recommendations.store.ts';

export interface DialogProps {
  readonly rec: Recommendation;
  readonly decision: Decision;
  readonly deferOptions: readonly number[];
  /** Notes required for every decision (reject always requires one). */
  readonly requireNotes: boolean;
  onConfirm(input: DecisionInput): void;
  onCancel(): void;
}

const TITLE: Record<Decision, string> = {
  approve: 'Approve recommendation',
  defer: 'Defer recommendation',
  reject: 'Reject recommendation',
};
const CONFIRM: Record<Decision, string> = {
  approve: 'Confirm approve',
  defer: 'Confirm defer',
  reject: 'Confirm reject',
};

export function DecisionDialog(props: DialogProps): React.ReactElement {
  const { rec, decision } = props;
  const [note, setNote] = React.useState('');
  const [deferMinutes, setDeferMinutes] = React.useState<number>(props.deferOptions[0] ?? 60);
  const [touched, setTouched] = React.useState(false);
  const rootRef = React.useRef<HTMLDivElement>(null);
  const noteRequired = decision === 'reject' || props.requireNotes;
  const noteMissing = noteRequired && note.trim() === '';
  const ids = {
    title: `aim-dlg-title-${rec.id}`,
    desc: `aim-dlg-desc-${rec.id}`,
    noteErr: `aim-dlg-note-err-${rec.id}`,
  };
  const a = rec.proposedAction;

  React.useEffect(() => {
    const first = rootRef.current?.querySelector<HTMLElement>('textarea, select, button.aim-btn-confirm');
    first?.focus();
  }, []);

  const submit = (e: React.FormEvent): void => {
    e.preventDefault();
    setTouched(true);
    if (noteMissing) {
      rootRef.current?.querySelector<HTMLElement>('textarea')?.focus();
      return;
    }
    props.onConfirm({ note, ...(decision === 'defer' ? { deferMinutes } : {}) });
  };

  const onKeyDown = (e: React.KeyboardEvent): void => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      props.onCancel();
      return;
    }
    if (e.key !== 'Tab' || !rootRef.current) return;
    const focusable = [
      ...rootRef.current.querySelectorAll<HTMLElement>('textarea, select, button:not([disabled])'),
    ];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div className="aim-backdrop">
      <div
        ref={rootRef}
        className="aim-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={ids.title}
        aria-describedby={ids.desc}
        onKeyDown={onKeyDown}
      >
        <form onSubmit={submit} noValidate>
          <h2 id={ids.title} className="aim-dialog-title">
            {TITLE[decision]}
          </h2>
          <div id={ids.desc} className="aim-dialog-desc">
            <p>
              <strong>{rec.equipmentId}</strong> — {humanize(rec.issueType)}
            </p>
            {decision === 'approve' && a ? (
              <>
                <p className="aim-dialog-write">
                  This writes <strong>{a.setpointName}</strong> from {formatValue(a.currentValue, a.unit)} to{' '}
                  <strong>{formatValue(a.newValue, a.unit)}</strong> (tag <code>{a.tagPath}</code>).
                </p>
                {a.requiresSecondApprover ? (
                  <p className="aim-dialog-two-person">
                    This change is large enough that it needs a second approver before the write runs.
                  </p>
                ) : null}
              </>
            ) : null}
          </div>
          {decision === 'defer' ? (
            <label className="aim-field">
              <span>Defer for</span>
              <select value={deferMinutes} onChange={(e) => setDeferMinutes(Number(e.target.value))}>
                {props.deferOptions.map((m) => (
                  <option key={m} value={m}>
                    {formatMinutes(m)}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <label className="aim-field">
            <span>{noteRequired ? 'Note (required)' : 'Note (optional)'}</span>
            <textarea
              value={note}
              rows={3}
              maxLength={2000}
              required={noteRequired}
              aria-invalid={touched && noteMissing ? true : undefined}
              aria-describedby={touched && noteMissing ? ids.noteErr : undefined}
              onChange={(e) => setNote(e.target.value)}
            />
          </label>
          {touched && noteMissing ? (
            <p id={ids.noteErr} className="aim-field-error" role="alert">
              A note is required to {decision} this recommendation.
            </p>
          ) : null}
          <div className="aim-dialog-buttons">
            <button type="button" className="aim-btn aim-btn-cancel" onClick={props.onCancel}>
              Cancel
            </button>
            <button type="submit" className={`aim-btn aim-btn-confirm aim-btn-${decision}`}>
              {CONFIRM[decision]}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
