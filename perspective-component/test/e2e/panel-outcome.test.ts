/**
 * End to end in Chromium: the outcome of an executed write reaches the card live. The real HTTP API,
 * engine, Postgres store and simulated plant writer (gateway-sidecar/test/fixtures/api-harness.ts);
 * the write is approved over the API, then the sidecar's learning loop records its outcome
 * (gateway-sidecar/test/integration/learning-fixture.ts `settleOutcome`) and the page, without a
 * reload, shows "Outcome: Effective — anomaly cleared 4 min after the write".
 */
import { describe, expect, it } from 'vitest';
import { card, sidecarFixture, watchErrors, type ApiHarness } from './browser.ts';
import { useApiHarness } from './live-panel.ts';
import type { Recommendation } from '../../src/api/types.ts';

interface LearningFixtureModule {
  settleOutcome(h: ApiHarness, writtenAtMs: number, clearedAfterMin?: number): Promise<string[]>;
}

const live = await useApiHarness();
const { TOKENS } = live;
const { settleOutcome } = await sidecarFixture<LearningFixtureModule>('../integration/learning-fixture.ts');

async function approve(rec: Recommendation): Promise<Recommendation> {
  let cur = rec;
  for (const token of [TOKENS.operator, TOKENS.operator2]) {
    const res = await fetch(`${live.h.base}/api/recommendations/${encodeURIComponent(cur.id)}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', expectedVersion: cur.version }),
    });
    expect(res.status).toBe(200);
    cur = (await res.json()) as Recommendation;
    if (cur.status !== 'pending') break;
  }
  return cur;
}

describe('outcome of an executed write on the panel', () => {
  it('appears live on the card once the learning loop records it', async () => {
    expect(await live.h.raise(Date.now() - 60_000)).toBe(1);
    const list = await fetch(`${live.h.base}/api/recommendations?status=pending`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    const rec = ((await list.json()) as { items: Recommendation[] }).items[0];
    expect(rec?.proposedAction).toBeTruthy();
    const done = await approve(rec as Recommendation);
    expect(done.status).toBe('executed');

    const page = await live.browser.newPage({ viewport: { width: 900, height: 700 } });
    const errors = watchErrors(page);
    await page.goto(`${live.h.base}/#token=${TOKENS.viewer}`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const c = card(page, done.id);
    await expect.poll(() => c.getAttribute('data-status')).toBe('executed');
    expect(await c.locator('.aim-outcome').count()).toBe(0);

    const recorded = await settleOutcome(live.h, Date.parse(done.writeResult?.at ?? ''), 4);
    expect(recorded).toEqual([`${done.id}:effective`]);
    const line = c.locator('.aim-outcome');
    await line.waitFor();
    expect((await line.textContent())?.replace(/\s+/g, ' ')).toBe(
      'Outcome: Effective — anomaly cleared 4 min after the write',
    );
    expect(await line.getAttribute('data-outcome')).toBe('effective');
    expect(errors).toEqual([]);
    await page.close();
  });
});
