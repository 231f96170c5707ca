/**
 * End to end in Chromium: the outcome of an executed write reaches the card live. The real HTTP API,
 * engine, Postgres store and simulated plant writer (gateway-sidecar/test/fixtures/api-harness.ts);
 * the write is approved over the API, then the sidecar's learning loop records its outcome
 * (gateway-sidecar/test/integration/learning-fixture.ts `settleOutcome` / `settleWorseOutcome`) and
 * the page, without a reload, shows it:
 *  - effective (REACTOR_01): "Outcome: Effective — anomaly cleared 4 min after the write";
 *  - worse (PUMP_02, its own equipment so the two outcome windows do not share scored events), with
 *    `learning.autoRevertWorse`: the loop reverts the write through the audited revert and the card
 *    shows the worse line in the theme's error colour (read with getComputedStyle, light and dark),
 *    "reverted automatically" and the revert result, its status staying executed as the sidecar
 *    keeps it.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { card, sidecarFixture, watchErrors, type ApiHarness } from './browser.ts';
import { recommendationStatus, useApiHarness } from './live-panel.ts';
import type { Recommendation } from '../../src/api/types.ts';

interface LearningFixtureModule {
  settleOutcome(h: ApiHarness, writtenAtMs: number, clearedAfterMin?: number): Promise<string[]>;
  settleWorseOutcome(
    h: ApiHarness,
    writtenAtMs: number,
    options?: { tagPath?: string; autoRevert?: boolean },
  ): Promise<string[]>;
}

const live = await useApiHarness();
const { TOKENS } = live;
const { settleOutcome, settleWorseOutcome } = await sidecarFixture<LearningFixtureModule>(
  '../integration/learning-fixture.ts',
);
const PUMP_VIBRATION = '[default]Utilities/P02/Vibration';

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

/** An executed write of `equipment`'s new recommendation, approved over the API. */
async function executedWrite(equipment: 'REACTOR_01' | 'PUMP_02'): Promise<Recommendation> {
  expect(await live.h.raise(Date.now() - 60_000, { equipment })).toBe(1);
  const list = await fetch(`${live.h.base}/api/recommendations?status=pending&equipment=${equipment}`, {
    headers: { authorization: `Bearer ${TOKENS.viewer}` },
  });
  const rec = ((await list.json()) as { items: Recommendation[] }).items[0];
  expect(rec?.proposedAction).toBeTruthy();
  const done = await approve(rec as Recommendation);
  expect(done.status).toBe('executed');
  return done;
}

async function openPanel(): Promise<{ page: Page; errors: string[] }> {
  const page = await live.browser.newPage({ viewport: { width: 900, height: 700 } });
  const errors = watchErrors(page);
  await page.goto(`${live.h.base}/#token=${TOKENS.viewer}`);
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  return { page, errors };
}

interface OutcomeLook {
  /** Computed colours, `rgb(...)` as Chromium reports them. */
  readonly bar: string;
  readonly badge: string;
  readonly detail: string;
  /** The first non-transparent background behind the line. */
  readonly behind: string;
  /** The panel's own status colours resolved in the page, to compare with. */
  readonly ok: string;
  readonly muted: string;
  readonly critical: string;
}

/** How the outcome line looks: computed styles read in the page. */
function lookOf(line: Locator): Promise<OutcomeLook> {
  return line.evaluate((el) => {
    const root = el.closest('.aim-root') as HTMLElement;
    const resolve = (v: string): string => {
      const probe = document.createElement('span');
      probe.style.color = `var(${v})`;
      root.append(probe);
      const c = getComputedStyle(probe).color;
      probe.remove();
      return c;
    };
    let behind = 'rgba(0, 0, 0, 0)';
    for (let n: Element | null = el; n !== null && /rgba\(.*, 0\)$/.test(behind); n = n.parentElement)
      behind = getComputedStyle(n).backgroundColor;
    return {
      bar: getComputedStyle(el).borderLeftColor,
      badge: getComputedStyle(el.querySelector('.aim-outcome-badge') as Element).color,
      detail: getComputedStyle(el.querySelector('.aim-outcome-detail') as Element).color,
      behind,
      ok: resolve('--aim-ok'),
      muted: resolve('--aim-muted'),
      critical: resolve('--aim-critical'),
    };
  });
}

