import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEquipmentIndex } from './equipment.ts';
import { EventValidator, parseNumericValue, type TagEvent } from './tag-event.ts';

const index = buildEquipmentIndex([
  {
    id: 'REACTOR_01',
    area: 'Reactors',
    kind: 'reactor',
    description: '',
    modeTag: '[default]R01/Mode',
    sensors: [
      {
        tagPath: '[default]R01/Temp',
        equipmentId: 'REACTOR_01',
        sensorType: 'temperature',
        unit: '°C',
        engLow: 0,
        engHigh: 150,
        thresholds: undefined,
      },
    ],
    setpoints: [
      {
        tagPath: '[default]R01/SP',
        equipmentId: 'REACTOR_01',
        name: 'throughput',
        unit: '%',
        min: 40,
        max: 100,
        maxStep: 25,
        twoPersonAbovePct: 0.2,
      },
    ],
  },
]);

const ev = (over: Partial<TagEvent> = {}): TagEvent => ({
  tagPath: '[default]R01/Temp',
  value: 70,
  quality: 'good',
  sourceTimestampMs: 1_000_000,
  receivedTimestampMs: 1_000_010,
  ...over,
});

test('accepts a good numeric reading with its sensor metadata', () => {
  const v = new EventValidator(index);
  const r = v.validate(ev());
  assert.equal(r.ok, true);
  if (r.ok && r.event.kind === 'sensor') {
    assert.equal(r.event.value, 70);
    assert.equal(r.event.tag.equipmentId, 'REACTOR_01');
    assert.equal(r.event.tag.sensorIndex, 0);
  } else assert.fail('expected a sensor reading');
});

test('each kind of bad input gets its own counted reason and never throws', () => {
  const v = new EventValidator(index);
  const cases: [Partial<TagEvent>, string][] = [
    [{ value: Number.NaN }, 'nan'],
    [{ value: 'NaN' }, 'nan'],
    [{ value: Number.POSITIVE_INFINITY }, 'infinite'],
    [{ value: 'hot' }, 'non_numeric'],
    [{ value: { x: 1 } }, 'non_numeric'],
    [{ quality: 'bad' }, 'bad_quality'],
    [{ tagPath: '[default]Nope' }, 'unknown_tag'],
    [{ sourceTimestampMs: 1_000_010 + 60_000 }, 'future_timestamp'],
    [{ value: 400 }, 'out_of_engineering_range'],
    [{ tagPath: '' }, 'malformed'],
    [{ quality: 'great' as never }, 'malformed'],
    [{ sourceTimestampMs: Number.NaN }, 'malformed'],
  ];
  for (const [over, reason] of cases) {
    const r = v.validate(ev(over));
    assert.equal(r.ok, false, `expected rejection for ${JSON.stringify(over)}`);
    if (!r.ok) {
      assert.equal(r.reason, reason, JSON.stringify(over));
      assert.ok(r.message.length > 10);
    }
  }
  assert.equal(v.rejectedCounts.nan, 2);
  assert.equal(v.rejectedCounts.non_numeric, 2);
  assert.equal(v.rejectedCounts.malformed, 3);
  assert.equal(v.acceptedCount, 0);
  assert.equal(v.validate(null as unknown as TagEvent).ok, false);
});

test('rejects out-of-order events per tag but accepts later ones', () => {
  const v = new EventValidator(index);
  assert.equal(v.validate(ev({ sourceTimestampMs: 2000, receivedTimestampMs: 2000 })).ok, true);
  const r = v.validate(ev({ sourceTimestampMs: 1500, receivedTimestampMs: 2100 }));
  assert.equal(r.ok ? 'ok' : r.reason, 'out_of_order');
  assert.equal(v.validate(ev({ sourceTimestampMs: 2500, receivedTimestampMs: 2500 })).ok, true);
});

