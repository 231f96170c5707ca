// Incremental partition checkpoints on the real Postgres (migration 072): base + delta chain written
// by one owner, restored by another mid-chain; the restored state is byte-identical to the full
// snapshot at the checkpoint and scores the rest of the stream bit-identically to an owner that
// never stopped (thousands of events, alarms, buckets expiring, sensors silent for longer than the
// window, equipment appearing late). Compaction to a new base, a corrupt / truncated / missing
// delta (safe fallback to the chain's last good checkpoint, counted, chain replaced), and rows
// written before 072 (full-only) are covered too. Each test uses its own database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgPartitionCheckpoints } from '../../src/adapters/pg-checkpoint-store.ts';
import { PartitionCheckpointer } from '../../src/app/checkpoint-chain.ts';
import { StateReader } from '../../src/domain/state-codec.ts';
import type { ScoredReading } from '../../src/domain/detection.ts';
import type { ModelRunner } from '../../src/ports.ts';
import { createTestDatabase, testPool } from '../fixtures/pg.ts';
import { LabPartition, labRunner, plantIndex, tickStream } from '../fixtures/checkpoint-lab.ts';

const EQUIPMENT = 8;
const TICKS = 600; // 600 s of 1 s ticks on a 60 s window: ~9,000 events
const EVERY = 25; // ticks between checkpoints
const index = plantIndex(EQUIPMENT);
const ticks = tickStream(EQUIPMENT, TICKS);
let runner: ModelRunner;
let reference: ScoredReading[][];
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  runner = await labRunner();
  reference = await new LabPartition(index, runner).process(ticks);
  const flat = reference.flat();
  assert.ok(flat.length > 8_000, `${flat.length} events`);
  assert.ok(
    flat.some((s) => s.isAnomaly),
    'the reference raised no alarm: the comparison would prove little',
  );
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
  await runner.close();
});

async function database(prefix: string): Promise<pg.Pool> {
  const db = await createTestDatabase(prefix);
  const pool = testPool(db.url, 4);
  cleanup.push(async () => {
    await pool.end();
    await db.drop();
  });
  await runMigrations(pool);
  return pool;
}

/** An owner processing ticks [from, to) and checkpointing every EVERY ticks (seq = ticks processed). */
async function own(
  part: LabPartition,
  cp: PartitionCheckpointer,
  from: number,
  to: number,
  states?: Map<number, Uint8Array>,
): Promise<{ scored: ScoredReading[][]; kinds: string[] }> {
  const scored: ScoredReading[][] = [];
  const kinds: string[] = [];
  for (let t = from; t < to; t++) {
    if (t === Math.floor(TICKS / 3)) part.latched = ['[default]Lab/EQ_0000/Temperature']; // latches change too
    scored.push(...(await part.process([ticks[t] ?? []])));
    if ((t + 1) % EVERY === 0) {
      const state = await part.state();
      states?.set(t + 1, state);
      kinds.push((await cp.save(t + 1, state)).kind);
    }
  }
  return { scored, kinds };
}

async function chainRows(
  pool: pg.Pool,
): Promise<{ seq: number; baseSeq: number; baseBytes: number; deltas: number[]; deltaBytes: number }> {
  const c = await pool.query<{ seq: string; base_seq: string; bytes: number }>(
    'SELECT seq::text, base_seq::text, octet_length(state) AS bytes FROM agentic_hmi.scale_partition_checkpoints',
  );
  const d = await pool.query<{ seq: string; bytes: number }>(
    'SELECT seq::text AS seq, octet_length(delta) AS bytes FROM agentic_hmi.scale_partition_checkpoint_deltas d ORDER BY d.seq',
  );
  const row = c.rows[0];
  assert.ok(row !== undefined && c.rows.length === 1);
  return {
    seq: Number(row.seq),
    baseSeq: Number(row.base_seq),
    baseBytes: row.bytes,
    deltas: d.rows.map((r) => Number(r.seq)),
    deltaBytes: d.rows.reduce((s, r) => s + r.bytes, 0),
  };
}

