/**
 * Exactly once across a crash: the real sidecar process replays a recorded plant (CSV, fast pace)
 * into Postgres; one run is killed with SIGKILL mid-stream and restarted on the same database and
 * data folder. Its recommendations, critical alerts, bronze/silver rows and audit trail must equal
 * those of an uninterrupted reference run: nothing duplicated, nothing lost.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import { PLANT_CSV_TAG_PREFIX, writePlantCsv } from '../fixtures/plant-csv.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

// 20 simulated minutes: enough for several faults, few enough recommendations per area that flood
// control never engages: it counts per wall-clock 10-minute window, which two runs of a fast replay
// do not share, so a flood would make the runs differ for reasons other than the crash. Flood
// control across a crash (rebuilt from the stored rows at start) is tested in alarm-discipline.test.ts.
const TICKS = 1200;

interface Snapshot {
  recommendations: string[];
  alerts: string[];
  bronze: number;
  silver: number;
  anomalies: number;
  createdAudits: number;
  checkpoint: number | undefined;
  modelVersions: string[];
}

async function snapshot(url: string): Promise<Snapshot> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const recs = await c.query<{ row: string }>(
      `SELECT concat_ws('|', dedup_key, equipment_id, issue_type, severity, occurrence_count, round(max_anomaly_score::numeric, 6),
                        round(confidence_score::numeric, 6), status, anomaly_timestamp, cardinality(anomaly_event_ids),
                        md5(array_to_string(ARRAY(SELECT unnest(anomaly_event_ids) ORDER BY 1), ','))) AS row
         FROM agentic_hmi.agent_recommendations ORDER BY dedup_key`,
    );
    const alerts = await c.query<{ alert_id: string }>(
      'SELECT alert_id FROM mining_operations.critical_alerts ORDER BY alert_id',
    );
    const count = async (sql: string): Promise<number> =>
      Number((await c.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    const cp = await c.query<{ ts: string }>(
      'SELECT source_ts_ms::text AS ts FROM agentic_hmi.source_checkpoints',
    );
    return {
      recommendations: recs.rows.map((r) => r.row),
      alerts: alerts.rows.map((r) => r.alert_id),
      bronze: await count('SELECT count(*) AS n FROM mining_operations.sensor_stream_bronze'),
      silver: await count('SELECT count(*) AS n FROM mining_operations.anomaly_detection_silver'),
      anomalies: await count(
        'SELECT count(*) AS n FROM mining_operations.anomaly_detection_silver WHERE is_anomaly',
      ),
      createdAudits: await count(
        `SELECT count(*) AS n FROM agentic_hmi.recommendation_audit a JOIN agentic_hmi.agent_recommendations r USING (recommendation_id)
          WHERE a.from_status IS NULL`,
      ),
      checkpoint: cp.rows[0] === undefined ? undefined : Number(cp.rows[0].ts),
      modelVersions: (
        await c.query<{ v: string }>(
          'SELECT DISTINCT model_version AS v FROM mining_operations.anomaly_detection_silver ORDER BY 1',
        )
      ).rows.map((r) => r.v),
    };
  } finally {
    await c.end();
  }
}

async function checkpointOf(url: string): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ ts: string }>(
      'SELECT source_ts_ms::text AS ts FROM agentic_hmi.source_checkpoints',
    );
    return r.rows[0] === undefined ? undefined : Number(r.rows[0].ts);
  } catch {
    return undefined; // migrations not applied yet
  } finally {
    await c.end();
  }
}

function sidecarConfig(
  db: TestDatabase,
  dataDir: string,
  csv: string,
  extra: Record<string, unknown> = {},
): string {
  return writeConfig({
    ...extra,
    dataDir,
    logLevel: 'info',
    database: { url: db.url },
    source: { kind: 'replay', replay: { file: csv, pace: 'fast', tagPrefix: PLANT_CSV_TAG_PREFIX } },
    http: { demoTokens: 'off' },
    metrics: { rollupIntervalMs: 1_000 },
    auth: { tokens: [{ token: 'kill9-viewer-token-0123456789', user: 'v', roles: ['viewer'] }] },
  });
}

const finished = (l: Record<string, unknown>): boolean => l.msg === 'source state' && l.state === 'finished';

describe('kill -9 mid-stream on a replayable source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kill9-'));
  const csv = writePlantCsv(join(dir, 'plant.csv'), { seed: 11, ticks: TICKS, faultEveryMinutes: 4 });
  let refDb: TestDatabase;
  let killDb: TestDatabase;
  let floodDb: TestDatabase;
  const children: SidecarProcess[] = [];

  before(async () => {
    refDb = await createTestDatabase('sc_kill9_ref');
    killDb = await createTestDatabase('sc_kill9_crash');
    floodDb = await createTestDatabase('sc_kill9_flood');
  });
  after(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await refDb?.drop();
    await killDb?.drop();
    await floodDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the restarted run equals an uninterrupted reference run', async (t) => {
    const ref = await startSidecar({ configFile: sidecarConfig(refDb, join(dir, 'ref-data'), csv) });
    children.push(ref);
    await ref.waitForLog(finished, 240_000);
    const expected = await snapshot(refDb.url);
    assert.equal((await ref.kill('SIGTERM')).code, 0, 'clean shutdown exits 0');
    {
      // The minute rollup (here every second, and once more at shutdown) writes pipeline_metrics rows the seed's dashboard reads.
      const c = new pg.Client({ connectionString: refDb.url });
      await c.connect();
      const m = await c.query<{ n: string; model: string | null }>(
        "SELECT count(*) AS n, max(extra->>'modelVersion') AS model FROM mining_operations.pipeline_metrics",
      );
      await c.end();
      assert.ok(Number(m.rows[0]?.n) >= 1, 'pipeline_metrics rows were rolled up');
      assert.equal(
        m.rows[0]?.model,
        expected.modelVersions.find((v) => v !== '') ?? null,
        'with the KPIs and model in extra',
      );
    }
    assert.ok(
      expected.recommendations.length >= 1,
      'the recording produces recommendations (else the comparison proves nothing)',
    );
    assert.ok(expected.bronze > 0 && expected.checkpoint !== undefined);

    const crashConfig = sidecarConfig(killDb, join(dir, 'crash-data'), csv);
    const first = await startSidecar({ configFile: crashConfig });
    children.push(first);
    const startTs = Date.UTC(2026, 0, 5, 6, 0, 0);
    const span = TICKS * 1000;
    let killedAt: number | undefined;
    for (let i = 0; i < 20_000 && first.child.exitCode === null; i++) {
      const cp = await checkpointOf(killDb.url);
      // Past the first recommendations, well before the end.
      if (cp !== undefined && cp - startTs > span * 0.5) {
        first.child.kill('SIGKILL');
        killedAt = cp;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL', 'killed by SIGKILL, not finished on its own');
    assert.ok(killedAt !== undefined && killedAt < (expected.checkpoint as number), 'killed mid-stream');
    const partial = await snapshot(killDb.url);
    assert.ok(partial.bronze < expected.bronze, 'the crash left work undone');
    assert.ok(partial.recommendations.length >= 1, 'some recommendations were committed before the crash');

    const second = await startSidecar({ configFile: crashConfig });
    children.push(second);
    const resumed = await second.waitForLog((l) => l.msg === 'ingest starting');
    assert.ok(
      typeof resumed.checkpoint === 'number' && resumed.checkpoint >= (killedAt as number),
      'resumed from the saved checkpoint',
    );
    await second.waitForLog(finished, 240_000);
    const actual = await snapshot(killDb.url);
    await second.kill('SIGTERM');

    assert.deepEqual(
      actual.recommendations,
      expected.recommendations,
      'same recommendations, same counts and event ids',
    );
    assert.deepEqual(actual.alerts, expected.alerts, 'same critical alerts');
    assert.equal(actual.bronze, expected.bronze);
    assert.equal(actual.silver, expected.silver);
    assert.equal(actual.anomalies, expected.anomalies);
    assert.equal(
      actual.createdAudits,
      expected.createdAudits,
      'each recommendation was created exactly once',
    );
    assert.equal(actual.checkpoint, expected.checkpoint);
    assert.deepEqual(actual.modelVersions, expected.modelVersions);
    t.diagnostic(
      `model ${expected.modelVersions.join(', ')}; reference: ${expected.recommendations.length} recommendations, ${expected.alerts.length} critical alerts, ${expected.bronze} bronze rows; ` +
        `killed at ${new Date(killedAt as number).toISOString()} with ${partial.bronze} bronze rows and ${partial.recommendations.length} recommendations committed`,
    );
  });

  test('flood control holds across a kill -9: no area admits more than the limit in a 10-minute window', async (t) => {
    // Faults every simulated minute and a limit of one new recommendation per area and window, so
    // the areas flood; the crash comes right after an area used its one, and the restarted process
    // must group that area's next ones instead of admitting them afresh.
    const floodCsv = writePlantCsv(join(dir, 'flood.csv'), { seed: 12, ticks: 2400, faultEveryMinutes: 1 });
    const config = sidecarConfig(floodDb, join(dir, 'flood-data'), floodCsv, {
      recommendations: { maxRecommendationsPer10Min: 1 },
    });
    const admittedBefore = async (): Promise<{ area: string; created: Date }[]> => {
      const c = new pg.Client({ connectionString: floodDb.url });
      await c.connect();
      try {
        const r = await c.query<{ area: string; created: Date }>(
          `SELECT area, created_timestamp AS created FROM agentic_hmi.agent_recommendations
             WHERE issue_type <> 'flood_summary' ORDER BY created_timestamp`,
        );
        return r.rows;
      } catch {
        return []; // migrations not applied yet
      } finally {
        await c.end();
      }
    };
    // The flood windows are 10 wall-clock minutes: a run that straddles a boundary would admit the
    // restarted process's recommendations into a fresh window, and the check below would prove
    // nothing. Start clear of the next boundary (waits at most 90 s, only near one).
    const toBoundaryMs = 600_000 - (Date.now() % 600_000);
    if (toBoundaryMs < 90_000) await new Promise((r) => setTimeout(r, toBoundaryMs + 1_000));
    const first = await startSidecar({ configFile: config });
    children.push(first);
    let beforeKill: { area: string; created: Date }[] = [];
    for (let i = 0; i < 20_000 && first.child.exitCode === null; i++) {
      beforeKill = await admittedBefore();
      if (beforeKill.length >= 1) {
        first.child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal((await first.exited).signal, 'SIGKILL', 'killed by SIGKILL, not finished on its own');
    assert.ok(beforeKill.length >= 1, 'a recommendation was admitted before the crash');
    const restartedAtMs = Date.now();

    const second = await startSidecar({ configFile: config });
    children.push(second);
    await second.waitForLog(finished, 240_000);
    await second.kill('SIGTERM');

    const c = new pg.Client({ connectionString: floodDb.url });
    await c.connect();
    try {
      const perWindow = await c.query<{ area: string; w: string; n: number }>(
        `SELECT area, floor(extract(epoch FROM created_timestamp) / 600)::text AS w, count(*)::int AS n
           FROM agentic_hmi.agent_recommendations WHERE issue_type <> 'flood_summary' GROUP BY 1, 2 ORDER BY 1, 2`,
      );
      for (const r of perWindow.rows) assert.ok(r.n <= 1, `area ${r.area} window ${r.w}: ${r.n} admitted`);
      // Not vacuous: in the window of the pre-crash admission, the restarted process grouped more
      // of that area's recommendations into the flood summary (the window is 10 wall-clock minutes;
      // the whole run takes seconds).
      const crashed = beforeKill[0] as { area: string; created: Date };
      const summary = await c.query<{ items: { at: string }[] }>(
        `SELECT grouped_items AS items FROM agentic_hmi.agent_recommendations
           WHERE issue_type = 'flood_summary' AND area = $1
             AND floor(extract(epoch FROM created_timestamp) / 600) = floor(extract(epoch FROM $2::timestamptz) / 600)`,
        [crashed.area, crashed.created],
      );
      const groupedAfterRestart = summary.rows
        .flatMap((r) => r.items)
        .filter((g) => Date.parse(g.at) >= restartedAtMs).length;
      assert.ok(
        groupedAfterRestart >= 1,
        `the restarted process grouped ${crashed.area}'s later recommendations (window of ${crashed.created.toISOString()})`,
      );
      t.diagnostic(
        `${perWindow.rows.length} area-windows with one admitted each; ${groupedAfterRestart} of ${crashed.area} grouped after the restart`,
      );
    } finally {
      await c.end();
    }
  });
});
