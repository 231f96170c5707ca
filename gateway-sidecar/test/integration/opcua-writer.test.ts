import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpcuaTagWriter } from '../../src/adapters/opcua-tag-writer.ts';
import { tagWriterContract } from '../contracts/tag-writer.contract.ts';
import {
  PROTECTED_TAG,
  USER,
  USER_DENIED_TAG,
  clientOptions as options,
  clientPkiDir,
  startOpcuaFixtureServer,
} from '../fixtures/opcua-server.ts';

const SP = '[default]Reactors/R01/Throughput_SP';

const CLIENT_PKI = clientPkiDir('opcua-w-');

tagWriterContract('opcua', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  const writer = new OpcuaTagWriter(options(server, pki));
  return {
    writer,
    setpointTag: SP,
    acceptedValue: 64,
    refused: { tagPath: PROTECTED_TAG, value: 0 },
    unknownTag: '[default]Nowhere/Ghost_SP',
    close: async () => {
      await writer.close();
      await server.close();
    },
  };
});

test('a server-side rejection reports the status code; an accepted write reaches the server', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  const writer = new OpcuaTagWriter(options(server, pki));
  try {
    const refused = await writer.write(PROTECTED_TAG, 0);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.statusCode === 'BadNotWritable', JSON.stringify(refused));
    assert.equal(server.value(PROTECTED_TAG), 1);
    const denied = await writer.write(USER_DENIED_TAG, 4);
    // node-opcua answers a user-level refusal with BadWriteNotSupported; Ignition's code may differ: whatever Bad code comes back is passed on.
    assert.ok(
      !denied.ok && /^Bad/.test(denied.statusCode ?? '') && denied.reason.includes(denied.statusCode ?? '?'),
      JSON.stringify(denied),
    );
    assert.equal(server.value(USER_DENIED_TAG), 3);
    const ok = await writer.write(SP, 66);
    assert.deepEqual(ok, { ok: true, readBack: 66, previous: 70 });
    assert.equal(server.value(SP), 66);
  } finally {
    await writer.close();
    await server.close();
  }
});

test('SignAndEncrypt / Basic256Sha256 with user name and password: writes; a wrong password is refused', async () => {
  const server = await startOpcuaFixtureServer({ secure: true });
  const pki = CLIENT_PKI;
  const secure = { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' } as const;
  const good = new OpcuaTagWriter(
    options(server, pki, { ...secure, userName: USER.name, password: USER.password }),
  );
  const bad = new OpcuaTagWriter(options(server, pki, { ...secure, userName: USER.name, password: 'wrong' }));
  const insecure = new OpcuaTagWriter(options(server, pki));
  try {
    assert.deepEqual(await good.write(SP, 72), { ok: true, readBack: 72, previous: 70 });
    const denied = await bad.write(SP, 73);
    assert.equal(denied.ok, false);
    assert.equal(await bad.read(SP), undefined);
    assert.equal((await insecure.write(SP, 74)).ok, false);
    assert.equal(server.value(SP), 72);
  } finally {
    await Promise.all([good.close(), bad.close(), insecure.close()]);
    await server.close();
  }
});

test('options from the parsed config: defaults, PKI under dataDir, mapped tags when none are listed', async () => {
  const { parseConfig } = await import('../../src/config.ts');
  const { opcuaSourceOptionsFromConfig } = await import('../../src/adapters/opcua-tag-source.ts');
  const { systemClock } = await import('../../src/ports.ts');
  const cfg = parseConfig({
    source: {
      kind: 'opcua',
      opcua: {
        namespaceUri: 'urn:x',
        securityMode: 'SignAndEncrypt',
        securityPolicy: 'Basic256Sha256',
        userName: 'u',
        password: 'p',
      },
    },
  });
  const o = opcuaSourceOptionsFromConfig(cfg.source.opcua, {
    dataDir: '/var/lib/sc',
    mappedTags: ['[default]A/B'],
    clock: systemClock,
  });
  assert.equal(o.endpointUrl, 'opc.tcp://127.0.0.1:62541');
  assert.equal(o.pkiDir, '/var/lib/sc/pki/opcua');
  assert.deepEqual(o.tags, ['[default]A/B']);
  assert.deepEqual(o.deadband, { type: 'none', value: 0 });
  assert.equal(o.userName, 'u');
  assert.equal(o.trustUnknownServerCertificate, false);
  assert.throws(
    () => parseConfig({ source: { opcua: { securityMode: 'SignAndEncrypt' } } }),
    /securityPolicy/,
  );
});
