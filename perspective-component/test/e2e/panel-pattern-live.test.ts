/**
 * End to end in Chromium against the real sidecar API (engine, Postgres store, HTTP/SSE; the
 * in-process harness of gateway-sidecar/test/fixtures/api-harness.ts) and the built bundle:
 *  - another card learns a decision live: B's reject dialog is open with a typed note when another
 *    operator rejects A of the same pattern over the API; B's "Earlier on this pattern" line shows
 *    that rejection without a reload (no new list request), and the dialog stays open with the
 *    typed note and the focus; confirming rejects B with that note;
 *  - the reopen line: a recommendation raised past a rejection of its pattern shows
 *    "Reopened: …" in muted text that wraps inside the 340 px container and reads at >= 4.5:1
 *    against what is behind it, in the light and the dark theme.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { Recommendation } from '../../src/api/types.ts';
import { card, sidecarFixture, watchErrors, type ApiHarness } from './browser.ts';
import { recommendationStatus, useApiHarness } from './live-panel.ts';

const live = await useApiHarness();
const { TOKENS } = live;
const MIN = 60_000;

/** The parts of the harness (and the sidecar's detection module) the reopen test feeds readings through. */
interface FeedingHarness extends ApiHarness {
  readonly recs: { onScored(batch: readonly unknown[]): Promise<number> };
  readonly index: { readonly sensorsByTag: ReadonlyMap<string, { readonly sensorType: string }> };
}
const { eventIdOf } = await sidecarFixture<{ eventIdOf(tagPath: string, tsMs: number): string }>(
  '../../src/domain/detection.ts',
);

async function api<T>(path: string, init: RequestInit = {}, token: string = TOKENS.operator): Promise<T> {
  const res = await fetch(`${live.h.base}/api${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
}

const listIds = async (): Promise<Set<string>> =>
  new Set((await api<{ items: Recommendation[] }>('/recommendations?limit=500')).items.map((r) => r.id));

/** Raises one new REACTOR_01 recommendation at `tsMs` through the harness and returns it. */
async function raiseReactor(tsMs: number): Promise<Recommendation> {
  const before = await listIds();
  expect(await live.h.raise(tsMs)).toBe(1);
  const fresh = (await api<{ items: Recommendation[] }>('/recommendations?limit=500')).items.filter(
    (r) => !before.has(r.id),
  );
  expect(fresh).toHaveLength(1);
  return fresh[0] as Recommendation;
}

async function openPanel(
  token: string,
): Promise<{ page: Page; errors: string[]; listRequests: () => number }> {
  const page = await live.browser.newPage({ viewport: { width: 1100, height: 760 } });
  const errors = watchErrors(page);
  let lists = 0;
  page.on('request', (r) => {
    if (/\/api\/recommendations(\?|$)/.test(r.url())) lists++;
  });
  await page.goto(`${live.h.base}/#token=${token}`);
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  return { page, errors, listRequests: () => lists };
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

/** The line's text colour, the first opaque background behind it, and the panel's muted colour. */
function colours(line: Locator): Promise<{ text: string; behind: string; muted: string }> {
  return line.evaluate((el) => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--aim-muted)';
    el.closest('.aim-root')?.appendChild(probe);
    const muted = getComputedStyle(probe).color;
    probe.remove();
    let behind = 'rgba(0, 0, 0, 0)';
    for (let n: Element | null = el; n !== null && /rgba\(.*, 0\)$/.test(behind); n = n.parentElement)
      behind = getComputedStyle(n).backgroundColor;
    return { text: getComputedStyle(el).color, behind, muted };
  });
}

