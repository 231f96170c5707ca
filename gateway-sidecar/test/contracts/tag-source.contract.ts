/**
 * The TagSource port contract (STYLE.md §8): every adapter runs this suite through its own
 * integration test with a `build()` that returns a started-from-nothing source plus a way to make
 * data flow (`stimulate`: the OPC UA fixture server changes values, the Sparkplug test edge node
 * publishes; the simulator and replay produce on their own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import type { SourceState, TagSource } from '../../src/ports.ts';

export interface TagSourceFixture {
  readonly source: TagSource;
  /** Makes the far end produce changes; called repeatedly while a test waits for events. */
  stimulate(): Promise<void>;
  /** Tag paths the source must deliver at least once. */
  readonly expectedTags: readonly string[];
  close(): Promise<void>;
}

const QUALITIES = new Set(['good', 'uncertain', 'bad']);

async function waitFor(
  cond: () => boolean,
  fixture: TagSourceFixture,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await fixture.stimulate();
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function tagSourceContract(adapter: string, build: () => Promise<TagSourceFixture>): void {
  test(`[TagSource contract: ${adapter}] delivers well-formed events for the expected tags and reports connected`, async () => {
    const fx = await build();
    const states: SourceState[] = [];
    fx.source.onStateChange?.((s) => states.push(s));
    const seen = new Set<string>();
    try {
      await fx.source.start((batch) => {
        assert.ok(batch.length > 0, 'empty batch delivered');
        for (const ev of batch) {
          assert.equal(typeof ev.tagPath, 'string');
          assert.ok(ev.tagPath.length > 0);
          assert.ok(QUALITIES.has(ev.quality), `quality ${ev.quality}`);
          assert.ok(Number.isFinite(ev.sourceTimestampMs) && Number.isFinite(ev.receivedTimestampMs));
          seen.add(ev.tagPath);
        }
      });
      assert.ok(
        ['connected', 'finished'].includes(fx.source.state()),
        `state after start: ${fx.source.state()}`,
      );
      await waitFor(
        () => fx.expectedTags.every((t) => seen.has(t)),
        fx,
        `tags ${fx.expectedTags.filter((t) => !seen.has(t)).join(', ')}`,
      );
      if (fx.source.onStateChange)
        assert.ok(states.includes('connected'), `states seen: ${states.join(',')}`);
    } finally {
      await fx.source.stop();
      await fx.close();
    }
  });

  test(`[TagSource contract: ${adapter}] waits for each batch before delivering the next (backpressure)`, async () => {
    const fx = await build();
    let inFlight = 0;
    let maxInFlight = 0;
    let batches = 0;
    try {
      await fx.source.start(async (_batch: readonly TagEvent[]) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        batches++;
        inFlight--;
      });
      await waitFor(() => batches >= 3 || fx.source.state() === 'finished', fx, '3 batches');
      assert.equal(maxInFlight, 1, 'a batch was delivered while the previous one was still being handled');
    } finally {
      await fx.source.stop();
      await fx.close();
    }
  });

  test(`[TagSource contract: ${adapter}] stop() ends delivery and reports stopped`, async () => {
    const fx = await build();
    let afterStop = 0;
    let stopped = false;
    let count = 0;
    try {
      await fx.source.start(() => {
        count++;
        if (stopped) afterStop++;
      });
      await waitFor(() => count > 0 || fx.source.state() === 'finished', fx, 'a first batch');
      await fx.source.stop();
      stopped = true;
      assert.ok(
        ['stopped', 'finished'].includes(fx.source.state()),
        `state after stop: ${fx.source.state()}`,
      );
      for (let i = 0; i < 5; i++) {
        await fx.stimulate();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(afterStop, 0, 'events delivered after stop() resolved');
    } finally {
      await fx.source.stop();
      await fx.close();
    }
  });
}
