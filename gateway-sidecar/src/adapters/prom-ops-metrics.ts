/**
 * Operations metrics added to the sidecar's Prometheus registry: the notifier's queue and delivery
 * counters and the model version being served. Values are read at scrape time from the parts that
 * own them, so nothing here sits on the hot path. docs/dashboards/grafana-sidecar.json queries them.
 */
import type { Registry } from './prom-registry.ts';

/** The notifier's counters (Notifier.stats()). */
export interface NotifierCounters {
  readonly queued: number;
  readonly dropped: number;
  readonly notified: number;
  readonly duplicates: number;
  readonly sent: number;
  readonly retried: number;
  readonly failed: number;
}

export interface OperationsSources {
  readonly notifier?: () => NotifierCounters;
  /** Version of the model being served, e.g. 'ensemble-1.2.0'; undefined while none is loaded. */
  readonly modelVersion?: () => string | undefined;
}

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function scrape(
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  read: () => number | undefined,
): { name: string; render(): string } {
  return {
    name,
    render(): string {
      const v = read();
      return `# HELP ${name} ${help}\n# TYPE ${name} ${type}${v === undefined ? '' : `\n${name} ${v}`}`;
    },
  };
}

/** Registers the operations metrics on `registry` (call once, from main.ts). */
export function registerOperationsMetrics(registry: Registry, sources: OperationsSources): void {
  const n = (pick: (c: NotifierCounters) => number) => (): number | undefined =>
    sources.notifier ? pick(sources.notifier()) : undefined;
  registry.register(
    scrape(
      'sidecar_notifications_queued',
      'gauge',
      'Notification triggers waiting for the notifier worker',
      n((c) => c.queued),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notifications_dropped_total',
      'counter',
      'Triggers dropped because the notifier queue was full',
      n((c) => c.dropped),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notifications_raised_total',
      'counter',
      'Notifications raised (after routing and dedup)',
      n((c) => c.notified),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notifications_duplicates_total',
      'counter',
      'Repeats counted on an existing notification instead of paging again',
      n((c) => c.duplicates),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notification_deliveries_sent_total',
      'counter',
      'Deliveries a channel accepted',
      n((c) => c.sent),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notification_deliveries_retried_total',
      'counter',
      'Delivery attempts that failed and were scheduled again',
      n((c) => c.retried),
    ),
  );
  registry.register(
    scrape(
      'sidecar_notification_deliveries_failed_total',
      'counter',
      'Deliveries given up after maxAttempts',
      n((c) => c.failed),
    ),
  );
  registry.register({
    name: 'sidecar_model_info',
    render(): string {
      const v = sources.modelVersion?.();
      const head =
        '# HELP sidecar_model_info Model version being served (value is always 1)\n# TYPE sidecar_model_info gauge';
      return v === undefined ? head : `${head}\nsidecar_model_info{model_version="${escape(v)}"} 1`;
    },
  });
}