describe('pattern history and reopening on the live panel', () => {
  it('B’s history line learns A’s rejection live while B’s reject dialog keeps the typed note', async () => {
    const t = Date.now() - 5 * 60 * MIN;
    const a = await raiseReactor(t);
    const b = await raiseReactor(t + 7 * MIN);
    expect(b.issueType).toBe(a.issueType);
    const { page, errors, listRequests } = await openPanel(TOKENS.operator);
    const line = card(page, b.id).locator('.aim-history');
    await line.waitFor();
    const before = (await line.textContent()) ?? '';
    const listsAtStart = listRequests();

    await card(page, b.id).getByRole('button', { name: 'Reject' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject recommendation' });
    await dialog.waitFor();
    const typed = 'flow transmitter being recalibrated by instrumentation';
    const note = dialog.getByRole('textbox', { name: 'Note (required)' });
    await note.fill(typed);

    // Another operator rejects A (same pattern) over the API.
    const noteA = `planned coolant flush ${Date.now()}`;
    const rejected = await api<Recommendation>(
      `/recommendations/${encodeURIComponent(a.id)}/decision`,
      {
        method: 'POST',
        body: JSON.stringify({ decision: 'reject', note: noteA, expectedVersion: a.version }),
      },
      TOKENS.operator2,
    );
    expect(rejected.status).toBe('rejected');
    const expected = (await api<{ recommendation: Recommendation }>(`/recommendations/${b.id}`))
      .recommendation.patternHistory;
    expect(expected?.lastRejectionNote).toBe(noteA);
    await expect
      .poll(() => line.textContent(), { timeout: 10_000 })
      .toBe(
        `Earlier on this pattern: ${expected?.approved} approved, ${expected?.rejected} rejected — last rejection: “${noteA}”`,
      );
    expect(before).not.toContain(noteA);
    // No reload: the panel asked for no list since it opened; the dialog and its note are intact.
    expect(listRequests()).toBe(listsAtStart);
    expect(await dialog.isVisible()).toBe(true);
    expect(await note.inputValue()).toBe(typed);
    expect(await note.evaluate((el) => el === document.activeElement)).toBe(true);

    await dialog.getByRole('button', { name: 'Confirm reject' }).click();
    await expect.poll(() => recommendationStatus(live.h.pool, b.id)).toBe('rejected');
    const stored = await live.h.pool.query<{ operator_notes: string }>(
      'SELECT operator_notes FROM agentic_hmi.agent_recommendations WHERE recommendation_id = $1',
      [b.id],
    );
    expect(stored.rows[0]?.operator_notes).toBe(typed);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the reopen line, wrapped inside 340 px, readable in light and dark', async () => {
    const h = live.h as FeedingHarness;
    // The start of a 5-minute window two hours ago: the rejected one and the reopening share it.
    const t = Math.floor((Date.now() - 120 * MIN) / (5 * MIN)) * 5 * MIN + 10_000;
    const first = await raiseReactor(t);
    await api<Recommendation>(`/recommendations/${encodeURIComponent(first.id)}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'reject', note: 'motor cool-down', expectedVersion: first.version }),
    });
    const { page, errors } = await openPanel(TOKENS.operator);
    const before = await listIds();
    // Two minutes later, the same pattern led by CoolantFlow and at a higher severity.
    const reading = (tagPath: string, value: number, z: number) => {
      const tag = h.index.sensorsByTag.get(tagPath);
      expect(tag).toBeTruthy();
      const ts = t + 2 * MIN;
      return {
        reading: {
          kind: 'sensor',
          tag,
          value,
          quality: 'good',
          sourceTimestampMs: ts,
          receivedTimestampMs: ts,
        },
        eventId: eventIdOf(tagPath, ts),
        features: { z_score: z, rolling_std: 1 },
        score: 0.95,
        ifScore: 0.9,
        rfScore: 0.97,
        isAnomaly: true,
        severity: 'critical',
        modelVersion: 'test',
        explanation: [{ feature: 'z_score', sensorType: tag?.sensorType, tagPath, value: z, weight: 0.5 }],
      };
    };
    expect(
      await h.recs.onScored([
        reading('[default]Reactors/R01/CoolantFlow', 12, -4),
        reading('[default]Reactors/R01/Temperature', 86, 4),
      ]),
    ).toBe(1);
    const fresh = [...(await listIds())].filter((id) => !before.has(id));
    expect(fresh).toHaveLength(1);
    const reopened = (await api<{ recommendation: Recommendation }>(`/recommendations/${fresh[0]}`))
      .recommendation;
    expect(reopened.reopenedFrom).toBe(first.id);
    expect(reopened.reopenReason).toMatch(/^Reopened: .*CoolantFlow now leads/);

    const line = card(page, reopened.id).locator('.aim-reopen');
    await line.waitFor();
    expect(await line.textContent()).toBe(reopened.reopenReason);
    expect(await line.getAttribute('data-reopened-from')).toBe(first.id);

    await page.getByRole('button', { name: 'Narrow container' }).click();
    const fit = await page.locator('.aim-root').evaluate((root, id) => {
      const c = root.querySelector(`li[data-recommendation-id="${id}"]`) as HTMLElement;
      const el = c.querySelector('.aim-reopen') as HTMLElement;
      const lineHeight =
        parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.4;
      return {
        width: root.getBoundingClientRect().width,
        rootScroll: root.scrollWidth,
        rootClient: root.clientWidth,
        lineScroll: el.scrollWidth,
        lineClient: el.clientWidth,
        lineLeft: el.getBoundingClientRect().left,
        lineRight: el.getBoundingClientRect().right,
        cardLeft: c.getBoundingClientRect().left,
        cardRight: c.getBoundingClientRect().right,
        lines: Math.round(el.getBoundingClientRect().height / lineHeight),
      };
    }, reopened.id);
    expect(fit.width).toBeLessThanOrEqual(340);
    expect(fit.rootScroll).toBeLessThanOrEqual(fit.rootClient);
    expect(fit.lineScroll).toBeLessThanOrEqual(fit.lineClient);
    expect(fit.lineLeft).toBeGreaterThanOrEqual(fit.cardLeft);
    expect(fit.lineRight).toBeLessThanOrEqual(fit.cardRight);
    // The reason is longer than one line at 340 px: it wraps rather than overflowing or clipping.
    expect(fit.lines).toBeGreaterThanOrEqual(2);

    const light = await colours(line);
    expect(light.text).toBe(light.muted);
    expect(contrast(light.text, light.behind)).toBeGreaterThanOrEqual(4.5);
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await expect.poll(async () => (await colours(line)).behind).not.toBe(light.behind);
    const dark = await colours(line);
    expect(dark.text).not.toBe(light.text);
    expect(dark.text).toBe(dark.muted);
    expect(contrast(dark.text, dark.behind)).toBeGreaterThanOrEqual(4.5);
    expect(errors).toEqual([]);
    await page.close();
  });
});
