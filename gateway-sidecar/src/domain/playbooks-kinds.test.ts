/**
 * Every shipped playbook against every equipment kind of the demo plant (the real demo equipment
 * from the default configuration): a rule fires only on the kinds it is written for, whatever the
 * evidence; each demo kind gets the issue written for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, toEquipment } from '../config.ts';
import type { ScoredReading } from './detection.ts';
import type { Equipment } from './equipment.ts';
import { choosePlaybook, playbookCatalogue, type IssueType } from './playbooks.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const DEMO = toEquipment(loadConfig({}));
const byId = (id: string): Equipment => DEMO.find((e) => e.id === id) as Equipment;

/** One anomalous reading of `sensorType` on `eq`, deviating up (+1) or down (−1). */
function reading(eq: Equipment, sensorType: string, dir: 1 | -1, i: number): ScoredReading {
  const tag = eq.sensors.find((s) => s.sensorType === sensorType);
  assert.ok(tag, `${eq.id} has a ${sensorType} sensor`);
  const mid = (tag.engLow + tag.engHigh) / 2;
  return {
    reading: {
      kind: 'sensor',
      tag: { ...tag, sensorIndex: 0 },
      value: mid + dir * 0.1 * (tag.engHigh - tag.engLow),
      quality: 'good',
      sourceTimestampMs: T0 + i * 1_000,
      receivedTimestampMs: T0 + i * 1_000 + 1,
    },
    eventId: `${tag.tagPath}@${T0 + i * 1_000}`,
    features: { z_score: dir * 4, rolling_std: 1 },
    score: 0.9,
    ifScore: 0.8,
    rfScore: 0.9,
    isAnomaly: true,
    severity: 'high',
    modelVersion: 'v1',
    explanation: [{ feature: 'z_score', sensorType, tagPath: tag.tagPath, value: dir * 4, weight: 0.5 }],
  };
}

/** Every combination of the equipment's sensor types being absent, high or low (3^n, n ≤ 5). */
function* evidenceCombinations(eq: Equipment): Generator<[string, 1 | -1][]> {
  const types = [...new Set(eq.sensors.map((s) => s.sensorType))];
  const total = 3 ** types.length;
  for (let code = 1; code < total; code++) {
    const combo: [string, 1 | -1][] = [];
    let c = code;
    for (const t of types) {
      const d = c % 3;
      c = Math.floor(c / 3);
      if (d === 1) combo.push([t, 1]);
      else if (d === 2) combo.push([t, -1]);
    }
    yield combo;
  }
}

function choose(eq: Equipment, combo: readonly [string, 1 | -1][]): ReturnType<typeof choosePlaybook> {
  const live = new Map(eq.setpoints.map((s) => [s.tagPath, (s.min + s.max) / 2]));
  return choosePlaybook(
    eq,
    combo.map(([t, d], i) => reading(eq, t, d, i)),
    live,
  );
}

test('the demo plant has the kinds this test covers', () => {
  assert.deepEqual(DEMO.map((e) => e.kind).sort(), ['conveyor', 'pump', 'reactor']);
});

test('every playbook fires only on the equipment kinds it is written for, for every demo kind and any evidence', () => {
  const catalogue = playbookCatalogue();
  const fired = new Map<string, Set<IssueType>>();
  for (const eq of DEMO) {
    const seen = new Set<IssueType>();
    for (const combo of evidenceCombinations(eq)) {
      const r = choose(eq, combo);
      assert.ok(r, `${eq.id} ${JSON.stringify(combo)}`);
      seen.add(r.issueType);
      // The rule that produced it (same issue and advice) must be written for this kind.
      const rule = catalogue.find((p) => p.issue === r.issueType && r.text.includes(p.advice));
      assert.ok(rule, `${eq.id}: no rule for ${r.text}`);
      assert.ok(
        rule.kinds === 'any' || rule.kinds.includes(eq.kind),
        `${rule.issue} (for ${JSON.stringify(rule.kinds)}) fired on ${eq.kind} ${eq.id} with ${JSON.stringify(combo)}: ${r.text}`,
      );
    }
    fired.set(eq.kind, seen);
  }
  assert.ok(!fired.get('pump')?.has('cooling_degradation'), 'a pump never gets cooling degradation');
  assert.ok(!fired.get('conveyor')?.has('cooling_degradation'), 'a conveyor never gets cooling degradation');
  assert.ok(!fired.get('reactor')?.has('cavitation'), 'a reactor never gets cavitation');
  assert.ok(!fired.get('conveyor')?.has('cavitation'), 'a conveyor never gets cavitation');
  assert.ok(fired.get('reactor')?.has('cooling_degradation'));
  assert.ok(fired.get('pump')?.has('cavitation'));
});

test('each demo kind gets the issue written for it', () => {
  const reactor = byId('REACTOR_01');
  const pump = byId('PUMP_02');
  const conveyor = byId('CONVEYOR_03');
  const cases: [Equipment, [string, 1 | -1][], IssueType, RegExp][] = [
    [
      reactor,
      [
        ['temperature', 1],
        ['flow', -1],
      ],
      'cooling_degradation',
      /check coolant flow and heat exchanger/,
    ],
    [reactor, [['temperature', 1]], 'cooling_degradation', /reduce throughput 20 %/],
    [
      reactor,
      [
        ['pressure', -1],
        ['flow', 1],
      ],
      'leak',
      /inspect for a leak/,
    ],
    // The QA case: the pump's bearing temperature high with its process flow also anomalous.
    [
      pump,
      [
        ['temperature', 1],
        ['flow', 1],
      ],
      'overheating',
      /^Overheating on PUMP_02: reduce speed 15 % .*; check bearing lubrication, motor load and ventilation\./,
    ],
    [
      pump,
      [
        ['temperature', 1],
        ['flow', -1],
        ['current', 1],
      ],
      'overheating',
      /check bearing lubrication/,
    ],
    [pump, [['temperature', 1]], 'overheating', /check bearing lubrication/],
    [
      pump,
      [
        ['temperature', 1],
        ['vibration', 1],
      ],
      'bearing_wear',
      /bearing inspection/,
    ],
    [
      pump,
      [
        ['pressure', -1],
        ['flow', -1],
      ],
      'cavitation',
      /suction pressure/,
    ],
    [pump, [['vibration', 1]], 'imbalance', /reduce speed 10 %/],
    [conveyor, [['temperature', 1]], 'overheating', /check bearing lubrication/],
    [
      conveyor,
      [
        ['temperature', 1],
        ['vibration', 1],
      ],
      'bearing_wear',
      /bearing inspection/,
    ],
    [
      conveyor,
      [
        ['current', 1],
        ['speed', -1],
      ],
      'process_upset',
      /review the process conditions/,
    ],
  ];
  for (const [eq, combo, issue, text] of cases) {
    const r = choose(eq, combo);
    assert.equal(r?.issueType, issue, `${eq.id} ${JSON.stringify(combo)}: ${r?.text}`);
    assert.match(r?.text ?? '', text);
    assert.doesNotMatch(eq.kind === 'reactor' ? '' : (r?.text ?? ''), /coolant|heat exchanger/);
  }
});
