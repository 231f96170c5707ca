/**
 * The Perspective component's build output and descriptor inputs: the bundle and CSS from
 * `perspective-component/dist` (built on demand), the props schema `props.json` and the script
 * events `events.json` ([{name, description, schema}]).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ModuleBuildError } from './build-error.ts';
import { listFiles } from './java-build.ts';
import type { ZipEntryInput } from './zip/zip-writer.ts';

export interface ComponentInputs {
  /** Files for mounted/ in the gateway jar, named relative to dist/. */
  readonly mounted: ZipEntryInput[];
  /** js.N / css.N lines naming top-level bundle files, read by the Java descriptor. */
  readonly webResources: string;
  readonly propsSchema: Buffer;
  readonly events: Buffer;
}

export function ensureBundle(repoRoot: string, componentDir: string, log: (line: string) => void): void {
  const dist = join(componentDir, 'dist');
  if (existsSync(dist) && listFiles(dist, '.js').length > 0) return;
  log(`${dist} has no bundle; running npm run build -w perspective-component`);
  const r = spawnSync('npm', ['run', 'build', '-w', 'perspective-component'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error || r.status !== 0 || listFiles(dist, '.js').length === 0) {
    const why = r.error
      ? r.error.message
      : `exit ${String(r.status)}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-15).join('\n')}`;
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `the component bundle is missing and building it failed (${why}); fix the component build or pass --component-dir`,
    );
  }
}

/** Webpack's output name (perspective-component/webpack.config.js); the other dist files are preview-only. */
export const BUNDLE_BASENAME = 'aimonitor-components';

export function readComponentInputs(componentDir: string): ComponentInputs {
  const dist = join(componentDir, 'dist');
  // Only the bundle and its CSS ship: perspective-stand-in.js and vendor/ exist for the preview host
  // and would shadow Perspective's own globals if a gateway served them.
  const js = `${BUNDLE_BASENAME}.js`;
  const css = `${BUNDLE_BASENAME}.css`;
  if (!existsSync(join(dist, js)))
    throw new ModuleBuildError('MB_ERR_INPUT_MISSING', `${join(dist, js)} (the component bundle) is missing`);
  const mounted: ZipEntryInput[] = [{ name: js, data: readFileSync(join(dist, js)) }];
  const lines = [`js.0=${js}`];
  if (existsSync(join(dist, css))) {
    mounted.push({ name: css, data: readFileSync(join(dist, css)) });
    lines.push(`css.0=${css}`);
  }
  const propsFile = join(componentDir, 'props.json');
  if (!existsSync(propsFile))
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `${propsFile} (the component's props JSON schema) is missing`,
    );
  const propsSchema = readFileSync(propsFile);
  try {
    JSON.parse(propsSchema.toString('utf8'));
  } catch (err) {
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `${propsFile} is not JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const eventsFile = join(componentDir, 'events.json');
  if (!existsSync(eventsFile))
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `${eventsFile} (the component's script events) is missing`,
    );
  const events = readFileSync(eventsFile);
  let parsed: unknown;
  try {
    parsed = JSON.parse(events.toString('utf8'));
  } catch (err) {
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `${eventsFile} is not JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (
    !Array.isArray(parsed) ||
    !parsed.every((e) => typeof e === 'object' && e && 'name' in e && 'description' in e && 'schema' in e)
  ) {
    throw new ModuleBuildError(
      'MB_ERR_INPUT_MISSING',
      `${basename(eventsFile)} must be an array of {name, description, schema}`,
    );
  }
  return { mounted, webResources: `${lines.join('\n')}\n`, propsSchema, events };
}
