import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EQUIPMENT } from '../default-plant.ts';
import { PLANT_TAGS } from './plant-model.ts';
import { PlantSimulator, type PlantSample } from './plant-simulator.ts';
import { FAULT_KINDS } from './plant-faults.ts';

const T0 = Date.UTC(2026, 0, 1);
const make = (seed = 7, faultEveryMinutes = 0, tickMs = 1000): PlantSimulator =>
  new PlantSimulator({ seed, tickMs, startMs: T0, faultEveryMinutes });
const val = (samples: PlantSample[], tag: string): number => {
  const s = samples.find((x) => x.tagPath === tag);
  assert.ok(s, `no sample for ${tag}`);
  return s.value as number;
};
function run(sim: PlantSimulator, seconds: number, each?: (s: PlantSample[]) => void): PlantSample[] {
  let last: PlantSample[] = [];
  for (let i = 0; i < seconds; i++) {
    last = sim.step();
    each?.(last);
  }
  return last;
}

test('drives exactly the tags of the default plant, mode tags RUN, setpoints with their value', () => {
  const expected = DEFAULT_EQUIPMENT.flatMap((e) => [
    ...e.sensors.map((s) => s.tagPath),
    ...e.setpoints.map((s) => s.tagPath),
    e.modeTag,
  ]);
  const sim = make();
  const samples = sim.step();
  assert.deepEqual(samples.map((s) => s.tagPath).sort(), [...expected].sort());
  assert.ok(samples.every((s) => s.timestampMs === T0 + 1000));
  assert.equal(val(samples, PLANT_TAGS.reactorThroughputSp), 80);
  assert.equal(samples.find((s) => s.tagPath === PLANT_TAGS.pumpMode)?.value, 'RUN');
  for (const e of DEFAULT_EQUIPMENT) {
    for (const s of e.sensors) {
      const v = val(samples, s.tagPath);
      assert.ok(v >= s.engLow && v <= s.engHigh, `${s.tagPath}=${v} outside engineering range`);
    }
  }
});

test('same seed gives the same run (with scheduled faults); another seed differs', () => {
  const a = make(11, 1);
  const b = make(11, 1);
  const c = make(12, 1);
  const ra: unknown[] = [];
  const rb: unknown[] = [];
  const rc: unknown[] = [];
  run(a, 900, (s) => ra.push(s));
  run(b, 900, (s) => rb.push(s));
  run(c, 900, (s) => rc.push(s));
  assert.deepEqual(ra, rb);
  assert.notDeepEqual(ra, rc);
  assert.deepEqual(a.faultLog(), b.faultLog());
  assert.ok(a.faultLog().length >= 10, `expected about one fault per minute, got ${a.faultLog().length}`);
  assert.ok(a.faultLog().every((f, i, all) => i === 0 || f.startMs >= (all[i - 1]?.startMs ?? 0)));
});

test('healthy plant stays under warning levels for an hour', () => {
  const sim = make(3);
  let maxTemp = 0;
  let maxVib = 0;
  run(sim, 3600, (s) => {
    maxTemp = Math.max(maxTemp, val(s, PLANT_TAGS.reactorTemperature));
    maxVib = Math.max(
      maxVib,
      val(s, PLANT_TAGS.pumpVibration),
      val(s, PLANT_TAGS.conveyorVibration),
      val(s, PLANT_TAGS.reactorVibration),
    );
  });
  assert.ok(maxTemp < 75, `reactor temperature reached ${maxTemp}`);
  assert.ok(maxVib < 3.5, `vibration reached ${maxVib}`);
  assert.equal(sim.faultLog().length, 0);
});

test('coupling: lower throughput cools the reactor, a wider coolant valve cools it, pump speed drives flow', () => {
  const sim = make(5);
  const base = run(sim, 600);
  assert.equal(sim.setSetpoint(PLANT_TAGS.reactorThroughputSp, 60), undefined);
  assert.equal(sim.setSetpoint(PLANT_TAGS.pumpSpeedSp, 50), undefined);
  const after = run(sim, 900);
  assert.ok(val(after, PLANT_TAGS.reactorTemperature) < val(base, PLANT_TAGS.reactorTemperature) - 15);
  assert.ok(val(after, PLANT_TAGS.pumpFlow) < val(base, PLANT_TAGS.pumpFlow) - 20);
  assert.ok(val(after, PLANT_TAGS.pumpDischargePressure) < val(base, PLANT_TAGS.pumpDischargePressure));
  assert.ok(val(after, PLANT_TAGS.pumpMotorCurrent) < val(base, PLANT_TAGS.pumpMotorCurrent));
  sim.setSetpoint(PLANT_TAGS.reactorCoolantValveSp, 90);
  const cooler = run(sim, 900);
  assert.ok(val(cooler, PLANT_TAGS.reactorTemperature) < val(after, PLANT_TAGS.reactorTemperature) - 10);
  assert.ok(val(cooler, PLANT_TAGS.reactorCoolantFlow) > val(after, PLANT_TAGS.reactorCoolantFlow) + 10);
});

