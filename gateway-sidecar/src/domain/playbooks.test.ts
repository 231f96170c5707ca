import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePlaybook, proposeChange } from './playbooks.ts';
import type { ScoredReading, Severity } from './detection.ts';
import type { Equipment, SetpointTag, Thresholds } from './equipment.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const TH = { warning: 80, critical: 85, emergency: 90, direction: 'high' as const };

function equipment(kind: string, setpoints: Partial<SetpointTag>[] = [{ name: 'throughput' }]): Equipment {
  return {
    id: 'EQ_1',
    area: 'A',
    kind,
    description: '',
    modeTag: undefined,
    sensors: [],
    setpoints: setpoints.map((s, i) => ({
      tagPath: `EQ/SP${i}`,
      equipmentId: 'EQ_1',
      name: 'throughput',
      unit: '%',
      min: 40,
      max: 100,
      maxStep: 25,
      twoPersonAbovePct: 0.2,
      ...s,
    })),
  };
}

interface R {
  type: string;
  z?: number;
  std?: number;
  value?: number;
  score?: number;
  anomaly?: boolean;
  sev?: Severity;
  ts?: number;
  thresholds?: Thresholds;
  eq?: string;
}
function scored(r: R): ScoredReading {
  const tagPath = `EQ/${r.type}`;
  const features: Record<string, number> = { rolling_std: r.std ?? 1 };
  if (r.z !== undefined) features.z_score = r.z;
  return {
    reading: {
      kind: 'sensor',
      tag: {
        tagPath,
        equipmentId: r.eq ?? 'EQ_1',
        sensorType: r.type,
        unit: '',
        engLow: 0,
        engHigh: 200,
        thresholds: r.thresholds,
        sensorIndex: 0,
      },
      value: r.value ?? 50,
      quality: 'good',
      sourceTimestampMs: r.ts ?? T0,
      receivedTimestampMs: (r.ts ?? T0) + 1,
    },
    eventId: `${tagPath}@${r.ts ?? T0}`,
    features,
    score: r.score ?? 0.9,
    ifScore: 0.8,
    rfScore: 0.9,
    isAnomaly: r.anomaly ?? true,
    severity: r.sev ?? 'high',
    modelVersion: 'v1',
    explanation: [{ feature: 'z_score', sensorType: r.type, tagPath, value: r.z ?? 0, weight: 0.5 }],
  };
}
const live = new Map([['EQ/SP0', 80]]);

test('cooling degradation on a reactor: reduce throughput 20 %, operator-readable text', () => {
  const r = choosePlaybook(
    equipment('reactor'),
    [scored({ type: 'temperature', z: 4 }), scored({ type: 'flow', z: -3, ts: T0 + 1000 })],
    live,
  );
  assert.ok(r);
  assert.equal(r.issueType, 'cooling_degradation');
  assert.equal(
    r.text,
    'Cooling degradation on EQ_1: reduce throughput 20 % (80 % → 64 %); check coolant flow and heat exchanger fouling. Evidence: flow, temperature.',
  );
  assert.deepEqual(r.proposedAction, {
    tagPath: 'EQ/SP0',
    setpointName: 'throughput',
    unit: '%',
    currentValue: 80,
    newValue: 64,
    min: 40,
    max: 100,
    maxStep: 25,
    requiresSecondApprover: true,
  });
  assert.equal(r.anomalyTsMs, T0);
  assert.deepEqual(r.eventIds, ['EQ/temperature@' + T0, 'EQ/flow@' + (T0 + 1000)]);
  assert.ok(r.confidence >= 0.6 && r.confidence <= 1, String(r.confidence));
});

test('issue types follow the sensors, their direction and the equipment kind', () => {
  const cases: [string, R[], string, Partial<SetpointTag>[]?][] = [
    [
      'pump',
      [
        { type: 'pressure', z: -4 },
        { type: 'flow', z: 3 },
      ],
      'cavitation',
      [{ name: 'speed' }],
    ],
    [
      'pipe',
      [
        { type: 'pressure', z: -4 },
        { type: 'flow', z: 3 },
      ],
      'leak',
    ],
    [
      'pump',
      [
        { type: 'vibration', z: 5 },
        { type: 'temperature', z: 3 },
      ],
      'bearing_wear',
      [{ name: 'speed' }],
    ],
    ['pump', [{ type: 'vibration', z: 5 }], 'imbalance', [{ name: 'speed' }]],
    ['conveyor', [{ type: 'temperature', z: 3 }], 'overheating'],
    ['conveyor', [{ type: 'temperature', value: 82, thresholds: TH }], 'overheating'],
    [
      'conveyor',
      [
        { type: 'current', z: 3 },
        { type: 'speed', z: -2 },
      ],
      'process_upset',
    ],
    [
      'conveyor',
      [
        { type: 'temperature', z: -3 },
        { type: 'current', z: 3 },
      ],
      'process_upset',
    ],
    ['reactor', [{ type: 'temperature', z: 2, std: 0 }], 'sensor_fault'],
    ['reactor', [{ type: 'pressure', z: 12 }], 'sensor_fault'],
    ['reactor', [{ type: 'pressure', z: 2, value: 200 }], 'sensor_fault'],
  ];
  for (const [kind, readings, issue, sps] of cases) {
    const r = choosePlaybook(equipment(kind, sps), readings.map(scored), new Map([['EQ/SP0', 80]]));
    assert.equal(r?.issueType, issue, `${kind} ${JSON.stringify(readings)}`);
  }
});

