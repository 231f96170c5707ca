/**
 * The service templates name a configuration file. Without CONFIG_FILE the sidecar runs its demo
 * (the simulated plant with injected faults), so a service installed from a template that leaves
 * it out would show simulated recommendations to a plant's operators.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const deploy = new URL('../deploy/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, deploy), 'utf8');

test('sidecar.env.example sets CONFIG_FILE, and the systemd unit reads that file', () => {
  assert.match(read('sidecar.env.example'), /^CONFIG_FILE=\/\S+\.json$/m);
  assert.match(read('aimonitor-sidecar.service'), /^EnvironmentFile=\/etc\/aimonitor\/sidecar\.env$/m);
});

test('the WinSW definition sets CONFIG_FILE', () => {
  assert.match(read('aimonitor-sidecar.winsw.xml'), /<env name="CONFIG_FILE" value="[^"]+\.json"\/>/);
});
