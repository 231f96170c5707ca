/**
 * Learning metrics on the sidecar's Prometheus registry, read at scrape time from
 * Learning.snapshot(): outcome counts, drift PSI per feature, drift alerts, and the human metrics
 * per operator role (the per-pattern figures go to pipeline_metrics.extra, where cardinality is free).
 */
import type { LearningSnapshot } from '../domain/learning/ports.ts';
import type { Registry } from './prom-registry.ts';

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function family(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  rows: () => readonly (readonly [Record<string, string>, number])[],
): { name: string; render(): string } {
  return {
    name,
    render(): string {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
      for (const [labels, v] of rows()) {
        const l = Object.entries(labels)
          .map(([k, x]) => `${k}="${esc(x)}"`)
          .join(',');
        lines.push(`${name}${l ? `{${l}}` : ''} ${v}`);
      }
      return lines.join('\n');
    },
  };
}

export function registerLearningMetrics(registry: Registry, snapshot: () => LearningSnapshot): void {
  registry.register(
    family(
      'sidecar_write_outcomes_total',
      'counter',
      'Executed writes by outcome (effective, not_effective, worse)',
      () => Object.entries(snapshot().outcomes).map(([k, v]) => [{ outcome: k }, v] as const),
    ),
  );
  registry.register(
    family(
      'sidecar_feature_drift_psi',
      'gauge',
      'Population stability index of each feature vs the training data',
      () => Object.entries(snapshot().drift).map(([k, v]) => [{ feature: k }, v] as const),
    ),
  );
  registry.register(
    family(
      'sidecar_drift_alerts_total',
      'counter',
      'Drift checks that crossed learning.driftPsiAlert',
      () => [[{}, snapshot().driftAlerts]],
    ),
  );
  const byRole =
    (pick: (f: NonNullable<LearningSnapshot['human']>['overall']) => number) =>
    (): (readonly [Record<string, string>, number])[] =>
      Object.entries(snapshot().human?.byRole ?? {}).map(([role, f]) => [{ role }, pick(f)] as const);
  registry.register(
    family(
      'sidecar_operator_decisions',
      'gauge',
      'Approve/reject decisions of the last 7 days, by operator role',
      byRole((f) => f.decisions),
    ),
  );
  registry.register(
    family(
      'sidecar_operator_reject_rate',
      'gauge',
      'Share of rejected decisions of the last 7 days, by operator role',
      byRole((f) => f.rejectRate),
    ),
  );
  registry.register(
    family(
      'sidecar_operator_approval_latency_seconds',
      'gauge',
      'Mean created-to-decided time of the last 7 days, by operator role',
      byRole((f) => f.meanLatencySec),
    ),
  );
  registry.register(
    family(
      'sidecar_operator_rubber_stamps',
      'gauge',
      'Approvals faster than learning.minReadingSeconds in the last 7 days, by operator role',
      byRole((f) => f.rubberStamps),
    ),
  );
}
