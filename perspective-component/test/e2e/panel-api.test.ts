/**
 * End to end in Chromium: the preview page loads the real bundle on the stand-in runtime and talks
 * to the real HTTP API (createHttpApp) over the real recommendation engine, Postgres store and
 * simulated plant writer (gateway-sidecar/test/fixtures/api-harness.ts). An anomaly fed through the
 * engine appears live; an operator approves it through the confirmation step; the setpoint write
 * executes and the page and the database both show it. A viewer cannot decide. A new
 * recommendation of a pattern decided before shows those decisions ("Earlier on this pattern: …")
 * live, and the line fits the 340 px container.
 */
import { describe, expect, it } from 'vitest';
import type { Recommendation } from '../../src/api/types.ts';
import { card, DOCS_IMG_DIR, watchErrors } from './browser.ts';
import { approveInPage, expectExecuted, recommendationStatus, useApiHarness } from './live-panel.ts';

const live = await useApiHarness();
const { TOKENS } = live;

describe('recommendations panel against the live API', () => {
  it('shows a new recommendation live, approves it with confirmation, and shows the executed write', async () => {
    const page = await live.browser.newPage({ viewport: { width: 1100, height: 760 } });
    const errors = watchErrors(page);
    await page.goto(`${live.h.base}/#token=${TOKENS.operator}`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await page.getByText('No recommendations. Equipment is running normally.').waitFor();

    await live.h.raise(Date.now());
    const first = page.locator('li[data-recommendation-id]').first();
    await first.waitFor();
    const id = (await first.getAttribute('data-recommendation-id')) as string;
    expect(await first.getAttribute('data-status')).toBe('pending');
    expect(await first.locator('.aim-equipment').textContent()).toBe('REACTOR_01');
    await expect.poll(() => first.locator('.aim-action-values').count()).toBe(1);

    const dialogText = await approveInPage(page, {
      id,
      browser: live.browser,
      baseUrl: live.h.base,
      secondToken: TOKENS.operator2,
    });
    expect(dialogText).toContain('This writes');
    await expectExecuted(page, live.h.pool, id, 15_000);
    await expect.poll(() => page.locator('#pv-events li').first().textContent()).toContain('onDecision');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a viewer sees the list but cannot decide, and the API refuses a forged attempt', async () => {
    await live.h.raise(Date.now() + 1, { equipment: 'PUMP_02' });
    const page = await live.browser.newPage();
    await page.goto(`${live.h.base}/#token=${TOKENS.viewer}`);
    const pending = page.locator('li[data-status="pending"]').first();
    await pending.waitFor();
    const approve = pending.getByRole('button', { name: 'Approve' });
    await expect.poll(() => approve.isDisabled()).toBe(true);
    expect(await pending.locator('.aim-disabled-reason').textContent()).toContain(
      'can view recommendations but not decide',
    );
    const id = (await pending.getAttribute('data-recommendation-id')) as string;
    const status = await page.evaluate(
      async ([base, token, rid]) => {
        const r = await fetch(`${base}/api/recommendations/${rid}/decision`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ decision: 'approve', expectedVersion: 1 }),
        });
        return r.status;
      },
      [live.h.base, TOKENS.viewer, id] as const,
    );
    expect(status).toBe(403);
    expect(await recommendationStatus(live.h.pool, id)).toBe('pending');
    await page.close();
  });

  it('works by keyboard alone and fits a narrow container', async () => {
    await live.h.raise(Date.now() + 2);
    const page = await live.browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(`${live.h.base}/#token=${TOKENS.operator}`);
    const pending = page.locator('li[data-status="pending"]').first();
    await pending.waitFor();
    // Tab from the page start until the first Reject button has focus.
    const rejectFocused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.textContent === 'Reject' && el.closest('li[data-status="pending"]') !== null;
      });
    for (let i = 0; i < 40 && !(await rejectFocused()); i++) await page.keyboard.press('Tab');
    expect(await rejectFocused()).toBe(true);
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Reject recommendation' });
    await dialog.waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');
    // Tab stays inside the dialog (focus trap), Escape closes it and focus returns to Reject.
    for (let i = 0; i < 5; i++) await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(rejectFocused).toBe(true);

    await page.getByRole('button', { name: 'Narrow container' }).click();
    const overflow = await page.locator('.aim-root').evaluate((el) => ({
      scroll: el.scrollWidth,
      client: el.clientWidth,
      width: el.getBoundingClientRect().width,
    }));
    expect(overflow.width).toBeLessThanOrEqual(340);
    expect(overflow.scroll).toBeLessThanOrEqual(overflow.client);
    await page.close();
  });

  it('saves light and dark screenshots of the panel', async () => {
    const page = await live.browser.newPage({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1 });
    await page.goto(`${live.h.base}/#token=${TOKENS.operator}`);
    await page.locator('li[data-recommendation-id]').nth(1).waitFor();
    const frame = page.locator('#pv-frame');
    await frame.screenshot({ path: `${DOCS_IMG_DIR}component-light.png` });
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const bg = await page.locator('.aim-root').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(bg).toBe('rgb(27, 29, 33)'); // --neutral-00 of the dark theme: the panel follows the theme
    await frame.screenshot({ path: `${DOCS_IMG_DIR}component-dark.png` });
    await page.close();
  });

  it('shows the pattern’s earlier decisions on a new card, live, within 340 px', async () => {
    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const res = await fetch(`${live.h.base}/api${path}`, {
        ...init,
        headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as T;
    };
    const ids = async () =>
      new Set((await api<{ items: Recommendation[] }>('/recommendations?limit=500')).items.map((r) => r.id));
    // An earlier recommendation of the reactor's pattern, rejected with a long note (a long tag
    // path in it must wrap, not widen the card).
    const known = await ids();
    expect(await live.h.raise(Date.now() - 40 * 60_000)).toBe(1);
    const earlier = (await api<{ items: Recommendation[] }>('/recommendations?limit=500')).items.find(
      (r) => !known.has(r.id),
    ) as Recommendation;
    expect(earlier.equipmentId).toBe('REACTOR_01');
    const note =
      'normal cool-down after start-up; [default]Reactors/R01/CoolantFlow_Transmitter_Calibration_Offset ' +
      'was being checked by instrumentation, so the flow reading lagged for twenty minutes';
    const rejected = await api<Recommendation>(
      `/recommendations/${encodeURIComponent(earlier.id)}/decision`,
      {
        method: 'POST',
        body: JSON.stringify({ decision: 'reject', note, expectedVersion: earlier.version }),
      },
    );
    expect(rejected.status).toBe('rejected');

    const page = await live.browser.newPage({ viewport: { width: 1100, height: 760 } });
    const errors = watchErrors(page);
    await page.goto(`${live.h.base}/#token=${TOKENS.operator}`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const before = await ids();
    expect(await live.h.raise(Date.now() - 30 * 60_000)).toBe(1);
    const fresh = [...(await ids())].filter((id) => !before.has(id));
    expect(fresh).toHaveLength(1);
    const id = fresh[0] as string;
    // The oracle: the decided others of the pattern, counted in Postgres.
    const { rows } = await live.h.pool.query<{ approved: string; rejected: string }>(
      `SELECT count(*) FILTER (WHERE status IN ('approved', 'executed', 'failed')) AS approved,
              count(*) FILTER (WHERE status = 'rejected') AS rejected
         FROM agentic_hmi.agent_recommendations
        WHERE equipment_id = 'REACTOR_01' AND issue_type = $1 AND recommendation_id <> $2`,
      [earlier.issueType, id],
    );
    expect(rows[0]?.rejected).toBe('1');
    const line = card(page, id).locator('.aim-history');
    await line.waitFor();
    const text = (await line.textContent()) ?? '';
    expect(text).toMatch(
      new RegExp(`^Earlier on this pattern: ${rows[0]?.approved} approved, 1 rejected — last rejection: “`),
    );
    expect(text).toContain('normal cool-down after start-up; [default]Reactors/R01/CoolantFlow');
    expect(text.endsWith('…”')).toBe(true);
    expect(await line.locator('.aim-history-note').getAttribute('title')).toBe(note);
    // Calm: the line takes the panel's muted text colour, nothing of its own.
    const colours = await line.evaluate((el) => {
      const probe = document.createElement('span');
      probe.style.color = 'var(--aim-muted)';
      el.closest('.aim-root')?.appendChild(probe);
      const muted = getComputedStyle(probe).color;
      probe.remove();
      return { line: getComputedStyle(el).color, muted };
    });
    expect(colours.line).toBe(colours.muted);

    await page.getByRole('button', { name: 'Narrow container' }).click();
    const fit = await page.locator('.aim-root').evaluate((root) => {
      const el = root.querySelector('.aim-history') as HTMLElement;
      const card = el.closest('li') as HTMLElement;
      return {
        width: root.getBoundingClientRect().width,
        rootScroll: root.scrollWidth,
        rootClient: root.clientWidth,
        lineScroll: el.scrollWidth,
        lineClient: el.clientWidth,
        lineRight: el.getBoundingClientRect().right,
        cardRight: card.getBoundingClientRect().right,
      };
    });
    expect(fit.width).toBeLessThanOrEqual(340);
    expect(fit.rootScroll).toBeLessThanOrEqual(fit.rootClient);
    expect(fit.lineScroll).toBeLessThanOrEqual(fit.lineClient);
    expect(fit.lineRight).toBeLessThanOrEqual(fit.cardRight);
    expect(errors).toEqual([]);
    await page.close();
  });
});
