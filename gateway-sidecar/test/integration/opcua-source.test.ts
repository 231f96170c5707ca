import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpcuaTagSource, type OpcuaTagSourceOptions } from '../../src/adapters/opcua-tag-source.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import { systemClock, type SourceState } from '../../src/ports.ts';
import { tagSourceContract } from '../contracts/tag-source.contract.ts';
import {
  clientOptions,
  clientPkiDir,
  startOpcuaFixtureServer,
  type FixtureServer,
} from '../fixtures/opcua-server.ts';

const TEMP = '[default]Reactors/R01/Temperature';
const VIB = '[default]Utilities/P02/Vibration';
const SP = '[default]Reactors/R01/Throughput_SP';

const CLIENT_PKI = clientPkiDir('opcua-src-');

function options(
  server: FixtureServer,
  pkiDir: string,
  o: Partial<OpcuaTagSourceOptions> = {},
): OpcuaTagSourceOptions {
  return {
    ...clientOptions(server, pkiDir),
    tags: [TEMP, VIB, SP],
    samplingIntervalMs: 50,
    publishingIntervalMs: 50,
    queueSize: 10,
    deadband: { type: 'none', value: 0 },
    maxBatch: 500,
    maxQueued: 10_000,
    clock: systemClock,
    ...o,
  };
}

async function until(
  cond: () => boolean,
  what: string,
  tick?: () => void,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

tagSourceContract('opcua', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  let n = 0;
  return {
    source: new OpcuaTagSource(options(server, pki)),
    stimulate: async () => {
      n++;
      server.setValue(TEMP, 60 + (n % 20));
    },
    expectedTags: [TEMP, VIB, SP],
    close: async () => {
      await server.close();
    },
  };
});

test('resolves the tag namespace by URI when it is not at index 2, and delivers server changes with timestamps', async () => {
  const server = await startOpcuaFixtureServer({
    extraNamespacesBefore: ['urn:test:devices', 'urn:test:other'],
  });
  const pki = CLIENT_PKI;
  assert.equal(server.namespaceIndex, 4);
  const source = new OpcuaTagSource(options(server, pki));
  const got: TagEvent[] = [];
  try {
    await source.start((b) => {
      got.push(...b);
    });
    server.setValue(TEMP, 77.5);
    await until(() => got.some((e) => e.tagPath === TEMP && e.value === 77.5), 'the 77.5 change');
    const ev = got.find((e) => e.value === 77.5);
    assert.equal(ev?.quality, 'good');
    assert.ok((ev?.sourceTimestampMs ?? 0) > Date.now() - 60_000);
  } finally {
    await source.stop();
    await server.close();
  }
});

test('a server restart mid-stream: state goes reconnecting then connected, and events resume', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  const source = new OpcuaTagSource(options(server, pki));
  const states: SourceState[] = [];
  source.onStateChange((s) => states.push(s));
  const values: unknown[] = [];
  try {
    await source.start((b) => {
      for (const e of b) if (e.tagPath === TEMP) values.push(e.value);
    });
    server.setValue(TEMP, 61);
    await until(() => values.includes(61), 'value before restart');
    await server.stop();
    await until(() => source.state() === 'reconnecting', 'reconnecting state');
    await server.restart();
    let v = 100;
    await until(
      () => values.includes(v),
      'a value after restart',
      () => server.setValue(TEMP, ++v),
      60_000,
    );
    assert.equal(source.state(), 'connected');
    const iReconnecting = states.indexOf('reconnecting');
    assert.ok(
      iReconnecting > 0 && states.slice(iReconnecting).includes('connected'),
      `states: ${states.join(',')}`,
    );
  } finally {
    await source.stop();
    await server.close();
  }
});

test('an absolute deadband suppresses small changes; an unknown tag is counted, not fatal', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  const source = new OpcuaTagSource(
    options(server, pki, {
      tags: [TEMP, '[default]Nowhere/Ghost'],
      deadband: { type: 'absolute', value: 1 },
    }),
  );
  const values: unknown[] = [];
  try {
    await source.start((b) => {
      for (const e of b) values.push(e.value);
    });
    assert.deepEqual(source.rejectedCounts(), { opcua_monitor_failed: 1 });
    await until(() => values.length >= 1, 'initial value');
    server.setValue(TEMP, 50);
    await until(() => values.includes(50), 'the 50 change');
    server.setValue(TEMP, 50.3);
    server.setValue(TEMP, 55);
    await until(() => values.includes(55), 'the 55 change');
    assert.ok(!values.includes(50.3), 'a change inside the deadband was delivered');
  } finally {
    await source.stop();
    await server.close();
  }
});

test('a missing namespace URI fails start with SC_ERR_SOURCE_CONNECT naming it', async () => {
  const server = await startOpcuaFixtureServer();
  const pki = CLIENT_PKI;
  const source = new OpcuaTagSource(options(server, pki, { namespaceUri: 'urn:nope' }));
  try {
    await assert.rejects(
      source.start(() => {}),
      (err: Error & { code?: string }) =>
        err.code === 'SC_ERR_SOURCE_CONNECT' && /urn:nope/.test(err.message),
    );
    assert.equal(source.state(), 'stopped');
  } finally {
    await source.stop();
    await server.close();
  }
});
