/**
 * Shared set-up of the e2e files that drive the panel against a live sidecar:
 *  - `useApiHarness()`: the in-process sidecar API harness serving the preview page and the built
 *    bundle, and one Chromium, started before the file's tests and closed after them;
 *  - `recommendationStatus()`: a recommendation's status as stored in Postgres;
 *  - `approveInPage()` / `expectExecuted()`: the operator's approve flow through the confirmation
 *    dialog (with the two-person rule's second approver in another browser session when the
 *    dialog asks for one), and the check that page and database both show the executed write.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  assertBuilt,
  card,
  DIST_DIR,
  launch,
  PREVIEW_DIR,
  sidecarFixture,
  type ApiHarness,
  type ApiHarnessModule,
} from './browser.ts';

interface Queryable {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface LiveApi {
  /** Valid inside tests (after the file's beforeAll). */
  readonly h: ApiHarness;
  readonly browser: Browser;
  readonly TOKENS: ApiHarnessModule['TOKENS'];
}

/** Registers the file's beforeAll/afterAll for the API harness and a browser. */
export async function useApiHarness(): Promise<LiveApi> {
  const { startApiHarness, TOKENS } = await sidecarFixture<ApiHarnessModule>('api-harness.ts');
  let h: ApiHarness | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    assertBuilt();
    h = await startApiHarness({ overrides: { preview: { previewDir: PREVIEW_DIR, distDir: DIST_DIR } } });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started: use it inside a test`);
    return v;
  };
  return {
    get h() {
      return started(h, 'the API harness');
    },
    get browser() {
      return started(browser, 'the browser');
    },
    TOKENS,
  };
}

export async function recommendationStatus(pool: Queryable, id: string): Promise<string | undefined> {
  const r = await pool.query<{ status: string }>(
    'SELECT status FROM agentic_hmi.agent_recommendations WHERE recommendation_id = $1',
    [id],
  );
  return r.rows[0]?.status;
}

/**
 * Clicks Approve on the card, confirms in the dialog and, when the dialog says the write needs a
 * second approver, approves again as `secondToken` in another browser session.
 * @returns the dialog's text as shown before confirming.
 */
export async function approveInPage(
  page: Page,
  options: { id: string; browser: Browser; baseUrl: string; secondToken: string },
): Promise<string> {
  const { id, browser, baseUrl, secondToken } = options;
  await card(page, id).getByRole('button', { name: 'Approve' }).click();
  const dialog = page.getByRole('dialog', { name: 'Approve recommendation' });
  await dialog.waitFor();
  const text = (await dialog.textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Confirm approve' }).click();
  if (text.includes('needs a second approver')) {
    // Two-person rule: a second operator approves in another browser session.
    await card(page, id)
      .getByText(/waiting for a second approver/)
      .waitFor();
    const second = await browser.newPage();
    await second.goto(`${baseUrl}/#token=${secondToken}`);
    await card(second, id).getByRole('button', { name: 'Approve' }).click();
    await second.getByRole('button', { name: 'Confirm approve' }).click();
    await second.close();
  }
  return text;
}

/** The card turns executed with an "Executed" result, and the database agrees. */
export async function expectExecuted(
  page: Page,
  pool: Queryable,
  id: string,
  timeoutMs: number,
): Promise<void> {
  await card(page, id).and(page.locator('[data-status="executed"]')).waitFor({ timeout: timeoutMs });
  expect(await card(page, id).locator('.aim-result').textContent()).toMatch(/^Executed/);
  expect(await recommendationStatus(pool, id)).toBe('executed');
}
