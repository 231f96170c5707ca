import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SparkplugTagSource } from '../../src/adapters/sparkplug-tag-source.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import { systemClock } from '../../src/ports.ts';
import { tagSourceContract } from '../contracts/tag-source.contract.ts';
import { BROKER_URL, TestEdgeNode } from '../fixtures/sparkplug-edge-node.ts';

const PREFIX = '[MQTT Engine]Edge Nodes/';
const newGroup = (): string => `test-${randomUUID().slice(0, 8)}`;
const make = (group: string): SparkplugTagSource =>
  new SparkplugTagSource({
    brokerUrl: BROKER_URL,
    groupId: group,
    edgeNodeId: '+',
    tagPrefix: PREFIX,
    maxBatch: 500,
    maxQueued: 10_000,
    clock: systemClock,
  });

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

tagSourceContract('sparkplug', async () => {
  const group = newGroup();
  const edge = new TestEdgeNode(group);
  const source = make(group);
  let started = false;
  let n = 0;
  return {
    source,
    stimulate: async () => {
      // The edge node is born after the host subscribed, as MQTT Engine would see it.
      if (!started && source.state() === 'connected') {
        started = true;
        await edge.start();
      } else if (started) await edge.publishValue('Temperature', 60 + (++n % 10));
    },
    expectedTags: [`${PREFIX}${group}/EDGE1/R01/Temperature`, `${PREFIX}${group}/EDGE1/LineSpeed_SP`],
    close: () => edge.stop(),
  };
});

test('BIRTH names, aliased DATA resolved to tag paths, seq gap triggers one rebirth, garbage counted', async () => {
  const group = newGroup();
  const source = make(group);
  const edge = new TestEdgeNode(group);
  const events: TagEvent[] = [];
  const temp = `${PREFIX}${group}/EDGE1/R01/Temperature`;
  try {
    await source.start((b) => {
      events.push(...b);
    });
    await edge.start();
    await until(
      () => events.some((e) => e.tagPath === `${PREFIX}${group}/EDGE1/R01/Throughput_SP` && e.value === 80),
      'DBIRTH values',
    );
    assert.ok(
      !events.some((e) => e.tagPath.includes('bdSeq') || e.tagPath.includes('Node Control')),
      'bookkeeping metrics leaked as tags',
    );
    await edge.publishValue('Temperature', 71.5);
    await until(() => events.some((e) => e.tagPath === temp && e.value === 71.5), 'aliased DDATA');
    await edge.publishGarbage();
    edge.skipSeq(3);
    await edge.publishValue('Temperature', 72.5);
    await until(() => edge.rebirthRequests === 1, 'a rebirth request');
    await until(
      () => events.filter((e) => e.tagPath === temp && e.value === 72.5).length >= 2,
      'the rebirth DBIRTH',
    );
    await edge.publishValue('Temperature', 73.5);
    await until(() => events.some((e) => e.tagPath === temp && e.value === 73.5), 'DDATA after rebirth');
    assert.equal(source.rebirthsRequested, 1);
    assert.deepEqual(source.rejectedCounts(), { sparkplug_undecodable: 1, sparkplug_seq_gap: 1 });
  } finally {
    await source.stop();
    await edge.stop();
  }
});

test('DDEATH marks the device tags stale, NDEATH every tag of the node, with bad quality', async () => {
  const group = newGroup();
  const source = make(group);
  const edge = new TestEdgeNode(group);
  const events: TagEvent[] = [];
  try {
    await source.start((b) => {
      events.push(...b);
    });
    await edge.start();
    await until(() => events.length >= 4, 'birth values');
    await edge.deviceDeath();
    await until(() => events.filter((e) => e.quality === 'bad').length === 3, 'three stale device tags');
    assert.deepEqual(
      events
        .filter((e) => e.quality === 'bad')
        .map((e) => e.tagPath.split('/').at(-1))
        .sort(),
      ['Interlock_SP', 'Temperature', 'Throughput_SP'],
    );
    await edge.nodeDeath();
    await until(() => events.filter((e) => e.quality === 'bad').length === 7, 'every node tag stale');
    assert.ok(events.some((e) => e.quality === 'bad' && e.tagPath.endsWith('/EDGE1/LineSpeed_SP')));
  } finally {
    await source.stop();
    await edge.stop();
  }
});

test('DATA from a node the host never saw born is counted and answered with a rebirth request', async () => {
  const group = newGroup();
  const edge = new TestEdgeNode(group);
  await edge.start();
  const source = make(group);
  const events: TagEvent[] = [];
  try {
    await source.start((b) => {
      events.push(...b);
    });
    await edge.publishValue('Temperature', 65);
    await until(() => edge.rebirthRequests === 1, 'rebirth request from a late host');
    await until(
      () => events.some((e) => e.tagPath.endsWith('/R01/Temperature') && e.value === 65),
      'values after rebirth',
    );
    assert.equal(source.rejectedCounts().sparkplug_no_birth, 1);
  } finally {
    await source.stop();
    await edge.stop();
  }
});