test('cooling degradation left alone crosses the 90 °C emergency level; coolant flow falls', () => {
  const sim = make(8);
  const before = run(sim, 60);
  sim.injectFault({ kind: 'cooling_degradation', equipmentId: 'REACTOR_01' });
  let crossedAtSec = -1;
  run(sim, 30 * 60, (s) => {
    if (crossedAtSec < 0 && val(s, PLANT_TAGS.reactorTemperature) > 90)
      crossedAtSec = ((s[0]?.timestampMs ?? 0) - T0) / 1000;
  });
  assert.ok(crossedAtSec > 0, 'temperature never crossed 90 °C');
  const truth = sim.groundTruth();
  assert.ok(truth.coolingHealth < 0.25);
  assert.ok(
    (truth.processValues.get(PLANT_TAGS.reactorCoolantFlow) ?? 99) <
      val(before, PLANT_TAGS.reactorCoolantFlow) / 3,
  );
  assert.equal(truth.activeFaults[0]?.kind, 'cooling_degradation');
});

test('cooling degradation is fixed by the playbook: -20 % throughput brings temperature under 80 °C within minutes', () => {
  const sim = make(9);
  run(sim, 60);
  sim.injectFault({ kind: 'cooling_degradation', equipmentId: 'REACTOR_01' });
  let actedAt = -1;
  let underAt = -1;
  let maxAfterRecovery = 0;
  for (let i = 0; i < 40 * 60; i++) {
    const s = sim.step();
    const t = val(s, PLANT_TAGS.reactorTemperature);
    // Act late, just under the 85 °C critical level, as a slow approval would.
    if (actedAt < 0 && t > 84) {
      actedAt = i;
      assert.equal(sim.setSetpoint(PLANT_TAGS.reactorThroughputSp, 64), undefined);
    } else if (actedAt >= 0 && underAt < 0 && t < 80) underAt = i;
    // Two minutes after first dipping under, noise included, it must stay under.
    else if (underAt >= 0 && i - underAt > 120) maxAfterRecovery = Math.max(maxAfterRecovery, t);
  }
  assert.ok(actedAt > 0, 'warning level never reached');
  assert.ok(underAt > 0 && underAt - actedAt <= 5 * 60, `took ${underAt - actedAt} s to recover`);
  assert.ok(maxAfterRecovery < 80, `relapsed to ${maxAfterRecovery} while cooling stayed degraded`);
});

test('bearing wear raises vibration past critical; a 20 % speed cut brings it under warning', () => {
  const sim = make(10);
  sim.injectFault({ kind: 'bearing_wear', equipmentId: 'PUMP_02' });
  const worn = run(sim, 15 * 60);
  assert.ok(val(worn, PLANT_TAGS.pumpVibration) > 4.0);
  sim.setSetpoint(PLANT_TAGS.pumpSpeedSp, 60);
  const slowed = run(sim, 60);
  assert.ok(
    val(slowed, PLANT_TAGS.pumpVibration) < 3.5,
    `vibration ${val(slowed, PLANT_TAGS.pumpVibration)}`,
  );
});

test('cavitation makes pump pressure and flow oscillate with vibration; slowing the pump stops it', () => {
  const spread = (xs: number[]): number => Math.max(...xs) - Math.min(...xs);
  const sim = make(12);
  const p0: number[] = [];
  run(sim, 60, (s) => p0.push(val(s, PLANT_TAGS.pumpDischargePressure)));
  sim.injectFault({ kind: 'cavitation', equipmentId: 'PUMP_02' });
  run(sim, 60);
  const p1: number[] = [];
  const f1: number[] = [];
  let vib = 0;
  run(sim, 60, (s) => {
    p1.push(val(s, PLANT_TAGS.pumpDischargePressure));
    f1.push(val(s, PLANT_TAGS.pumpFlow));
    vib = Math.max(vib, val(s, PLANT_TAGS.pumpVibration));
  });
  assert.ok(spread(p1) > 3 * spread(p0), `pressure spread ${spread(p1)} vs ${spread(p0)}`);
  assert.ok(spread(f1) > 6);
  assert.ok(vib > 3.5);
  sim.setSetpoint(PLANT_TAGS.pumpSpeedSp, 55);
  run(sim, 30);
  const p2: number[] = [];
  run(sim, 60, (s) => p2.push(val(s, PLANT_TAGS.pumpDischargePressure)));
  assert.ok(spread(p2) < spread(p1) / 3);
});

