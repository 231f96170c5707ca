/**
 * A page opened or reloaded during an emergency shows it: real Chromium, the real sidecar process
 * (src/main.ts) on a fresh Postgres database, critical alerts recorded in
 * mining_operations.critical_alerts as the bypass records them. The simulated plant injects no
 * faults here, so the only alerts are the ones this test writes.
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
  launch,
  sidecarFixture,
  watchErrors,
  type PgFixtureModule,
  type SidecarProcess,
  type SidecarProcessModule,
} from './browser.ts';

const MAIN = fileURLToPath(new URL('../../../gateway-sidecar/src/main.ts', import.meta.url));
const TOKEN = 'e2e-alerts-viewer-token-0123456789';

describe.skipIf(!existsSync(MAIN))('critical alerts after a page load', () => {
  let sidecar: SidecarProcess;
  let db: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-alerts-data-'));

  const record = async (id: string, minutesAgo: number): Promise<string> => {
    const message = `EMERGENCY: REACTOR_01 temperature 101.0 °C >= emergency level 95 °C [${id}]`;
    await pool.query(
      `INSERT INTO mining_operations.critical_alerts
         (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
       VALUES ($1, 'REACTOR_01', 'temperature', '[default]Reactors/R01/Temperature', 101, 95, 'emergency', $2,
               now() - make_interval(mins => $3))`,
      [id, message, minutesAgo],
    );
    return message;
  };

  beforeAll(async () => {
    assertBuilt();
    const fixtures = await sidecarFixture<SidecarProcessModule>('sidecar-process.ts');
    db = await (await sidecarFixture<PgFixtureModule>('pg.ts')).createTestDatabase('pc_alerts');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    sidecar = await fixtures.startSidecar({
      configFile: fixtures.writeConfig({
        database: { url: db.url },
        dataDir,
        source: { kind: 'simulator', simulator: { faultEveryMinutes: 0, speed: 1 } },
        auth: { tokens: [{ token: TOKEN, user: 'vera', roles: ['viewer'] }] },
      }),
    });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    errors = watchErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await sidecar?.kill();
    await pool?.end();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the alerts of the last hour on load, newest first, with their age; not older ones', async () => {
    const recent = await record('alert-recent', 5);
    await record('alert-stale', 90);
    await page.goto(`${sidecar.baseUrl}/#token=${TOKEN}`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    const banner = page.getByRole('list', { name: 'Critical alerts' });
    await banner.waitFor({ timeout: 10_000 });
    const lines = banner.getByRole('alert');
    await expect.poll(() => lines.allTextContents()).toEqual([`${recent}5 min ago`]);

    // The line reads as one sentence: the message on the left, its age on the right of the same row.
    const li = await lines.first().boundingBox();
    const text = await lines.first().locator('.aim-alert-text').boundingBox();
    const time = await lines.first().locator('time').boundingBox();
    expect(li && text && time).toBeTruthy();
    if (li && text && time) {
      expect(text.x - li.x).toBeLessThan(20);
      expect(li.x + li.width - (time.x + time.width)).toBeLessThan(20);
      expect(Math.abs(text.y + text.height / 2 - (time.y + time.height / 2))).toBeLessThan(12);
    }
    expect((await lines.first().textContent())?.split('REACTOR_01').length).toBe(2);

    // A reload during the emergency brings them back, with a newer one first.
    const newer = await record('alert-newer', 1);
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await expect
      .poll(() => page.getByRole('list', { name: 'Critical alerts' }).getByRole('alert').allTextContents())
      .toEqual([`${newer}1 min ago`, `${recent}5 min ago`]);
    expect(errors).toEqual([]);
  });
});
