/** Equipment / severity / status filters. Native selects: keyboard and screen-reader friendly. */
import * as React from 'react';
import { observer } from 'mobx-react';
import { SEVERITIES, STATUSES, type RecommendationStatus, type Severity } from '../../api/types.ts';
import { SEVERITY_LABEL, STATUS_LABEL } from './format.ts';
import type { RecommendationsStore } from './recommendations.store.ts';

/** Status presets: a multi-select listbox is clumsy in small containers, so offer named sets. */
export const STATUS_PRESETS: readonly { id: string; label: string; statuses: RecommendationStatus[] }[] = [
  {
    id: 'active',
    label: 'Open and recent',
    statuses: ['pending', 'deferred', 'approved', 'executed', 'failed'],
  },
  { id: 'open', label: 'Needs decision', statuses: ['pending', 'deferred'] },
  { id: 'all', label: 'All', statuses: [] },
  ...STATUSES.map((s) => ({ id: s, label: STATUS_LABEL[s], statuses: [s] })),
];

function presetOf(statuses: readonly RecommendationStatus[]): string {
  const key = [...statuses].sort().join(',');
  return STATUS_PRESETS.find((p) => [...p.statuses].sort().join(',') === key)?.id ?? 'custom';
}

export const FilterBar = observer(function FilterBar({
  store,
}: {
  store: RecommendationsStore;
}): React.ReactElement {
  const f = store.state.filter;
  const preset = presetOf(f.status);
  const minSeverity = f.severity.length ? (SEVERITIES.find((s) => f.severity.includes(s)) ?? '') : '';
  return (
    <div className="aim-filters" role="group" aria-label="Filters">
      <label className="aim-filter">
        <span>Equipment</span>
        <select value={f.equipmentId} onChange={(e) => store.setFilter({ equipmentId: e.target.value })}>
          <option value="">All equipment</option>
          {[...new Set([...store.state.equipmentIds, ...(f.equipmentId ? [f.equipmentId] : [])])].map(
            (id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ),
          )}
        </select>
      </label>
      <label className="aim-filter">
        <span>Severity</span>
        <select
          value={minSeverity}
          onChange={(e) => {
            const from = SEVERITIES.indexOf(e.target.value as Severity);
            store.setFilter({ severity: from === -1 ? [] : SEVERITIES.slice(from) });
          }}
        >
          <option value="">Any severity</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {SEVERITY_LABEL[s]} and above
            </option>
          ))}
        </select>
      </label>
      <label className="aim-filter">
        <span>Status</span>
        <select
          value={preset}
          onChange={(e) => {
            const p = STATUS_PRESETS.find((x) => x.id === e.target.value);
            if (p) store.setFilter({ status: [...p.statuses] });
          }}
        >
          {preset === 'custom' ? <option value="custom">Custom</option> : null}
          {STATUS_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
});