test(
  'another owner restores base + deltas mid-chain byte-identically and scores the rest bit-identically to an owner that never stopped',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckchain');
    const opts = { fullEvery: 8, maxChainRatio: 10 };
    const states = new Map<number, Uint8Array>();
    const first = new LabPartition(index, runner);
    const a = await own(
      first,
      new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'a'), 0, opts),
      0,
      330,
      states,
    );
    assert.deepEqual(
      a.scored,
      reference.slice(0, 330),
      'checkpointing must not change what the owner scores',
    );
    // 13 checkpoints: base (25), 7 deltas, base (225), deltas 250-325; the owner died 5 ticks after 325.
    assert.deepEqual(a.kinds, [
      'base',
      ...Array(7).fill('delta'),
      'base',
      'delta',
      'delta',
      'delta',
      'delta',
    ]);
    const mid = await chainRows(pool);
    assert.deepEqual(mid, { ...mid, seq: 325, baseSeq: 225, deltas: [250, 275, 300, 325] });
    // 25 s of a 60 s window (5 of 12 buckets) changed per checkpoint here; bench/checkpoint.bench.ts measures realistic ratios.
    assert.ok(
      mid.deltaBytes / 4 < mid.baseBytes * 0.6,
      `a delta (${mid.deltaBytes / 4} B) must be smaller than the base (${mid.baseBytes} B)`,
    );

    const cpB = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'b'), 0, opts);
    const restored = await cpB.load();
    assert.ok(restored !== undefined);
    assert.equal(restored.rejected, undefined);
    assert.equal(restored.seq, 325);
    assert.equal(restored.deltasApplied, 4);
    assert.deepEqual(
      restored.state,
      states.get(325),
      'base + deltas must rebuild the full snapshot at the checkpoint byte for byte',
    );
    const second = new LabPartition(index, runner);
    await second.restore(restored.state);
    const b = await own(second, cpB, 325, TICKS, states);
    assert.deepEqual(
      b.scored,
      reference.slice(325),
      'the new owner must score ticks 325.. exactly as the owner that never stopped',
    );
    // The chain continues where the first owner left it: deltas to 400, a new base at 425, ...
    assert.deepEqual(b.kinds, ['delta', 'delta', 'delta', 'base', ...Array(7).fill('delta')]);
    const end = await chainRows(pool);
    assert.deepEqual(end, { ...end, seq: 600, baseSeq: 425, deltas: [450, 475, 500, 525, 550, 575, 600] });

    const last = await new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'c'), 0, opts).load();
    assert.deepEqual(last?.state, states.get(600));
  },
);

test(
  'compaction: a new base when the chain would outgrow its share of the base; the old chain is dropped with it',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckcompact');
    const opts = { fullEvery: 1_000, maxChainRatio: 1 };
    const cp = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'a'), 0, opts);
    const part = new LabPartition(index, runner);
    const kinds: string[] = [];
    const states = new Map<number, Uint8Array>();
    for (let t = 0; t < 300; t += EVERY) {
      const r = await own(part, cp, t, t + EVERY, states);
      kinds.push(...r.kinds);
      const rows = await chainRows(pool);
      assert.ok(
        rows.deltaBytes <= rows.baseBytes,
        `chain ${rows.deltaBytes} B over 1 × base ${rows.baseBytes} B`,
      );
      assert.ok(
        rows.deltas.every((s) => s > rows.baseSeq && s <= rows.seq),
        JSON.stringify(rows),
      );
      if (r.kinds[0] === 'base') assert.deepEqual(rows.deltas, [], 'a new base drops the old chain');
    }
    assert.ok(kinds.filter((k) => k === 'base').length >= 2 && kinds.includes('delta'), kinds.join(','));
    const back = await new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'b'), 0, opts).load();
    assert.deepEqual(back?.state, states.get(300));
    // fullEvery 1: every checkpoint is full, no delta row is ever written.
    const pool1 = await database('sc_ckfull');
    const full = await own(
      new LabPartition(index, runner),
      new PartitionCheckpointer(new PgPartitionCheckpoints(pool1, 'S', 'a'), 0, {
        fullEvery: 1,
        maxChainRatio: 1,
      }),
      0,
      100,
    );
    assert.deepEqual(full.kinds, ['base', 'base', 'base', 'base']);
    assert.deepEqual((await chainRows(pool1)).deltas, []);
  },
);

