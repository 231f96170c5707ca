/**
 * The /health report of the composition root (part of it: only main.ts uses this). Each dependency
 * is up, degraded or down; the whole is down when the sidecar cannot do its job (source stopped,
 * no model, Postgres down with nothing spooling), degraded when it works with a dependency impaired
 * (the source not yet connected or reconnecting, Postgres down while the spool holds the data).
 */
import type { Pool } from 'pg';
import type { HealthReport } from './adapters/http/create-http-app.ts';
import type { ResilientSink } from './adapters/resilient-sink.ts';
import type { SourceSupervisor } from './app/source-supervisor.ts';
import type { DetectionHandle } from './main-detection.ts';

export interface HealthDeps {
  readonly db: { readonly pool: Pool; readonly embedded: boolean; readonly url?: string | undefined };
  readonly sink: ResilientSink;
  readonly sourceName: string;
  readonly supervisor: SourceSupervisor;
  readonly detection: DetectionHandle;
}

export function healthReporter(d: HealthDeps): () => Promise<HealthReport> {
  return async () => {
    const dbState = await Promise.race([
      d.db.pool.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      new Promise<'down'>((r) => setTimeout(() => r('down'), 1_000).unref()),
    ]);
    const spool = d.sink.stats();
    const src = d.supervisor.status();
    const model = d.detection.health();
    const srcUp = src.state === 'connected' || src.state === 'finished';
    const dependencies = {
      db: { state: dbState, detail: d.db.embedded ? 'embedded' : (d.db.url ?? '') },
      source: {
        state: srcUp ? ('up' as const) : src.state === 'stopped' ? ('down' as const) : ('degraded' as const),
        detail:
          `${d.sourceName}: ${srcUp ? src.state : `not connected (${src.state})`}` +
          (!srcUp && src.lastError !== undefined ? `; last error: ${src.lastError}` : ''),
      },
      model,
      spool: {
        state: spool.state === 'direct' ? ('up' as const) : ('degraded' as const),
        detail: `${spool.state}, ${spool.journal.depth} batches`,
      },
    };
    // Postgres down while the spool holds the data is degraded, not down: nothing is lost.
    const down =
      dependencies.source.state === 'down' ||
      model.state === 'down' ||
      (dbState === 'down' && spool.state === 'direct');
    const degraded = Object.values(dependencies).some((x) => x.state !== 'up');
    return { status: down ? 'down' : degraded ? 'degraded' : 'ok', dependencies };
  };
}
