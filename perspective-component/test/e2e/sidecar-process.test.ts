/**
 * End to end against the real sidecar process (gateway-sidecar/src/main.ts) on a fresh Postgres
 * database, with the simulated plant injecting faults quickly: a simulated fault becomes a
 * recommendation in the page, an operator approves it, the setpoint write executes and the page
 * and the database agree; then the sidecar restarts and the page shows the outage, reconnects by
 * itself and keeps working.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import {
  assertBuilt,
  card,
  launch,
  sidecarFixture,
  watchErrors,
  type PgFixtureModule,
  type SidecarProcess,
  type SidecarProcessModule,
} from './browser.ts';
import { approveInPage, expectExecuted, recommendationStatus } from './live-panel.ts';

const MAIN = fileURLToPath(new URL('../../../gateway-sidecar/src/main.ts', import.meta.url));
const TOKENS = {
  operator: 'e2e-operator-token-0123456789',
  operator2: 'e2e-operator2-token-0123456789',
  viewer: 'e2e-viewer-token-0123456789',
};

describe.skipIf(!existsSync(MAIN))('recommendations panel against the running sidecar', () => {
  let sidecar: SidecarProcess;
  let fixtures: SidecarProcessModule;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let configFile: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-e2e-data-'));

  beforeAll(async () => {
    assertBuilt();
    fixtures = await sidecarFixture<SidecarProcessModule>('sidecar-process.ts');
    db = await (await sidecarFixture<PgFixtureModule>('pg.ts')).createTestDatabase('pc_e2e');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    configFile = fixtures.writeConfig({
      database: { url: db.url },
      dataDir,
      // 60 simulated seconds per real second and a fault every simulated minute: faults within seconds.
      source: { kind: 'simulator', simulator: { faultEveryMinutes: 1, speed: 60 } },
      auth: {
        tokens: [
          { token: TOKENS.operator, user: 'otto', roles: ['operator'] },
          { token: TOKENS.operator2, user: 'olga', roles: ['operator'] },
          { token: TOKENS.viewer, user: 'vera', roles: ['viewer'] },
        ],
      },
    });
    sidecar = await fixtures.startSidecar({ configFile });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await sidecar?.kill();
    await pool?.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a simulated fault appears; approving it executes the setpoint write (page and database)', async () => {
    await page.goto(`${sidecar.baseUrl}/#token=${TOKENS.operator}`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const actionable = page.locator('li[data-status="pending"]:has(.aim-action-values)').first();
    await actionable.waitFor({ timeout: 90_000 });
    const id = (await actionable.getAttribute('data-recommendation-id')) as string;

    // Locators are lazy and new cards re-sort the list: address the chosen card by its id.
    await approveInPage(page, { id, browser, baseUrl: sidecar.baseUrl, secondToken: TOKENS.operator2 });
    await expectExecuted(page, pool, id, 20_000);
    expect(errors).toEqual([]);
  });

  it('shows the outage when the sidecar stops, reconnects when it is back, and keeps working', async () => {
    const port = sidecar.port;
    await sidecar.kill('SIGTERM');
    await page
      .getByRole('status')
      .filter({ hasText: /Reconnecting|Offline/ })
      .waitFor({ timeout: 20_000 });
    sidecar = await fixtures.startSidecar({ configFile, env: { PORT: String(port) } });
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    // The list reloaded from the database and decisions go through the new process.
    await page.locator('li[data-status="executed"]').first().waitFor();
    const pending = page.locator('li[data-status="pending"]').first();
    await pending.waitFor({ timeout: 90_000 });
    const id = (await pending.getAttribute('data-recommendation-id')) as string;
    await card(page, id).getByRole('button', { name: 'Reject' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject recommendation' });
    await dialog.getByRole('textbox').fill('e2e: checked on site, no action needed');
    await dialog.getByRole('button', { name: 'Confirm reject' }).click();
    await expect.poll(() => recommendationStatus(pool, id), { timeout: 10_000 }).toBe('rejected');
    // Errors during the outage are the expected failed fetches; nothing else.
    expect(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|net::/.test(e))).toEqual([]);
  });
});

describe.skipIf(!existsSync(MAIN))('the npm start demo page', () => {
  it('picks up the demo operator token the sidecar injects for loopback requests', async () => {
    const fixtures = await sidecarFixture<SidecarProcessModule>('sidecar-process.ts');
    const db = await (await sidecarFixture<PgFixtureModule>('pg.ts')).createTestDatabase('pc_demo');
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-demo-data-'));
    // No auth configured: the sidecar generates demo tokens (docs/api.md "Demo tokens").
    const sidecar = await fixtures.startSidecar({
      configFile: fixtures.writeConfig({
        database: { url: db.url },
        dataDir,
        source: { kind: 'simulator', simulator: { speed: 60 } },
      }),
    });
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const errors = watchErrors(page);
      await page.goto(`${sidecar.baseUrl}/`);
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      await page.locator('.aim-empty, .aim-list').first().waitFor();
      expect(await page.locator('#pv-token-form').isHidden()).toBe(true);
      expect(await page.locator('.aim-error').count()).toBe(0);
      // The demo token is an operator's: decisions are enabled.
      expect(await page.locator('.aim-disabled-reason').count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await sidecar.kill();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
