import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CriticalDetector, formatReading, isBeyondEmergency } from './critical.ts';
import type { SensorReading } from './tag-event.ts';
import type { Thresholds } from './equipment.ts';

const HIGH: Thresholds = { warning: 80, critical: 85, emergency: 90, direction: 'high' };
const LOW: Thresholds = { warning: 2, critical: 1.5, emergency: 1, direction: 'low' };

function reading(
  value: number,
  ts: number,
  thresholds: Thresholds | null = HIGH,
  tagPath = '[default]R/T',
): SensorReading {
  return {
    kind: 'sensor',
    tag: {
      tagPath,
      equipmentId: 'REACTOR_01',
      sensorType: 'temperature',
      unit: '°C',
      engLow: 0,
      engHigh: 150,
      thresholds: thresholds ?? undefined,
      sensorIndex: 0,
    },
    value,
    quality: 'good',
    sourceTimestampMs: ts,
    receivedTimestampMs: ts + 5,
  };
}

test('an emergency crossing alerts once while the value stays above the level', () => {
  const d = new CriticalDetector();
  assert.equal(d.evaluate(reading(89, 1)).length, 0);
  const first = d.evaluate(reading(91.5, 2));
  assert.equal(first.length, 1);
  const a = first[0]!;
  assert.equal(a.id, 'crit-[default]R/T@2');
  assert.equal(a.threshold, 90);
  assert.equal(a.level, 'emergency');
  assert.equal(a.equipmentId, 'REACTOR_01');
  assert.match(a.message, /REACTOR_01 temperature 91.5 °C ≥ emergency level 90 °C/);
  assert.equal(a.at, new Date(2).toISOString());
  for (let ts = 3; ts < 50; ts++) assert.equal(d.evaluate(reading(95, ts)).length, 0);
  assert.equal(d.isLatched('[default]R/T'), true);
});

test('re-arms only after dropping below the level minus the hysteresis band', () => {
  const d = new CriticalDetector({ rearmFraction: 0.02 }); // band = 3 °C on a 0..150 range
  assert.equal(d.evaluate(reading(90, 1)).length, 1);
  assert.equal(d.evaluate(reading(88, 2)).length, 0); // inside the band: still latched
  assert.equal(d.evaluate(reading(90.5, 3)).length, 0);
  assert.equal(d.evaluate(reading(86.9, 4)).length, 0); // re-arms here
  assert.equal(d.isLatched('[default]R/T'), false);
  assert.equal(d.evaluate(reading(92, 5)).length, 1);
});

test('low-direction thresholds alert below the level and re-arm above it', () => {
  const d = new CriticalDetector({ rearmFraction: 0.01 }); // band 1.5
  assert.equal(d.evaluate(reading(1.2, 1, LOW)).length, 0);
  assert.match(d.evaluate(reading(0.9, 2, LOW))[0]!.message, /≤ emergency level 1/);
  assert.equal(d.evaluate(reading(2, 3, LOW)).length, 0);
  assert.equal(d.evaluate(reading(2.6, 4, LOW)).length, 0);
  assert.equal(d.evaluate(reading(0.5, 5, LOW)).length, 1);
});

test('tags without thresholds never alert; tags are independent; unitless text', () => {
  const d = new CriticalDetector();
  assert.equal(d.evaluate(reading(1e9, 1, null)).length, 0);
  const noUnit = { ...reading(99, 2, HIGH, 'B'), tag: { ...reading(99, 2, HIGH, 'B').tag, unit: '' } };
  assert.match(d.evaluate(noUnit)[0]!.message, /temperature 99 ≥ emergency level 90$/);
  assert.equal(d.evaluate(reading(99, 3, HIGH, 'A')).length, 1);
  assert.equal(isBeyondEmergency({ thresholds: undefined }, 1e9), false);
});

test('rejects a bad re-arm fraction', () => {
  assert.throws(() => new CriticalDetector({ rearmFraction: 1 }), RangeError);
  assert.throws(() => new CriticalDetector({ rearmFraction: -0.1 }), RangeError);
});

test('alert text rounds the reading to 4 significant digits', () => {
  assert.equal(formatReading(7.848488118027339), '7.848');
  assert.equal(formatReading(91.23456), '91.23');
  assert.equal(formatReading(120), '120');
});
