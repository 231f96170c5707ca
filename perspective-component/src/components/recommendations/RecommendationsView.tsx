/**
 * The panel: header with live state, filters, critical alerts, notices, the sorted list and the
 * decision dialog. Observer view: reads the store and calls its actions; it never fetches.
 */
import * as React from 'react';
import { observer } from 'mobx-react';
import type { Decision, Recommendation } from '../../api/types.ts';
import type { ConnectionInfo } from '../../api/transport.ts';
import { DecisionDialog } from './DecisionDialog.tsx';
import { FilterBar } from './FilterBar.tsx';
import { formatAge } from './ordering.ts';
import { RecommendationCard } from './RecommendationCard.tsx';
import type { RecommendationsStore } from './recommendations.store.ts';

/** "just now" / "4 min ago": an alert loaded after a reload must say how old it is. */
function alertAge(atIso: string, nowMs: number): string {
  const age = formatAge(atIso, nowMs);
  return age === 'just now' ? age : `${age} ago`;
}
export interface ViewConfig {
  readonly title: string;
  readonly enabledActions: readonly Decision[];
  readonly requireNotes: boolean;
  readonly deferOptions: readonly number[];
  readonly showFilters: boolean;
  /** False in the Designer's design mode: the panel renders but takes no decisions. */
  readonly eventsEnabled: boolean;
}

export interface ViewProps {
  readonly store: RecommendationsStore;
  readonly config: ViewConfig;
  /** Attributes from Perspective's emit(); spread on the root element. */
  readonly rootProps?: Record<string, unknown>;
  onSelect?(rec: Recommendation): void;
}

interface Confirming {
  readonly id: string;
  readonly decision: Decision;
  readonly trigger: HTMLElement;
}

const CONNECTION_TEXT: Record<ConnectionInfo['state'], string> = {
  connecting: 'Connecting…',
  online: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline, retrying',
};

const ConnectionBadge = observer(function ConnectionBadge({ store }: { store: RecommendationsStore }) {
  const c = store.state.connection;
  return (
    <span className="aim-connection" data-state={c.state} role="status" title={c.detail ?? undefined}>
      <span className="aim-connection-dot" aria-hidden="true" />
      {CONNECTION_TEXT[c.state]}
      {c.state !== 'online' && c.attempts > 1 ? ` (attempt ${c.attempts})` : ''}
    </span>
  );
});

let panelCount = 0;

function needsDialog(rec: Recommendation, decision: Decision, requireNotes: boolean): boolean {
  return decision !== 'approve' || rec.proposedAction !== null || requireNotes;
}

export const RecommendationsView = observer(function RecommendationsView(
  props: ViewProps,
): React.ReactElement {
  const { store, config } = props;
  const s = store.state;
  const [confirming, setConfirming] = React.useState<Confirming | null>(null);
  // Not React.useId: it is React 18 only, and older 8.1 gateways ship React 16.
  const titleId = React.useRef(`aim-panel-title-${++panelCount}`).current;

  const close = (refocus: HTMLElement | null): void => {
    setConfirming(null);
    // Return focus to the opener; if it vanished (item left the filter), to the list region.
    requestAnimationFrame(() =>
      (refocus?.isConnected ? refocus : document.getElementById(titleId))?.focus?.(),
    );
  };
  const decide = (rec: Recommendation, decision: Decision, trigger: HTMLElement): void => {
    if (needsDialog(rec, decision, config.requireNotes)) setConfirming({ id: rec.id, decision, trigger });
    else void store.decide(rec.id, decision);
  };
  const disabledReason = !config.eventsEnabled
    ? 'Decisions are disabled in design mode.'
    : !s.canDecide
      ? 'Your role can view recommendations but not decide on them.'
      : null;
  const confirmRec = confirming ? store.find(confirming.id) : undefined;
  const visible = s.visible;

  return (
    <div {...props.rootProps} role="region" aria-labelledby={titleId}>
      <div className="aim-header">
        <h2 id={titleId} className="aim-title" tabIndex={-1}>
          {config.title}
        </h2>
        <span className="aim-count">{s.loaded ? `${visible.length} shown` : ''}</span>
        <ConnectionBadge store={store} />
      </div>
      {config.showFilters ? <FilterBar store={store} /> : null}
      {s.alerts.length > 0 ? (
        <ul className="aim-alerts" aria-label="Critical alerts">
          {s.alerts.map((a) => (
            <li key={a.id} className="aim-alert" role="alert">
              <span className="aim-alert-text">{a.message}</span>
              <time className="aim-alert-time" dateTime={a.at} title={a.at}>
                {alertAge(a.at, s.nowMs)}
              </time>
            </li>
          ))}
        </ul>
      ) : null}
      {s.notice ? (
        <div
          className={`aim-notice aim-notice-${s.notice.kind}`}
          role={s.notice.kind === 'error' ? 'alert' : 'status'}
        >
          <span>{s.notice.text}</span>
          <button type="button" className="aim-btn aim-btn-link" onClick={store.dismissNotice}>
            Dismiss
          </button>
        </div>
      ) : null}
      {s.loadError ? (
        <div className="aim-error" role="alert">
          <p>Could not load recommendations: {s.loadError.text}</p>
          <button type="button" className="aim-btn" onClick={() => void store.load()}>
            Retry
          </button>
        </div>
      ) : null}
      {!s.loaded && !s.loadError ? <p className="aim-empty">Loading recommendations…</p> : null}
      {s.loaded && visible.length === 0 ? (
        <p className="aim-empty">
          {s.filter.equipmentId || s.filter.severity.length
            ? 'No recommendations match these filters.'
            : 'No recommendations. Equipment is running normally.'}
        </p>
      ) : null}
      {visible.length > 0 ? (
        <ul className="aim-list" aria-label="Recommendations, most severe first">
          {visible.map((rec) => (
            <RecommendationCard
              key={rec.id}
              rec={rec}
              nowMs={s.nowMs}
              selected={s.selectedId === rec.id}
              busy={s.pending.get(rec.id)}
              actions={config.enabledActions}
              disabledReason={disabledReason}
              onSelect={(id) => {
                store.select(id);
                props.onSelect?.(rec);
              }}
              onDecide={decide}
            />
          ))}
        </ul>
      ) : null}
      {s.hasMore && s.loaded ? (
        <button type="button" className="aim-btn aim-more" onClick={() => void store.loadMore()}>
          Show more ({s.total - s.items.length} more)
        </button>
      ) : null}
      {confirming && confirmRec ? (
        <DecisionDialog
          rec={confirmRec}
          decision={confirming.decision}
          deferOptions={config.deferOptions}
          requireNotes={config.requireNotes}
          onCancel={() => close(confirming.trigger)}
          onConfirm={(input) => {
            const trigger = confirming.trigger;
            void store.decide(confirming.id, confirming.decision, input);
            close(trigger);
          }}
        />
      ) : null}
    </div>
  );
});
