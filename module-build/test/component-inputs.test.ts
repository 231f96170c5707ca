/** What the build takes from the component, and the clear errors when something is missing. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readComponentInputs } from '../src/component-inputs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'component-inputs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const EVENTS = JSON.stringify([{ name: 'onDecision', description: 'd', schema: { type: 'object' } }]);

function componentDir(name: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as { code?: string }).code ?? ''}: ${(err as Error).message}`;
  }
  return 'no error';
}

test('only the bundle and its CSS are mounted; preview-only files, vendor copies and maps are left out', () => {
  const dir = componentDir('full', {
    'dist/aimonitor-components.js': 'js',
    'dist/aimonitor-components.css': 'css',
    'dist/aimonitor-components.js.map': '{}',
    'dist/perspective-stand-in.js': 'stand-in',
    'dist/vendor/react.js': 'react',
    'props.json': '{"type":"object"}',
    'events.json': EVENTS,
  });
  const inputs = readComponentInputs(dir);
  assert.deepEqual(
    inputs.mounted.map((m) => m.name),
    ['aimonitor-components.js', 'aimonitor-components.css'],
  );
  assert.equal(inputs.webResources, 'js.0=aimonitor-components.js\ncss.0=aimonitor-components.css\n');
});

test('a missing bundle, props schema or events file, or a malformed one, is named', () => {
  const base = { 'dist/aimonitor-components.js': 'js', 'props.json': '{}', 'events.json': EVENTS };
  const { ['dist/aimonitor-components.js']: _js, ...noBundle } = base;
  assert.match(
    code(() => readComponentInputs(componentDir('nobundle', noBundle))),
    /^MB_ERR_INPUT_MISSING: .*aimonitor-components\.js \(the component bundle\) is missing/,
  );
  const { ['props.json']: _p, ...noProps } = base;
  assert.match(
    code(() => readComponentInputs(componentDir('noprops', noProps))),
    /props\.json \(the component's props JSON schema\) is missing/,
  );
  assert.match(
    code(() => readComponentInputs(componentDir('badprops', { ...base, 'props.json': '{oops' }))),
    /props\.json is not JSON/,
  );
  const { ['events.json']: _e, ...noEvents } = base;
  assert.match(
    code(() => readComponentInputs(componentDir('noevents', noEvents))),
    /events\.json \(the component's script events\) is missing/,
  );
  assert.match(
    code(() => readComponentInputs(componentDir('badevents', { ...base, 'events.json': '[{"name":"x"}]' }))),
    /must be an array of \{name, description, schema\}/,
  );
  assert.match(
    code(() => readComponentInputs(componentDir('jsonevents', { ...base, 'events.json': '[' }))),
    /events\.json is not JSON/,
  );
});
