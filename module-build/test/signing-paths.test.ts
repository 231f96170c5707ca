/**
 * MODL_SIGNING_KEY / MODL_SIGNING_CHAIN given as relative paths are read from the folder the user
 * ran npm in (npm's INIT_CWD), not from module-build/ where `npm run build:modl` runs the CLI: from
 * the repository root, `MODL_SIGNING_CHAIN=module-build/.keys/dev-signing-cert.pem` used to fail
 * with "does not exist".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSigningMaterial } from '../src/signing/signing-material.ts';

const tmp = mkdtempSync(join(tmpdir(), 'signing-paths-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('relative signing paths resolve against INIT_CWD; a missing file is named in full', () => {
  loadSigningMaterial({}, join(tmp, 'keys')); // writes a development key and certificate
  const env = {
    INIT_CWD: tmp,
    MODL_SIGNING_KEY: join('keys', 'dev-signing-key.pem'),
    MODL_SIGNING_CHAIN: join('keys', 'dev-signing-cert.pem'),
  };
  const material = loadSigningMaterial(env, join(tmp, 'unused'));
  assert.equal(material.source, 'env');
  assert.throws(
    () => loadSigningMaterial({ ...env, MODL_SIGNING_CHAIN: 'keys/missing.pem' }, join(tmp, 'unused')),
    (err: Error) => err.message.includes(join(tmp, 'keys', 'missing.pem')),
  );
});