test('sensor faults: stuck flatlines, spike lasts one sample, step offsets; ground truth stays clean', () => {
  const sim = make(13);
  run(sim, 10);
  const tag = PLANT_TAGS.conveyorMotorCurrent;
  sim.injectFault({ kind: 'stuck', equipmentId: 'CONVEYOR_03', tagPath: tag, durationMs: 30_000 });
  const stuck: number[] = [];
  run(sim, 20, (s) => stuck.push(val(s, tag)));
  assert.equal(new Set(stuck).size, 1);
  assert.notEqual(sim.groundTruth().processValues.get(tag), stuck[0]);
  run(sim, 20);
  const spikeTag = PLANT_TAGS.reactorTemperature;
  const before = val(run(sim, 1), spikeTag);
  sim.injectFault({ kind: 'spike', equipmentId: 'REACTOR_01', tagPath: spikeTag });
  const spiked = val(run(sim, 1), spikeTag);
  const next = val(run(sim, 1), spikeTag);
  assert.ok(spiked - before > 40 && Math.abs(next - before) < 2);
  sim.injectFault({
    kind: 'step',
    equipmentId: 'REACTOR_01',
    tagPath: spikeTag,
    magnitude: 10,
    durationMs: 10_000,
  });
  run(sim, 5);
  const offset = val(sim.step(), spikeTag) - (sim.groundTruth().processValues.get(spikeTag) ?? 0);
  assert.ok(Math.abs(offset - 10) < 1e-9, `step offset ${offset}`);
  run(sim, 10);
  assert.equal(sim.activeFaults().length, 0);
});

test('bad fault specs and setpoints are refused with a message naming the problem', () => {
  const sim = make();
  assert.throws(
    () => sim.injectFault({ kind: 'cavitation', equipmentId: 'REACTOR_01' }),
    /applies to PUMP_02/,
  );
  assert.throws(
    () => sim.injectFault({ kind: 'stuck', equipmentId: 'PUMP_02', tagPath: PLANT_TAGS.reactorTemperature }),
    /not a sensor of PUMP_02/,
  );
  assert.throws(() => sim.injectFault({ kind: 'spike', equipmentId: 'NOPE' }), /unknown equipment 'NOPE'/);
  assert.throws(
    () => sim.injectFault({ kind: 'meltdown' as (typeof FAULT_KINDS)[number], equipmentId: 'PUMP_02' }),
    /unknown fault kind/,
  );
  assert.match(sim.setSetpoint(PLANT_TAGS.reactorTemperature, 50) ?? '', /not a writable setpoint/);
  assert.match(sim.setSetpoint(PLANT_TAGS.pumpSpeedSp, 140) ?? '', /outside the physical range/);
  assert.match(sim.setSetpoint(PLANT_TAGS.pumpSpeedSp, Number.NaN) ?? '', /outside the physical range/);
  const f = sim.injectFault({ kind: 'bearing_wear', equipmentId: 'CONVEYOR_03' });
  assert.equal(sim.clearFault(f.id), true);
  assert.equal(sim.clearFault(f.id), false);
  assert.throws(() => make(1, -1), /faultEveryMinutes/);
});

test('physics helpers: equilibrium formula, a unit with no setpoints, reactor wear, accessors', async () => {
  const { reactorEquilibriumC, initialPhysicsState, stepPhysics, HEALTHY_LOAD } =
    await import('./plant-model.ts');
  const { SeededRandom } = await import('./plant-random.ts');
  assert.equal(reactorEquilibriumC(80, 60, 1), 70);
  assert.ok(Math.abs(reactorEquilibriumC(80, 60, 0.2) - 94) < 1e-9);
  assert.ok(Math.abs(reactorEquilibriumC(64, 60, 0.2) - 76.4) < 1e-9);
  const state = initialPhysicsState(new Map());
  assert.equal(state.reactorTempC, 12);
  const wornReactor = { ...HEALTHY_LOAD, bearingWear: new Map([['REACTOR_01', 1]]) };
  const out = stepPhysics(state, new Map(), wornReactor, 1, new SeededRandom(1));
  assert.ok((out.get(PLANT_TAGS.reactorVibration) ?? 0) > 3);
  const sim = make(1);
  assert.equal(sim.tagPaths().length, 21);
  assert.equal(sim.nowMs, T0);
  sim.step();
  assert.equal(sim.nowMs, T0 + 1000);
  assert.equal(sim.readTag(PLANT_TAGS.reactorMode), 'RUN');
  assert.equal(typeof sim.readTag(PLANT_TAGS.pumpFlow), 'number');
  assert.equal(sim.readTag('[default]Nowhere'), undefined);
  assert.equal(sim.isSetpoint(PLANT_TAGS.pumpSpeedSp), true);
  assert.throws(() => new PlantSimulator({ seed: 1, tickMs: 0, startMs: 0, faultEveryMinutes: 0 }), /tickMs/);
  assert.throws(() => sim.injectFault({ kind: 'step', equipmentId: 'PUMP_02', durationMs: 0 }), /durationMs/);
  assert.throws(
    () => sim.injectFault({ kind: 'step', equipmentId: 'PUMP_02', magnitude: Number.NaN }),
    /magnitude/,
  );
  const f = sim.injectFault({ kind: 'step', equipmentId: 'PUMP_02' });
  assert.equal(f.tagPath, PLANT_TAGS.pumpVibration);
});
