/**
 * Three projects:
 *  - unit: store, transports and views in jsdom (Testing Library); the Perspective client module
 *    resolves to the preview's stand-in runtime, since the real one exists only inside Perspective.
 *  - mobx5: the store tests again with `mobx` resolved to MobX 5.15 (what Perspective 8.1 ships).
 *  - e2e: real Chromium against the real sidecar on real Postgres (node environment).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const standIn = fileURLToPath(new URL('./preview/stand-in/perspective-stand-in.ts', import.meta.url));
const mobx5 = fileURLToPath(new URL('../node_modules/mobx5/lib/mobx.module.js', import.meta.url));
const common = {
  oxc: { jsx: { runtime: 'classic' as const } },
  resolve: { alias: { '@inductiveautomation/perspective-client': standIn } },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...common,
        test: {
          name: 'unit',
          environment: 'jsdom',
          env: { EXPECT_MOBX_MAJOR: '6' },
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: ['test/e2e/**'],
        },
      },
      {
        ...common,
        resolve: { alias: { ...common.resolve.alias, mobx: mobx5 } },
        test: {
          name: 'mobx5',
          environment: 'node',
          env: { EXPECT_MOBX_MAJOR: '5' },
          include: ['test/store*.test.ts'],
        },
      },
      {
        ...common,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
