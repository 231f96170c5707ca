/**
 * The demo in a real browser: the sidecar started as `npm start` starts it (demo config, embedded
 * database, simulated plant with injected faults, no CONFIG_FILE), Chromium opens
 * http://127.0.0.1:<port>/ with no token of its own, and recommendations from the simulated plant
 * appear live in the Perspective component's preview; the plain page shows them too.
 * With DEMO_SCREENSHOT=<file> it also writes the README screenshot.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startSidecar, type SidecarProcess } from '../fixtures/sidecar-process.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('demo page in Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sidecar-demo-'));
  let sidecar: SidecarProcess;
  let browser: Browser;
  before(async () => {
    sidecar = await startSidecar({ env: { DATA_DIR: dataDir } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  after(async () => {
    await browser?.close();
    await sidecar?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('recommendations from the simulated plant appear live on the preview page', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${sidecar.baseUrl}/`);
    // The token came from the page itself (meta tag), so the API calls succeed and the stream is live.
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    const card = page.locator('li[data-recommendation-id]').first();
    await card.waitFor({ timeout: 150_000 });
    const equipment = await card.locator('.aim-equipment').textContent();
    assert.match(equipment ?? '', /^(REACTOR_01|PUMP_02|CONVEYOR_03)$/);
    assert.deepEqual(errors, []);
    if (process.env.DEMO_SCREENSHOT) {
      // Let a few more arrive so the picture shows a working plant, not a single card.
      await page.waitForTimeout(Number(process.env.DEMO_SCREENSHOT_WAIT_MS ?? 20_000));
      await page.screenshot({ path: process.env.DEMO_SCREENSHOT, fullPage: false });
    }
  });

  test('the plain fallback page at /plain/ goes live and lists recommendations', async () => {
    const plain = await browser.newPage();
    const diag: string[] = [];
    plain.on('console', (m) => diag.push(`console.${m.type()}: ${m.text()}`));
    plain.on('pageerror', (e) => diag.push(`pageerror: ${e.message}`));
    plain.on('requestfailed', (r) => diag.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
    plain.on('response', (r) => diag.push(`response: ${r.status()} ${r.url()}`));
    try {
      await plain.goto(`${sidecar.baseUrl}/plain/`);
      await plain.locator('#conn.live').waitFor({ timeout: 30_000 });
      await plain.locator('#recs tr').first().waitFor({ timeout: 30_000 });
    } catch (err) {
      const conn = await plain.locator('#conn').textContent();
      const error = await plain.locator('#error').textContent();
      throw new Error(`${(err as Error).message}\nconn=${conn} error=${error}\n${diag.join('\n')}`);
    }
    const rows = await plain.locator('#recs tr').count();
    assert.ok(rows >= 1);
  });
});
