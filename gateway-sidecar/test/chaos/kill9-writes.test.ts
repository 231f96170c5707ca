/**
 * kill -9 of the real sidecar process while operators approve setpoint writes over HTTP (the gap
 * test/integration/kill9.test.ts leaves: it covers ingest, not decisions and writes). The simulator
 * source runs fast with frequent faults; concurrent clients approve every recommendation that
 * proposes a write; the process is killed with SIGKILL mid-way and restarted on the same database.
 * Afterwards, from the write ledger and the audit trail:
 *  - no recommendation has more than one claimed 'apply' write or more than one write_executed row;
 *  - every claim has an outcome (executed, failed, or write_interrupted after the restart);
 *  - no approval is audited twice for the same user.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';

const OPS = ['op1-chaos-token-0123456789abcdef', 'op2-chaos-token-0123456789abcdef'];

interface Item {
  id: string;
  version: number;
  status: string;
  proposedAction: unknown;
  approvals?: { user: string }[];
}

/** Approves every pending recommendation with a proposed write until `stop()`; counts outcomes. */
function approver(
  base: () => string,
  stopAfter: () => boolean,
): { done: Promise<void>; sent: number; ok: number; refused: number; lost: number } {
  const stats = { sent: 0, ok: 0, refused: 0, lost: 0, done: Promise.resolve() };
  const once = async (): Promise<void> => {
    const r = await fetch(`${base()}/api/recommendations?status=pending,approved&limit=500`, {
      headers: { authorization: `Bearer ${OPS[0]}` },
    });
    if (r.status !== 200) return;
    const items = ((await r.json()) as { items: Item[] }).items.filter((i) => i.proposedAction !== null);
    await Promise.all(
      items.slice(0, 16).map(async (item, k) => {
        stats.sent++;
        try {
          const res = await fetch(`${base()}/api/recommendations/${item.id}/decision`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${OPS[(k + (item.approvals?.length ?? 0)) % 2]}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ decision: 'approve', expectedVersion: item.version }),
          });
          if (res.status === 200) stats.ok++;
          else stats.refused++;
          await res.arrayBuffer();
        } catch {
          stats.lost++; // the process died with the request in flight
        }
      }),
    );
  };
  stats.done = (async () => {
    while (!stopAfter()) {
      await once().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return stats;
}

describe('kill -9 while setpoint writes are being approved', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-kill9w-'));
  let db: TestDatabase;
  const children: SidecarProcess[] = [];
  before(async () => {
    db = await createTestDatabase('sc_chaos_kill9w');
  });
  after(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('no write is executed twice, every claimed write ends with an outcome', async (t) => {
    const config = writeConfig({
      dataDir: join(dir, 'data'),
      logLevel: 'warn',
      database: { url: db.url },
      source: { kind: 'simulator', simulator: { seed: 9, speed: 60, faultEveryMinutes: 1 } },
      http: { demoTokens: 'off', rateLimitPerMinute: 1_000_000 },
      auth: { tokens: OPS.map((token, i) => ({ token, user: `op${i + 1}`, roles: ['operator'] })) },
    });
    const first = await startSidecar({ configFile: config, env: { LOG_LEVEL: 'info' } });
    children.push(first);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    t.after(() => c.end());
    const count = async (sql: string): Promise<number> =>
      Number((await c.query<{ n: string }>(sql)).rows[0]?.n ?? 0);

    let killed = false;
    const a1 = approver(
      () => first.baseUrl,
      () => killed,
    );
    // Kill once a handful of writes have been claimed, with approvals still streaming in.
    for (let i = 0; i < 6000 && !killed; i++) {
      if ((await count('SELECT count(*) AS n FROM agentic_hmi.recommendation_writes').catch(() => 0)) >= 3) {
        first.child.kill('SIGKILL');
        killed = true;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(killed, 'writes were claimed within two minutes (else the test proves nothing)');
    assert.equal((await first.exited).signal, 'SIGKILL');
    await a1.done;
    const claimsAtKill = await count('SELECT count(*) AS n FROM agentic_hmi.recommendation_writes');

    const second = await startSidecar({ configFile: config, env: { LOG_LEVEL: 'info' } });
    children.push(second);
    let stop = false;
    const a2 = approver(
      () => second.baseUrl,
      () => stop,
    );
    const until = Date.now() + 8_000;
    while (Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await a2.done;
    assert.equal((await second.kill('SIGTERM')).code, 0, 'clean shutdown');

    const perRec = await c.query<{
      id: string;
      claims: string;
      executed: string;
      failed: string;
      interrupted: string;
      status: string;
    }>(
      `SELECT r.recommendation_id AS id, r.status,
              (SELECT count(*) FROM agentic_hmi.recommendation_writes w WHERE w.recommendation_id = r.recommendation_id AND w.purpose = 'apply') AS claims,
              (SELECT count(*) FROM agentic_hmi.recommendation_audit a WHERE a.recommendation_id = r.recommendation_id AND a.action = 'write_executed') AS executed,
              (SELECT count(*) FROM agentic_hmi.recommendation_audit a WHERE a.recommendation_id = r.recommendation_id AND a.action = 'write_failed') AS failed,
              (SELECT count(*) FROM agentic_hmi.recommendation_audit a WHERE a.recommendation_id = r.recommendation_id AND a.action = 'write_interrupted') AS interrupted
         FROM agentic_hmi.agent_recommendations r`,
    );
    const n = (s: string): number => Number(s);
    const twice = perRec.rows.filter(
      (r) => n(r.claims) > 1 || n(r.executed) > 1 || n(r.executed) + n(r.failed) + n(r.interrupted) > 1,
    );
    assert.deepEqual(twice, [], 'at most one claimed write and one outcome per recommendation');
    const noOutcome = perRec.rows.filter(
      (r) => n(r.claims) === 1 && n(r.executed) + n(r.failed) + n(r.interrupted) === 0,
    );
    assert.deepEqual(noOutcome, [], 'every claimed write has an outcome after the restart');
    const outcomeWithoutClaim = perRec.rows.filter(
      (r) => n(r.claims) === 0 && n(r.executed) + n(r.failed) > 0,
    );
    assert.deepEqual(outcomeWithoutClaim, [], 'no write executed without its claim');
    const executed = perRec.rows.filter((r) => n(r.executed) === 1);
    assert.ok(
      executed.every((r) => r.status === 'executed'),
      'executed writes have status executed',
    );
    const dupApprovals = await count(
      `SELECT count(*) AS n FROM (SELECT recommendation_id, actor FROM agentic_hmi.recommendation_audit WHERE action = 'approve' GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    assert.equal(dupApprovals, 0, 'no approval audited twice for the same user');
    t.diagnostic(
      `claims at kill ${claimsAtKill}; before kill: ${a1.sent} approvals sent, ${a1.ok} ok, ${a1.refused} refused, ${a1.lost} lost in flight; ` +
        `after restart: ${a2.sent} sent, ${a2.ok} ok; executed ${executed.length}, failed ${perRec.rows.filter((r) => n(r.failed) > 0).length}, ` +
        `interrupted ${perRec.rows.filter((r) => n(r.interrupted) > 0).length} of ${perRec.rows.length} recommendations`,
    );
  });
});