test(
  'a corrupt, truncated or missing delta falls back to the last good checkpoint, is reported, the chain is replaced, and re-processing from there is exact',
  { timeout: 240_000 },
  async () => {
    const opts = { fullEvery: 10, maxChainRatio: 10 };
    const cases: [string, (pool: pg.Pool) => Promise<unknown>, RegExp, number][] = [
      [
        'corrupt',
        (pool) =>
          pool.query(
            'UPDATE agentic_hmi.scale_partition_checkpoint_deltas SET delta = set_byte(delta, 60, get_byte(delta, 60) # 1) WHERE seq = 75',
          ),
        /^partition delta: checksum mismatch \(stored [0-9a-f]+, computed [0-9a-f]+\): the delta is corrupt$/,
        50,
      ],
      [
        'truncated',
        (pool) =>
          pool.query(
            'UPDATE agentic_hmi.scale_partition_checkpoint_deltas SET delta = substring(delta from 1 for 8) WHERE seq = 100',
          ),
        /^partition delta: truncated at byte 6 reading checksum \(8 bytes in all\)$/,
        75,
      ],
      [
        'missing',
        (pool) => pool.query('DELETE FROM agentic_hmi.scale_partition_checkpoint_deltas WHERE seq = 50'),
        /^partition delta: the chain is broken: the delta to sequence 75 applies to 50 on base 25, the state is at 25 on base 25$/,
        25,
      ],
    ];
    for (const [what, damage, message, resumedAt] of cases) {
      const pool = await database(`sc_ckbad_${what}`);
      const states = new Map<number, Uint8Array>();
      await own(
        new LabPartition(index, runner),
        new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'a'), 0, opts),
        0,
        100,
        states,
      );
      assert.deepEqual((await chainRows(pool)).deltas, [50, 75, 100]);
      await damage(pool);

      const cp = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'b'), 0, opts);
      const got = await cp.load();
      assert.ok(got?.rejected !== undefined, `${what}: the bad delta must be reported`);
      assert.match(got.rejected.err.message, message, what);
      assert.equal(got.rejected.err.name, 'StateFormatError');
      assert.equal(got.rejected.chainSeq, 100);
      assert.equal(got.rejected.rebased, true);
      assert.equal(got.seq, resumedAt, `${what}: restored at the chain's last good checkpoint`);
      assert.deepEqual(got.state, states.get(resumedAt), `${what}: the state at ${resumedAt} exactly`);
      // The broken chain is gone: the row is a base at the good checkpoint (the next owner meets no error).
      assert.deepEqual(await chainRows(pool), {
        seq: resumedAt,
        baseSeq: resumedAt,
        baseBytes: (states.get(resumedAt) as Uint8Array).length,
        deltas: [],
        deltaBytes: 0,
      });
      // Re-processing from there (the stream is replayed after the checkpoint) is exact.
      const part = new LabPartition(index, runner);
      await part.restore(got.state);
      const rest = await own(part, cp, resumedAt, 200);
      assert.deepEqual(
        rest.scored,
        reference.slice(resumedAt, 200),
        `${what}: re-processing from ${resumedAt}`,
      );
      assert.equal(rest.kinds[0], 'delta', 'the chain continues on the new base');
    }
  },
);

/** The same state as a build before incremental checkpoints wrote it (magic `AIPS`, same layout). */
function legacy(state: Uint8Array): Uint8Array {
  const b = state.slice();
  b[3] = 'S'.charCodeAt(0);
  return b;
}

/** Exactly the statement PgPartitionCheckpoints.save ran before incremental checkpoints (migration 072). */
const LEGACY_SAVE = `INSERT INTO agentic_hmi.scale_partition_checkpoints (stream, partition_no, seq, state, instance_id) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (stream, partition_no) DO UPDATE SET seq = EXCLUDED.seq, state = EXCLUDED.state, instance_id = EXCLUDED.instance_id, updated_at = now()
    WHERE agentic_hmi.scale_partition_checkpoints.seq < EXCLUDED.seq`;

test(
  'a checkpoint row written before migration 072 (full AIPS state, no base_seq) restores; the next checkpoint is a base, then the chain continues',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckold');
    const part = new LabPartition(index, runner);
    await part.process(ticks.slice(0, 150));
    const old = legacy(await part.state());
    await pool.query(LEGACY_SAVE, ['S', 0, 150, Buffer.from(old), 'old-build']);
    const opts = { fullEvery: 10, maxChainRatio: 10 };
    const cp = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'new'), 0, opts);
    const got = await cp.load();
    assert.equal(got?.seq, 150);
    assert.deepEqual(got?.state, old);
    const moved = new LabPartition(index, runner);
    await moved.restore(old);
    const states = new Map<number, Uint8Array>();
    const r = await own(moved, cp, 150, 250, states);
    assert.deepEqual(r.scored, reference.slice(150, 250));
    assert.deepEqual(
      r.kinds,
      ['base', 'delta', 'delta', 'delta'],
      'no delta is chained onto a row an older build can read',
    );
    const rows = await chainRows(pool);
    assert.deepEqual(rows, { ...rows, seq: 250, baseSeq: 175, deltas: [200, 225, 250] });
    const again = await new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'x'), 0, opts).load();
    assert.deepEqual(again?.state, states.get(250));
    assert.deepEqual(
      await new PgPartitionCheckpoints(pool, 'S', 'x').load(0),
      { seq: 175, state: states.get(175) },
      'load() alone is the base at its own sequence',
    );
    // A build before 072 refuses the states this build writes (it would take a base for the state at
    // the chain's tip): its restore fails and it rebuilds from the stream, exact, instead.
    assert.throws(
      () => new StateReader(states.get(175) as Uint8Array, 'partition snapshot').header('AIPS', 1),
      /^StateFormatError: partition snapshot: not a AIPS snapshot \(wrong magic bytes\)$/,
    );
  },
);