test('setpoint and mode tags are recognised', () => {
  const v = new EventValidator(index);
  const sp = v.validate(ev({ tagPath: '[default]R01/SP', value: '80' }));
  assert.ok(sp.ok && sp.event.kind === 'setpoint' && sp.event.value === 80);
  const mode = v.validate(ev({ tagPath: '[default]R01/Mode', value: 'maintenance' }));
  assert.ok(
    mode.ok &&
      mode.event.kind === 'mode' &&
      mode.event.mode === 'MAINTENANCE' &&
      mode.event.equipmentId === 'REACTOR_01',
  );
});

test('parseNumericValue accepts numeric strings and booleans only', () => {
  assert.equal(parseNumericValue(' 1.5e2 '), 150);
  assert.equal(parseNumericValue(true), 1);
  assert.equal(parseNumericValue('1,5'), 'non_numeric');
  assert.equal(parseNumericValue('-Infinity'), 'infinite');
  assert.equal(parseNumericValue(null), 'non_numeric');
});

test('duplicate tag paths in the equipment map are refused', () => {
  const s = {
    tagPath: 'A',
    equipmentId: 'E',
    sensorType: 't',
    unit: '',
    engLow: 0,
    engHigh: 1,
    thresholds: undefined,
  };
  assert.throws(
    () =>
      buildEquipmentIndex([
        {
          id: 'E',
          area: 'a',
          kind: 'k',
          description: '',
          modeTag: undefined,
          sensors: [s, s],
          setpoints: [],
        },
      ]),
    /mapped twice/,
  );
});

test('mode tags: the plant values map through modeValues; a value that names no mode is rejected, counted and changes nothing', () => {
  const plant = buildEquipmentIndex([
    {
      id: 'PUMP_07',
      area: 'Utilities',
      kind: 'pump',
      description: '',
      modeTag: '[default]P07/Mode',
      modeValues: { '0': 'RUN', '2': 'MAINTENANCE', ' Anfahren ': 'STARTUP' },
      sensors: [
        {
          tagPath: '[default]P07/Flow',
          equipmentId: 'PUMP_07',
          sensorType: 'flow',
          unit: 'm3/h',
          engLow: 0,
          engHigh: 100,
          thresholds: undefined,
        },
      ],
      setpoints: [],
    },
  ]);
  const v = new EventValidator(plant);
  let t = 1_000_000;
  const mode = (value: TagEvent['value']) =>
    v.validate(
      ev({ tagPath: '[default]P07/Mode', value, sourceTimestampMs: ++t, receivedTimestampMs: t + 5 }),
    );
  const as = (r: ReturnType<typeof mode>): string =>
    r.ok && r.event.kind === 'mode' ? r.event.mode : `rejected ${r.ok ? '' : r.reason}`;
  assert.equal(as(mode(2)), 'MAINTENANCE');
  assert.equal(as(mode('0')), 'RUN');
  assert.equal(as(mode('anfahren')), 'STARTUP');
  // A mode's own name still counts without a mapping, in the usual spellings.
  assert.equal(as(mode('start-up')), 'STARTUP');
  assert.equal(as(mode('maintenance')), 'MAINTENANCE');
  // A typo or an unmapped plant code is not silently stored as a mode that suppresses nothing.
  const typo = mode('MAINTENACE');
  assert.equal(as(typo), 'rejected unknown_mode');
  assert.ok(!typo.ok);
  assert.match(
    typo.ok ? '' : typo.message,
    /^mode tag '\[default\]P07\/Mode' value 'MAINTENACE' is not an operating mode \(RUN, MAINTENANCE, STARTUP\); map the plant's values with equipment 'PUMP_07' modeValues$/,
  );
  assert.equal(as(mode(7)), 'rejected unknown_mode');
  assert.equal(v.rejectedCounts.unknown_mode, 2);
  // The rejected values did not move the tag's order state: a later valid value is accepted.
  assert.equal(as(mode('RUN')), 'RUN');
});
