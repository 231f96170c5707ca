/**
 * The TagWriter port contract (STYLE.md §8), run by the simulator, OPC UA and Sparkplug writer
 * tests with their own fixtures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TagWriter } from '../../src/ports.ts';

export interface TagWriterFixture {
  readonly writer: TagWriter;
  /** A writable numeric setpoint. */
  readonly setpointTag: string;
  /** A value different from the current one that the far end accepts. */
  readonly acceptedValue: number;
  /** A tag (or value) the far end refuses. */
  readonly refused: { readonly tagPath: string; readonly value: number };
  /** A tag the far end does not know. */
  readonly unknownTag: string;
  close(): Promise<void>;
}

export function tagWriterContract(adapter: string, build: () => Promise<TagWriterFixture>): void {
  test(`[TagWriter contract: ${adapter}] reads a setpoint, writes it, reads it back`, async () => {
    const fx = await build();
    try {
      const before = await fx.writer.read(fx.setpointTag);
      assert.equal(typeof before, 'number');
      assert.notEqual(before, fx.acceptedValue);
      const outcome = await fx.writer.write(fx.setpointTag, fx.acceptedValue);
      assert.deepEqual(outcome, { ok: true, readBack: fx.acceptedValue, previous: before });
      assert.equal(await fx.writer.read(fx.setpointTag), fx.acceptedValue);
    } finally {
      await fx.close();
    }
  });

  test(`[TagWriter contract: ${adapter}] a refused write resolves ok:false with a reason and changes nothing`, async () => {
    const fx = await build();
    try {
      const before = await fx.writer.read(fx.refused.tagPath);
      const outcome = await fx.writer.write(fx.refused.tagPath, fx.refused.value);
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.ok(outcome.reason.length > 0);
      assert.equal(await fx.writer.read(fx.refused.tagPath), before);
    } finally {
      await fx.close();
    }
  });

  test(`[TagWriter contract: ${adapter}] an unknown tag reads undefined and its write is refused, not thrown`, async () => {
    const fx = await build();
    try {
      assert.equal(await fx.writer.read(fx.unknownTag), undefined);
      const outcome = await fx.writer.write(fx.unknownTag, 1);
      assert.equal(outcome.ok, false);
    } finally {
      await fx.close();
    }
  });
}