test(
  'a full save by a build before 072 over a chain (rolling upgrade or rollback): its state at its sequence is used, the stale deltas are ignored and dropped',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckoldover');
    const opts = { fullEvery: 10, maxChainRatio: 10 };
    await own(
      new LabPartition(index, runner),
      new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'new'), 0, opts),
      0,
      100,
    );
    assert.deepEqual((await chainRows(pool)).deltas, [50, 75, 100]);
    // The old build's owner restores the chain tip (it cannot: AIPC), rebuilds from the stream and saves at 125.
    const oldOwner = new LabPartition(index, runner);
    await oldOwner.process(ticks.slice(0, 125));
    const at125 = legacy(await oldOwner.state());
    await pool.query(LEGACY_SAVE, ['S', 0, 125, Buffer.from(at125), 'old-build']);

    const cp = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'new2'), 0, opts);
    const got = await cp.load();
    assert.equal(got?.seq, 125);
    assert.equal(got?.ignoredDeltas, 3);
    assert.equal(got?.rejected, undefined);
    assert.deepEqual(got?.state, at125);
    const part = new LabPartition(index, runner);
    await part.restore(at125);
    const r = await own(part, cp, 125, 175);
    assert.deepEqual(r.scored, reference.slice(125, 175));
    assert.deepEqual(r.kinds, ['base', 'delta']);
    const rows = await chainRows(pool);
    assert.deepEqual(rows, { ...rows, seq: 175, baseSeq: 150, deltas: [175] });
  },
);

test(
  'a delta from an owner that lost the partition is refused and changes nothing; its next checkpoint is a full one',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckstale');
    const opts = { fullEvery: 10, maxChainRatio: 10 };
    const partA = new LabPartition(index, runner);
    const cpA = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'a'), 0, opts);
    await own(partA, cpA, 0, 50);
    // B takes over at 50 and moves the checkpoint to 100; A, still running, checkpoints 75.
    const cpB = new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'b'), 0, opts);
    const partB = new LabPartition(index, runner);
    await partB.restore((await cpB.load())?.state ?? new Uint8Array(0));
    const states = new Map<number, Uint8Array>();
    await own(partB, cpB, 50, 100, states);
    const before = await chainRows(pool);
    const stale = await own(partA, cpA, 50, 75);
    assert.deepEqual(stale.kinds, ['stale']);
    assert.deepEqual(await chainRows(pool), before, 'the stale delta must not touch the chain');
    // A's next checkpoint is a full one; behind B's checkpoint it is refused like any older full save.
    const next = await own(partA, cpA, 75, 100);
    assert.deepEqual(next.kinds, ['base']);
    assert.deepEqual(await chainRows(pool), before);
    assert.deepEqual((await cpB.load())?.state, states.get(100));
  },
);

test(
  'an unusable base under a chain: the whole checkpoint is handed to the restore (which names the problem) at the chain tip, nothing is rebased',
  { timeout: 240_000 },
  async () => {
    const pool = await database('sc_ckbadbase');
    const opts = { fullEvery: 10, maxChainRatio: 10 };
    await own(
      new LabPartition(index, runner),
      new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'a'), 0, opts),
      0,
      100,
    );
    await pool.query('UPDATE agentic_hmi.scale_partition_checkpoints SET state = set_byte(state, 4, 9)');
    const before = await chainRows(pool);
    const got = await new PartitionCheckpointer(new PgPartitionCheckpoints(pool, 'S', 'b'), 0, opts).load();
    assert.equal(got?.rejected, undefined, 'not a delta problem');
    assert.equal(got?.seq, 100, 'the worker rebuilds from the stream up to the tip');
    await assert.rejects(
      new LabPartition(index, runner).restore(got?.state ?? new Uint8Array(0)),
      /^StateFormatError: partition snapshot: format version 9 is not supported \(this build reads version 1\)$/,
    );
    assert.deepEqual(await chainRows(pool), before);
  },
);
