/** Shared e2e helpers: Debian's Chromium through playwright-core, and the built bundle's location. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const COMPONENT_DIR = fileURLToPath(new URL('../../', import.meta.url));
export const PREVIEW_DIR = fileURLToPath(new URL('../../preview/', import.meta.url));
export const DIST_DIR = fileURLToPath(new URL('../../dist/', import.meta.url));
export const DOCS_IMG_DIR = fileURLToPath(new URL('../../../docs/img/', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function assertBuilt(): void {
  for (const f of ['aimonitor-components.js', 'preview/perspective-stand-in.js', 'vendor/react.js']) {
    if (!existsSync(DIST_DIR + f))
      throw new Error(`dist/${f} is missing: run \`npm run build -w perspective-component\` first`);
  }
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Collects page errors so a test can assert the page ran clean. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** The card of one recommendation. */
export function card(page: Page, id: string) {
  return page.locator(`li[data-recommendation-id="${id}"]`);
}

/**
 * The sidecar's own test fixtures, loaded by path at run time: a static import would pull the
 * sidecar's sources into this workspace's TypeScript project. The shapes below are the parts used.
 */
export interface ApiHarness {
  readonly base: string;
  readonly pool: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> };
  raise(tsMs: number, opts?: { equipment?: 'REACTOR_01' | 'PUMP_02' }): Promise<number>;
  close(): Promise<void>;
}
export interface ApiHarnessModule {
  startApiHarness(options: { overrides?: Record<string, unknown> }): Promise<ApiHarness>;
  readonly TOKENS: {
    readonly viewer: string;
    readonly operator: string;
    readonly operator2: string;
    readonly engineer: string;
  };
}

const SIDECAR_FIXTURES = new URL('../../../gateway-sidecar/test/fixtures/', import.meta.url);

export async function sidecarFixture<T>(file: string): Promise<T> {
  const url: string = new URL(file, SIDECAR_FIXTURES).href;
  return (await import(/* @vite-ignore */ url)) as T;
}

export interface SidecarProcess {
  readonly port: number;
  readonly baseUrl: string;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
export interface SidecarProcessModule {
  startSidecar(options: {
    configFile?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
  }): Promise<SidecarProcess>;
  writeConfig(config: Record<string, unknown>): string;
}
export interface PgFixtureModule {
  createTestDatabase(prefix?: string): Promise<{ url: string; name: string; drop(): Promise<void> }>;
}
