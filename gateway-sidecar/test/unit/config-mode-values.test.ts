/** equipment[].modeValues: the plant's mode-tag values → operating modes; bad entries fail start-up naming them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { SidecarError } from '../../src/errors.ts';

const pump = (over: Record<string, unknown>) => ({
  equipment: [
    {
      id: 'PUMP_07',
      kind: 'pump',
      modeTag: '[default]P07/Mode',
      sensors: [{ tagPath: '[default]P07/Flow', sensorType: 'flow', unit: 'm3/h', engLow: 0, engHigh: 100 }],
      ...over,
    },
  ],
});

test('modeValues reaches the equipment', () => {
  const eq = toEquipment(parseConfig(pump({ modeValues: { '0': 'RUN', '2': 'MAINTENANCE' } })));
  assert.deepEqual(eq[0]?.modeValues, { '0': 'RUN', '2': 'MAINTENANCE' });
  assert.equal(toEquipment(parseConfig(pump({})))[0]?.modeValues, undefined);
});

test('a mode that does not exist, or modeValues without a modeTag, is a config error naming the key', () => {
  for (const [over, why] of [
    [{ modeValues: { '2': 'MAINT' } }, /equipment\.0\.modeValues\.2.*RUN.*MAINTENANCE.*STARTUP/s],
    [
      { modeTag: undefined, modeValues: { '2': 'MAINTENANCE' } },
      /equipment\.0\.modeValues.*needs a modeTag/s,
    ],
  ] as const) {
    assert.throws(
      () => parseConfig(pump(over)),
      (err: unknown) => {
        assert.ok(err instanceof SidecarError);
        assert.equal(err.code, 'SC_ERR_CONFIG_INVALID');
        assert.match(err.message, why);
        return true;
      },
    );
  }
});
