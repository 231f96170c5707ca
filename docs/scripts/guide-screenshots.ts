/**
 * Takes the screenshots of the operator guide (docs/img/guide-*.png) from the real system: it
 * starts the sidecar (src/main.ts) as a child process on a fresh Postgres database with the
 * simulated plant at high speed and frequent faults, opens the preview page in Chromium, and walks
 * through the decisions the guide describes. Run from the repository root:
 *
 *   npx tsx docs/scripts/guide-screenshots.ts
 *
 * Needs Postgres on 127.0.0.1:5432 (PG_ADMIN_URL to change), /usr/bin/chromium and a built
 * component bundle (npm run build -w perspective-component).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Locator, type Page } from 'playwright-core';
import { createTestDatabase } from '../../gateway-sidecar/test/fixtures/pg.ts';
import { startSidecar, writeConfig } from '../../gateway-sidecar/test/fixtures/sidecar-process.ts';

const IMG = fileURLToPath(new URL('../img/', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'guide-shots-'));
const db = await createTestDatabase('guide_shots');
const configFile = writeConfig({
  source: { kind: 'simulator', simulator: { seed: 42, tickMs: 1000, faultEveryMinutes: 1, speed: 10 } },
});
const sidecar = await startSidecar({ configFile, env: { DATABASE_URL: db.url, DATA_DIR: dataDir } });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

/** Waits for a condition by polling; the plant is simulated in real time, so this takes minutes. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function byId(page: Page, id: string): Locator {
  return page.locator(`li[data-recommendation-id="${id}"]`);
}

/** Target: an element, the preview frame (default), or 'page' for dialogs, which overlay the viewport. */
async function shot(page: Page, name: string, target?: Locator | 'page'): Promise<void> {
  const path = join(IMG, `guide-${name}.png`);
  if (target === 'page') await page.screenshot({ path });
  else await (target ?? page.locator('#pv-frame')).screenshot({ path });
  console.log(`wrote ${path}`);
}

try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${sidecar.baseUrl}/`);
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 60_000 });

  // A single-approver setpoint change; cards are pinned by id below because new ones arriving
  // re-sort the list under a positional locator.
  const withAction = page.locator(
    'li[data-status="pending"]:has(.aim-action-values):not(:has(.aim-two-person))',
  );
  const pending = page.locator('li[data-status="pending"]');
  await until(
    'two pending recommendations, one with a setpoint change',
    async () => (await pending.count()) >= 2 && (await withAction.count()) >= 1,
  );
  await shot(page, 'panel');

  // Selecting a card highlights it; its explanation (top contributing signals) is always shown.
  const id = (await withAction.first().getAttribute('data-recommendation-id')) as string;
  const card = byId(page, id);
  await card.locator('.aim-card-title').click();
  await shot(page, 'card', card);

  // Approve: the confirmation dialog shows the exact write.
  await card.getByRole('button', { name: 'Approve' }).click();
  const approveDialog = page.getByRole('dialog', { name: 'Approve recommendation' });
  await approveDialog.waitFor();
  await shot(page, 'approve-dialog', 'page');
  await approveDialog.getByRole('button', { name: 'Confirm approve' }).click();
  const decided = page.locator(`li[data-recommendation-id="${id}"]`);
  await until(
    'the approved write to finish',
    async () => {
      const s = await decided.getAttribute('data-status').catch(() => null);
      return s === 'executed' || s === 'failed';
    },
    60_000,
  );
  await shot(page, 'executed', decided);

  // Reject: a note is required; the dialog says so until one is typed.
  const other = byId(
    page,
    (await page
      .locator('li[data-status="pending"]')
      .first()
      .getAttribute('data-recommendation-id')) as string,
  );
  await other.getByRole('button', { name: 'Reject' }).click();
  const rejectDialog = page.getByRole('dialog', { name: 'Reject recommendation' });
  await rejectDialog.waitFor();
  await rejectDialog.getByRole('button', { name: 'Confirm reject' }).click();
  await rejectDialog.getByRole('alert').waitFor();
  await rejectDialog
    .locator('textarea')
    .fill('Cooling water valve was already being serviced; not a process fault.');
  await shot(page, 'reject-dialog', 'page');
  await rejectDialog.getByRole('button', { name: 'Confirm reject' }).click();
  await rejectDialog.waitFor({ state: 'detached' });

  // Two-person rule: the first approval is recorded and the card waits for a second approver.
  const largeAny = page.locator('li[data-status="pending"]:has(.aim-two-person)');
  await until('a pending change that needs two approvers', async () => (await largeAny.count()) > 0, 120_000);
  const largeId = (await largeAny.first().getAttribute('data-recommendation-id')) as string;
  const large = byId(page, largeId);
  await large.getByRole('button', { name: 'Approve' }).click();
  const twoDialog = page.getByRole('dialog', { name: 'Approve recommendation' });
  await twoDialog.locator('.aim-dialog-two-person').waitFor();
  await shot(page, 'two-person-dialog', 'page');
  await twoDialog.getByRole('button', { name: 'Confirm approve' }).click();
  await large.locator('.aim-approvals').waitFor({ timeout: 30_000 });
  await shot(page, 'two-person-recorded', large);

  // Defer: the dialog offers the configured durations.
  const later = byId(
    page,
    (await page
      .locator('li[data-status="pending"]')
      .first()
      .getAttribute('data-recommendation-id')) as string,
  );
  await later.getByRole('button', { name: 'Defer' }).click();
  const deferDialog = page.getByRole('dialog', { name: 'Defer recommendation' });
  await deferDialog.waitFor();
  await shot(page, 'defer-dialog', 'page');
  await deferDialog.getByRole('button', { name: 'Confirm defer' }).click();
  await deferDialog.waitFor({ state: 'detached' });

  // Dark theme.
  await page.locator('#pv-theme').click();
  await until(
    'the dark theme',
    async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === 'dark',
    10_000,
  );
  await shot(page, 'dark');
  await page.locator('#pv-theme').click();

  // Critical alerts appear above the list when the bypass fires (the simulator's faults may not
  // cross a critical limit in the time allowed; then there is no screenshot of one).
  const alerts = page.locator('.aim-alerts');
  try {
    await until('a critical alert', async () => (await alerts.count()) > 0, 120_000);
    await shot(page, 'critical');
  } catch {
    console.log('no critical alert within 2 minutes: guide-critical.png not taken');
  }
} finally {
  await browser.close();
  await sidecar.kill('SIGTERM');
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
