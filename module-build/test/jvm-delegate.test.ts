/**
 * The JVM test: builds both variants, starts the sidecar's real HTTP API (over Postgres), compiles
 * the test harness (java/test) against the stub SDK and runs it with plain `java`. The harness
 * loads the hooks from the packaged jars, checks the registrations and resource paths, and drives
 * the delegate against the sidecar: list, decide, live stream, forged identity, anonymous session.
 * Afterwards the sidecar's own record is checked: the decision is attributed to the session user.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MODULE_ID } from '../src/constants.ts';
import { JAVA_RELEASE, listFiles } from '../src/java-build.ts';
import { buildForTest, MODULE_BUILD_DIR, REPO_ROOT, type TestBuild } from './fixtures/build.ts';
import { startSidecarApi, type SidecarUnderTest } from './fixtures/sidecar.ts';

const COMPONENT_TYPE = 'aimonitor.display.recommendations';

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Asynchronous, so the sidecar in this process keeps answering while the JVM runs. */
function runAsync(cmd: string, args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

interface Rec {
  id: string;
  equipmentId: string;
  status: string;
  version: number;
  decidedBy: string | null;
  operatorNotes: string | null;
}

describe('Java hooks and delegate in a JVM, against the sidecar API', () => {
  let build: TestBuild;
  let sidecar: SidecarUnderTest;
  let secret: string;
  let viewer: string;
  const wrongSecret = randomBytes(32).toString('base64url');

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(sidecar.base + path, { headers: { authorization: `Bearer ${viewer}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };

  before(async () => {
    build = buildForTest();
    ({ sidecar, secret, viewerToken: viewer } = await startSidecarApi(REPO_ROOT));
  });
  after(async () => {
    await sidecar?.close();
    if (build) rmSync(build.tmp, { recursive: true, force: true });
  });

  for (const [target, equipment] of [
    ['8.1', 'REACTOR_01'],
    ['8.3', 'PUMP_02'],
  ] as const) {
    test(`Ignition ${target}: hooks register, resources resolve, delegate round-trips with a signed identity`, async () => {
      const mod = build.result.modules.find((m) => m.target === target);
      assert.ok(mod);
      // A fresh pending recommendation, raised through the sidecar's real engine.
      await sidecar.raise(Date.now(), { equipment });
      const pending = await get<{ items: Rec[] }>(
        `/api/recommendations?status=pending&equipment=${equipment}`,
      );
      const rec = pending.items[0];
      assert.ok(rec, `no pending recommendation for ${equipment}`);
      // A critical alert as the bypass records it: the delegate's alerts-request must bring it back.
      const alertId = `jvm-alert-${target}-${Date.now()}`;
      await sidecar.pool.query(
        `INSERT INTO mining_operations.critical_alerts
           (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
         VALUES ($1, $2, 'temperature', $3, 101, 95, 'emergency', $4, now())`,
        [
          alertId,
          equipment,
          `[default]${equipment}/Temperature`,
          `EMERGENCY: ${equipment} temperature 101 >= 95`,
        ],
      );

      const stubs = join(build.workDir, `java-${target}`, 'stubs');
      const harness = join(build.tmp, `jvmtest-${target}`);
      const sources = listFiles(join(MODULE_BUILD_DIR, 'java', 'test'), '.java');
      const compiled = run('javac', [
        '--release',
        String(JAVA_RELEASE[target]),
        '-cp',
        stubs,
        '-d',
        harness,
        ...sources,
      ]);
      assert.equal(compiled.status, 0, compiled.out);
      const r = await runAsync('java', [
        '-cp',
        `${stubs}:${harness}`,
        'aimonitor.jvmtest.ModuleJvmTest',
        `modl=${mod.path}`,
        `target=${target}`,
        `work=${join(build.tmp, `jvmwork-${target}`)}`,
        `sidecar=${sidecar.base}`,
        `secret=${secret}`,
        `wrongSecret=${wrongSecret}`,
        `recId=${rec.id}`,
        `recVersion=${rec.version}`,
        `alertId=${alertId}`,
        `expectedModuleId=${MODULE_ID}`,
        `expectedComponentType=${COMPONENT_TYPE}`,
      ]);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /ALL PASSED/);
      assert.equal((r.out.match(/^PASS /gm) ?? []).length, 17, r.out);

      // The sidecar's own record: the decision came from the session user the gateway vouched for.
      const after = await get<{ recommendation: Rec; history: { actor: string; toStatus: string }[] }>(
        `/api/recommendations/${rec.id}`,
      );
      assert.equal(after.recommendation.status, 'rejected');
      assert.equal(after.recommendation.decidedBy, 'alice');
      assert.equal(after.recommendation.operatorNotes, `rejected from the JVM test (${target})`);
      assert.ok(
        after.history.some((h) => h.actor === 'alice' && h.toStatus === 'rejected'),
        JSON.stringify(after.history),
      );
    });
  }
});
