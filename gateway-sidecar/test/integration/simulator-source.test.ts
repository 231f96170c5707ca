import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatorTagSource } from '../../src/adapters/simulator-tag-source.ts';
import { SimulatorTagWriter } from '../../src/adapters/simulator-tag-writer.ts';
import { PLANT_TAGS } from '../../src/domain/plant-model.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import { EventValidator } from '../../src/domain/tag-event.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { tagSourceContract } from '../contracts/tag-source.contract.ts';
import { tagWriterContract } from '../contracts/tag-writer.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
const make = (extra: Partial<ConstructorParameters<typeof SimulatorTagSource>[0]> = {}): SimulatorTagSource =>
  new SimulatorTagSource({
    seed: 42,
    tickMs: 1000,
    faultEveryMinutes: 0,
    speed: 'max',
    startMs: T0,
    ...extra,
  });

tagSourceContract('simulator', async () => ({
  source: make(),
  stimulate: async () => {},
  expectedTags: [PLANT_TAGS.reactorTemperature, PLANT_TAGS.pumpSpeedSp, PLANT_TAGS.conveyorMode],
  close: async () => {},
}));

tagWriterContract('simulator', async () => {
  const source = make();
  source.plant.step();
  return {
    writer: new SimulatorTagWriter(source.plant),
    setpointTag: PLANT_TAGS.reactorThroughputSp,
    acceptedValue: 64,
    refused: { tagPath: PLANT_TAGS.pumpSpeedSp, value: 250 },
    unknownTag: '[default]Nowhere/Nothing',
    close: async () => {},
  };
});

async function collect(
  source: SimulatorTagSource,
  onBatch?: (b: readonly TagEvent[]) => void,
): Promise<TagEvent[]> {
  const all: TagEvent[] = [];
  const finished = new Promise<void>((resolve) => source.onStateChange((s) => s === 'finished' && resolve()));
  await source.start((b) => {
    all.push(...b);
    onBatch?.(b);
  });
  await finished;
  await source.stop();
  return all;
}

test('fast mode runs maxTicks ticks, every tag each tick, all accepted by the validator of the default config', async () => {
  const source = make({ maxTicks: 300, ticksPerBatch: 10, faultEveryMinutes: 1 });
  const events = await collect(source);
  assert.equal(source.state(), 'finished');
  assert.equal(events.length, 300 * 21);
  const validator = new EventValidator(buildEquipmentIndex(toEquipment(parseConfig({}))));
  for (const ev of events) {
    const r = validator.validate(ev);
    assert.ok(r.ok, r.ok ? '' : r.message);
  }
  assert.equal(events.at(-1)?.sourceTimestampMs, T0 + 300_000);
});

test('two runs with the same seed deliver identical events', async () => {
  const a = await collect(make({ maxTicks: 200, faultEveryMinutes: 1, seed: 9 }));
  const b = await collect(make({ maxTicks: 200, faultEveryMinutes: 1, seed: 9 }));
  assert.deepEqual(a, b);
});

test('a setpoint write through the writer shows in the stream and the reactor recovers from a cooling fault', async () => {
  const source = make({ maxTicks: 40 * 60, ticksPerBatch: 5 });
  const writer = new SimulatorTagWriter(source.plant);
  source.plant.injectFault({ kind: 'cooling_degradation', equipmentId: 'REACTOR_01' });
  let wrote: Promise<unknown> | undefined;
  let writeTs = 0;
  let spSeenAfterWrite = false;
  let lastTemp = 0;
  let peak = 0;
  await collect(source, (batch) => {
    for (const ev of batch) {
      if (ev.tagPath === PLANT_TAGS.reactorTemperature) {
        lastTemp = ev.value as number;
        peak = Math.max(peak, lastTemp);
        if (!wrote && lastTemp > 80) {
          writeTs = ev.sourceTimestampMs;
          wrote = writer.write(PLANT_TAGS.reactorThroughputSp, 64);
        }
      }
      if (wrote && ev.tagPath === PLANT_TAGS.reactorThroughputSp && ev.sourceTimestampMs > writeTs)
        spSeenAfterWrite = ev.value === 64;
    }
  });
  assert.deepEqual(await wrote, { ok: true, readBack: 64, previous: 80 });
  assert.ok(spSeenAfterWrite, 'the new setpoint was not reported by the source');
  assert.ok(peak < 90, `peaked at ${peak} despite the throughput cut`);
  assert.ok(lastTemp < 80, `still at ${lastTemp} at the end`);
  assert.ok(
    source.plant.groundTruth().coolingHealth < 0.3,
    'cooling is still degraded: recovery came from the setpoint',
  );
});

test('paced mode delivers ticks spaced by tickMs in simulated time and stops cleanly', async () => {
  const source = make({ speed: 500, tickMs: 1000 });
  const stamps: number[] = [];
  await source.start((b) => {
    stamps.push(b[0]?.sourceTimestampMs ?? 0);
  });
  while (stamps.length < 5) await new Promise((r) => setTimeout(r, 5));
  await source.stop();
  assert.equal(source.state(), 'stopped');
  for (let i = 1; i < stamps.length; i++) assert.equal((stamps[i] ?? 0) - (stamps[i - 1] ?? 0), 1000);
  assert.throws(() => make({ speed: 0 }), /speed must be positive/);
});
