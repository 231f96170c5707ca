/**
 * `npm run bench [-- name...]`: discovers every bench/*.bench.ts, runs each module's exported
 * `run()` (optionally only those whose file name contains one of the arguments), prints one table
 * of all keys and merges them into bench/results.json together with the run's conditions.
 * Each bench warms up and repeats by itself and reports how (its own `*_runs` / duration keys).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type BenchResult = Record<string, number | string | object>;
interface BenchModule {
  run(): Promise<BenchResult>;
}

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no bench/*.bench.ts matches ${filters.join(' ')}\n`);
  process.exit(1);
}

const resultsPath = join(here, 'results.json');
const previous: Record<string, unknown> = existsSync(resultsPath)
  ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown>)
  : {};
const merged: Record<string, unknown> = { ...previous };
const benches: Record<string, { duration_ms: number; ok: boolean; error?: string }> = {
  ...((previous.conditions as { benches?: Record<string, { duration_ms: number; ok: boolean }> } | undefined)
    ?.benches ?? {}),
};
const rows: [string, string][] = [];
let failed = 0;
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, '');
  process.stderr.write(`running ${name}...\n`);
  const t0 = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
    const r = await mod.run();
    for (const [k, v] of Object.entries(r)) {
      merged[k] = v;
      rows.push([
        k,
        typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : JSON.stringify(v),
      ]);
    }
    benches[name] = { duration_ms: Math.round(performance.now() - t0), ok: true };
  } catch (err) {
    failed++;
    benches[name] = {
      duration_ms: Math.round(performance.now() - t0),
      ok: false,
      error: err instanceof Error ? err.message : String(err),
    };
    rows.push([`${name} FAILED`, err instanceof Error ? err.message : String(err)]);
  }
}
merged.conditions = {
  node: process.version,
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memory_bytes: totalmem(),
  platform: `${process.platform}-${process.arch}`,
  updated_at: new Date().toISOString(),
  benches,
};
writeFileSync(resultsPath, `${JSON.stringify(merged, null, 2)}\n`);
// DESIGN.md names bench/results.json at the repository root; keep an identical copy there.
const rootResults = join(here, '..', '..', 'bench', 'results.json');
mkdirSync(dirname(rootResults), { recursive: true });
writeFileSync(rootResults, `${JSON.stringify(merged, null, 2)}\n`);
const w = Math.max(...rows.map(([k]) => k.length));
process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
process.stdout.write(`results merged into ${resultsPath}\n`);
process.exit(failed > 0 ? 1 : 0);