/** WCAG 2 contrast ratio of two opaque `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string): number => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (bl ?? 0);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('outcome of an executed write on the panel', () => {
  it('appears live on the card once the learning loop records it', async () => {
    const done = await executedWrite('REACTOR_01');
    const { page, errors } = await openPanel();
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
    // The green badge and the detail stay readable (4.5:1) on what is behind them, in both themes.
    const light = await lookOf(line);
    expect(contrast(light.badge, light.behind)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(light.detail, light.behind)).toBeGreaterThanOrEqual(4.5);
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(async () => (await lookOf(line)).behind).not.toBe(light.behind);
    const dark = await lookOf(line);
    expect(dark.badge).not.toBe(light.badge);
    expect(contrast(dark.badge, dark.behind)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(dark.detail, dark.behind)).toBeGreaterThanOrEqual(4.5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a worse outcome live in the error colour, reverted automatically, and the revert', async () => {
    const done = await executedWrite('PUMP_02');
    const previous = done.writeResult?.previousValue;
    expect(typeof previous).toBe('number');
    expect(done.proposedAction?.newValue).not.toBe(previous);

    const { page, errors } = await openPanel();
    const c = card(page, done.id);
    await expect.poll(() => c.getAttribute('data-status')).toBe('executed');
    expect(await c.locator('.aim-outcome').count()).toBe(0);
    expect(await c.getByText(/^Reverted to/).count()).toBe(0);

    const recorded = await settleWorseOutcome(live.h, Date.parse(done.writeResult?.at ?? ''), {
      tagPath: PUMP_VIBRATION,
      autoRevert: true,
    });
    expect(recorded).toEqual([`${done.id}:worse`]);
    const line = c.locator('.aim-outcome');
    await line.waitFor();
    // The outcome, the revert and the outcome marked reverted arrive as three live changes.
    await expect
      .poll(() => line.textContent().then((t) => t?.replace(/\s+/g, ' ')), { timeout: 10_000 })
      .toBe('Outcome: Worse — mean anomaly score 0.65 before the write, 0.97 after; reverted automatically');
    expect(await line.getAttribute('data-outcome')).toBe('worse');
    expect(await line.getAttribute('class')).toBe('aim-outcome aim-outcome-worse');
    await c.getByText(`Reverted to ${String(previous)} ${done.proposedAction?.unit ?? ''}`.trim()).waitFor();
    // The sidecar keeps a reverted write's status executed (an engineer's revert does the same).
    expect(await c.getAttribute('data-status')).toBe('executed');
    expect((await c.locator('.aim-status').textContent())?.trim()).toBe('Status: Executed');
    expect(await recommendationStatus(live.h.pool, done.id)).toBe('executed');
    const stored = await live.h.pool.query<{ outcome: string; reverted: boolean }>(
      'SELECT outcome, reverted FROM agentic_hmi.recommendation_outcomes WHERE recommendation_id = $1',
      [done.id],
    );
    expect(stored.rows).toEqual([{ outcome: 'worse', reverted: true }]);

    // Light theme (the preview's --error is #c0392b): red bar and badge, not the effective green
    // or the not-effective grey, and readable on what is behind the line.
    const light = await lookOf(line);
    expect(light.bar).toBe('rgb(192, 57, 43)');
    expect(light.badge).toBe(light.bar);
    expect(light.critical).toBe(light.bar);
    expect(light.bar).not.toBe(light.ok);
    expect(light.bar).not.toBe(light.muted);
    expect(contrast(light.badge, light.behind)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(light.detail, light.behind)).toBeGreaterThanOrEqual(4.5);

    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const dark = await lookOf(line);
    expect(dark.bar).toBe('rgb(229, 100, 90)');
    expect(dark.badge).toBe(dark.bar);
    expect(dark.bar).not.toBe(dark.ok);
    expect(dark.bar).not.toBe(dark.muted);
    expect(contrast(dark.badge, dark.behind)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(dark.detail, dark.behind)).toBeGreaterThanOrEqual(4.5);
    expect(errors).toEqual([]);
    await page.close();
  });
});
