/**
 * Keeps docs/errors.md and docs/config.md equal to the code, in both directions (STYLE.md §4, §5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configSchema } from '../../src/config.ts';
import { ERRORS, WARNINGS } from '../../src/errors.ts';
import { configKeyPaths } from '../fixtures/config-keys.ts';

const docsDir = new URL('../../../docs/', import.meta.url);

test('docs/errors.md lists exactly the codes in src/errors.ts', () => {
  const doc = readFileSync(new URL('errors.md', docsDir), 'utf8');
  const documented = new Set([...doc.matchAll(/`(SC_(?:ERR|WRN)_[A-Z0-9_]+)`/g)].map((m) => m[1]));
  const inCode = new Set<string>([...Object.values(ERRORS), ...Object.values(WARNINGS)].map((e) => e.code));
  assert.deepEqual(
    [...inCode].filter((c) => !documented.has(c)),
    [],
    'codes missing from docs/errors.md',
  );
  assert.deepEqual(
    [...documented].filter((c) => !inCode.has(c as string)),
    [],
    'docs/errors.md lists codes the code lacks',
  );
});

test('docs/config.md documents every configuration key and no other', () => {
  const doc = readFileSync(new URL('config.md', docsDir), 'utf8');
  const documented = new Set([...doc.matchAll(/^\|\s*`([^`]+)`/gm)].map((m) => m[1]));
  const keys = configKeyPaths(configSchema);
  assert.deepEqual(
    keys.filter((k) => !documented.has(k)),
    [],
    'keys missing from docs/config.md',
  );
  assert.deepEqual(
    [...documented].filter((k) => !keys.includes(k as string)),
    [],
    'docs/config.md lists unknown keys',
  );
});
