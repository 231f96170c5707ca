/**
 * Merges keys into bench/results.json, the file `npm run bench` writes (gateway-sidecar/bench) and
 * its copy at the repository root that DESIGN.md names, leaving every other key as it is. For
 * figures produced outside `npm run bench` (the soak).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const RESULTS_FILES = [join(here, 'results.json'), join(here, '..', '..', 'bench', 'results.json')];

/** Returns the paths written. */
export function mergeBenchResults(entries: Record<string, unknown>): string[] {
  const primary = RESULTS_FILES[0] as string;
  const previous: Record<string, unknown> = existsSync(primary)
    ? (JSON.parse(readFileSync(primary, 'utf8')) as Record<string, unknown>)
    : {};
  const merged = { ...previous, ...entries };
  const text = `${JSON.stringify(merged, null, 2)}\n`;
  for (const f of RESULTS_FILES) {
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, text);
  }
  return RESULTS_FILES;
}