test('sensor fault proposes no write and says to check the instrument', () => {
  const r = choosePlaybook(equipment('reactor'), [scored({ type: 'temperature', z: 0.5, std: 0 })], live);
  assert.equal(r?.proposedAction, null);
  assert.match(r?.text ?? '', /^Sensor fault suspected on EQ_1: check the instrument/);
});

test('no live value or no setpoint: no action, text says so', () => {
  const r = choosePlaybook(equipment('reactor'), [scored({ type: 'temperature', z: 4 })], new Map());
  assert.equal(r?.proposedAction, null);
  assert.match(r?.text ?? '', /live value unknown or at its limit/);
  const none = choosePlaybook(equipment('reactor', []), [scored({ type: 'temperature', z: 4 })], live);
  assert.equal(none?.proposedAction, null);
});

test('confidence grows with the anomaly score; process upset with a weak score falls below 0.6', () => {
  const strong = choosePlaybook(
    equipment('conveyor'),
    [scored({ type: 'temperature', z: 3, score: 0.95 })],
    live,
  );
  const weak = choosePlaybook(
    equipment('conveyor'),
    [scored({ type: 'temperature', z: 3, score: 0.55 })],
    live,
  );
  assert.ok((strong?.confidence ?? 0) > (weak?.confidence ?? 1));
  const upset = choosePlaybook(equipment('conveyor'), [scored({ type: 'current', z: 3, score: 0.6 })], live);
  assert.ok((upset?.confidence ?? 1) < 0.6, String(upset?.confidence));
});

test('only anomalies of this equipment count; severity is the highest', () => {
  assert.equal(
    choosePlaybook(equipment('reactor'), [scored({ type: 'temperature', z: 4, anomaly: false })], live),
    undefined,
  );
  assert.equal(
    choosePlaybook(equipment('reactor'), [scored({ type: 'temperature', z: 4, eq: 'OTHER' })], live),
    undefined,
  );
  const r = choosePlaybook(
    equipment('conveyor'),
    [
      scored({ type: 'temperature', z: 3, sev: 'medium' }),
      scored({ type: 'temperature', z: 3, sev: 'critical', score: 0.7, ts: T0 + 1 }),
    ],
    live,
  );
  assert.equal(r?.severity, 'critical');
  assert.equal(r?.anomalyScore, 0.9);
});

test('proposeChange clamps to the range and the max step, and drops a no-op', () => {
  const sp: SetpointTag = {
    tagPath: 'S',
    equipmentId: 'E',
    name: 'throughput',
    unit: '',
    min: 40,
    max: 100,
    maxStep: 10,
    twoPersonAbovePct: 0.5,
  };
  assert.equal(proposeChange(sp, 80, -20)?.newValue, 70); // step-limited
  assert.equal(proposeChange(sp, 45, -20)?.newValue, 40); // range-limited
  assert.equal(proposeChange(sp, 40, -20), null); // already at min
  assert.equal(proposeChange(sp, 95, 20)?.newValue, 100);
  assert.equal(proposeChange(sp, 80, -5)?.requiresSecondApprover, false);
  assert.match(
    choosePlaybook(
      equipment('conveyor', [{ name: 'throughput', unit: '' }]),
      [scored({ type: 'temperature', z: 3 })],
      live,
    )?.text ?? '',
    /\(80 → 68\)/,
  );
});

test('direction falls back to the warning level (high and low alarms) and is unknown without either', () => {
  const LOWTH = { warning: 3, critical: 2, emergency: 1, direction: 'low' as const };
  const pressureLow = scored({ type: 'pressure', value: 2, thresholds: LOWTH });
  const flow = scored({ type: 'flow', z: 2 });
  assert.equal(choosePlaybook(equipment('pipe'), [pressureLow, flow], live)?.issueType, 'leak');
  const pressureOk = scored({ type: 'pressure', value: 5, thresholds: LOWTH });
  assert.equal(choosePlaybook(equipment('pipe'), [pressureOk, flow], live)?.issueType, 'process_upset');
  const tempNoDir = scored({ type: 'temperature', value: 70 });
  assert.equal(
    choosePlaybook(equipment('conveyor'), [tempNoDir, scored({ type: 'current', z: 2 })], live)?.issueType,
    'process_upset',
  );
  const tempBelowWarn = scored({ type: 'temperature', value: 70, thresholds: TH });
  assert.equal(
    choosePlaybook(equipment('conveyor'), [tempBelowWarn, scored({ type: 'current', z: 2 })], live)
      ?.issueType,
    'process_upset',
  );
});

test('the strongest reading of a sensor type sets its direction; empty explanations count as full share', () => {
  const weakUp = scored({ type: 'temperature', z: 3, score: 0.7 });
  const strongDown = scored({ type: 'temperature', z: -3, score: 0.95, ts: T0 + 1 });
  const r = choosePlaybook(
    equipment('conveyor'),
    [weakUp, strongDown, scored({ type: 'current', z: 1 })],
    live,
  );
  assert.equal(r?.issueType, 'process_upset');
  const r2 = choosePlaybook(
    equipment('conveyor'),
    [strongDown, weakUp, scored({ type: 'current', z: 1 })],
    live,
  );
  assert.equal(r2?.issueType, 'process_upset');
  const bare = { ...scored({ type: 'temperature', z: 3 }), explanation: [] };
  const r3 = choosePlaybook(equipment('conveyor'), [bare], live);
  assert.equal(r3?.issueType, 'overheating');
  assert.ok((r3?.confidence ?? 0) > 0.6);
});
