import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, parseConfig, toEquipment } from '../../src/config.ts';
import { SidecarError } from '../../src/errors.ts';

test('defaults give the seed values and the demo plant', () => {
  const c = parseConfig({});
  assert.equal(c.dedupWindowMinutes, 5);
  assert.equal(c.minConfidence, 0.6);
  assert.equal(c.ensemble.ifWeight, 0.3);
  assert.equal(c.ensemble.rfWeight, 0.7);
  assert.deepEqual(c.anomalyThresholds.temperature, {
    warning: 80,
    critical: 85,
    emergency: 90,
    direction: 'high',
  });
  assert.ok(c.equipment.some((e) => e.id === 'REACTOR_01'));
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.ensemble));
  const reactor = toEquipment(c).find((e) => e.id === 'REACTOR_01');
  assert.equal(reactor?.sensors.find((s) => s.sensorType === 'temperature')?.thresholds?.emergency, 90);
});

test('a bad config names every key and problem in one error', () => {
  try {
    parseConfig({ port: -5, minConfidence: 2, dedupWindowMinutes: 'x', bogus: 1 });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof SidecarError);
    assert.equal(err.code, 'SC_ERR_CONFIG_INVALID');
    for (const key of ['port', 'minConfidence', 'dedupWindowMinutes', 'bogus'])
      assert.match(err.message, new RegExp(key));
  }
});

test('ensemble weights must add up to one and thresholds must be ordered', () => {
  assert.throws(() => parseConfig({ ensemble: { ifWeight: 0.5, rfWeight: 0.7 } }), /ifWeight \+ rfWeight/);
  assert.throws(
    () => parseConfig({ anomalyThresholds: { temperature: { warning: 90, critical: 85, emergency: 80 } } }),
    /ordered/,
  );
});

test('environment overrides are parsed by the schema', () => {
  const c = loadConfig({ PORT: '9100', DATABASE_URL: 'postgres://u@h:5432/db', LOG_LEVEL: 'warn' });
  assert.equal(c.port, 9100);
  assert.equal(c.database.url, 'postgres://u@h:5432/db');
  assert.throws(
    () => loadConfig({ PORT: 'abc' }),
    (e: unknown) => e instanceof SidecarError && /port/.test(e.message),
  );
  assert.throws(
    () => loadConfig({}, '/nonexistent/config.json'),
    (e: unknown) => e instanceof SidecarError && e.code === 'SC_ERR_CONFIG_FILE_UNREADABLE',
  );
});

test('a tag mapped twice stops start-up with a named problem', () => {
  const sensor = { tagPath: 'X', sensorType: 'temperature', engLow: 0, engHigh: 1 };
  assert.throws(
    () =>
      parseConfig({
        equipment: [
          { id: 'A', sensors: [sensor] },
          { id: 'B', sensors: [sensor] },
        ],
      }),
    /tag 'X' is mapped twice/,
  );
});
