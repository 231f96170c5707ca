import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SparkplugTagWriter } from '../../src/adapters/sparkplug-tag-writer.ts';
import { tagWriterContract } from '../contracts/tag-writer.contract.ts';
import { BROKER_URL, TestEdgeNode } from '../fixtures/sparkplug-edge-node.ts';

const PREFIX = '[MQTT Engine]Edge Nodes/';

async function setup(): Promise<{ group: string; edge: TestEdgeNode; writer: SparkplugTagWriter }> {
  const group = `test-${randomUUID().slice(0, 8)}`;
  const writer = new SparkplugTagWriter({
    brokerUrl: BROKER_URL,
    groupId: group,
    edgeNodeId: '+',
    tagPrefix: PREFIX,
    confirmTimeoutMs: 1_500,
  });
  await writer.connect();
  const edge = new TestEdgeNode(group);
  await edge.start();
  const sp = `${PREFIX}${group}/EDGE1/R01/Throughput_SP`;
  const deadline = Date.now() + 10_000;
  while ((await writer.read(sp)) === undefined) {
    if (Date.now() > deadline) throw new Error('writer never saw the DBIRTH');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { group, edge, writer };
}

tagWriterContract('sparkplug', async () => {
  const { group, edge, writer } = await setup();
  return {
    writer,
    setpointTag: `${PREFIX}${group}/EDGE1/R01/Throughput_SP`,
    acceptedValue: 64,
    refused: { tagPath: `${PREFIX}${group}/EDGE1/R01/Interlock_SP`, value: 0 },
    unknownTag: `${PREFIX}${group}/EDGE1/R01/Ghost_SP`,
    close: async () => {
      await writer.close();
      await edge.stop();
    },
  };
});

test('DCMD for a device metric and NCMD for a node metric are applied by the edge node and confirmed by its DATA', async () => {
  const { group, edge, writer } = await setup();
  try {
    assert.deepEqual(await writer.write(`${PREFIX}${group}/EDGE1/R01/Throughput_SP`, 70), {
      ok: true,
      readBack: 70,
      previous: 80,
    });
    assert.equal(edge.metrics.find((m) => m.name === 'Throughput_SP')?.value, 70);
    assert.deepEqual(await writer.write(`${PREFIX}${group}/EDGE1/LineSpeed_SP`, 55), {
      ok: true,
      readBack: 55,
      previous: 50,
    });
    const ignored = await writer.write(`${PREFIX}${group}/EDGE1/R01/Interlock_SP`, 0);
    assert.equal(ignored.ok, false);
    assert.ok(!ignored.ok && ignored.statusCode === 'Timeout' && /did not confirm/.test(ignored.reason));
    assert.equal(edge.metrics.find((m) => m.name === 'Interlock_SP')?.value, 1);
  } finally {
    await writer.close();
    await edge.stop();
  }
});
