/**
 * Compiles the thin Java hooks with plain `javac` against the compile-only SDK stubs in
 * java/stubs (never packaged), once per Ignition target, and packs jars with the deterministic
 * zip writer.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ModuleBuildError } from './build-error.ts';
import type { IgnitionTarget } from './module-xml.ts';
import { withDirectoryEntries, writeZip, type ZipEntryInput } from './zip/zip-writer.ts';

/** 8.1 gateways run Java 11 or 17, 8.3 runs 17: the bytecode level follows the oldest JVM. */
export const JAVA_RELEASE: Record<IgnitionTarget, number> = { '8.1': 11, '8.3': 17 };

export interface CompiledJava {
  readonly stubs: string;
  readonly common: string;
  readonly gateway: string;
  readonly designer: string;
}

export function listFiles(dir: string, suffix = ''): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(suffix)) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function javac(): string {
  const home = process.env.JAVA_HOME;
  return home && existsSync(join(home, 'bin', 'javac')) ? join(home, 'bin', 'javac') : 'javac';
}

function compile(release: number, classpath: string[], sourceDirs: string[], outDir: string): void {
  const sources = sourceDirs.flatMap((d) => listFiles(d, '.java'));
  if (sources.length === 0)
    throw new ModuleBuildError('MB_ERR_INPUT_MISSING', `no Java sources in ${sourceDirs.join(', ')}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const args = [
    '--release',
    String(release),
    '-encoding',
    'UTF-8',
    '-Xlint:all',
    '-implicit:none',
    '-d',
    outDir,
  ];
  if (classpath.length > 0) args.push('-cp', classpath.join(process.platform === 'win32' ? ';' : ':'));
  const r = spawnSync(javac(), [...args, ...sources], { encoding: 'utf8' });
  if (r.error)
    throw new ModuleBuildError(
      'MB_ERR_JAVAC',
      `cannot run javac (install JDK 17+ or set JAVA_HOME): ${r.error.message}`,
      { cause: r.error },
    );
  if (r.status !== 0)
    throw new ModuleBuildError(
      'MB_ERR_JAVAC',
      `javac --release ${release} failed for ${sourceDirs.join(', ')}:\n${r.stderr}${r.stdout}`,
    );
}

/**
 * Two javac runs per target (javac start-up dominates the build): the SDK stubs, then all module
 * sources together, split into jars by package afterwards. That the designer jar works without
 * the gateway jar is checked by the JVM test, which loads each scope with only its own jars.
 */
export function compileJava(javaDir: string, workDir: string, target: IgnitionTarget): CompiledJava {
  const release = JAVA_RELEASE[target];
  const base = join(workDir, `java-${target}`);
  const stubs = join(base, 'stubs');
  const classes = join(base, 'classes');
  compile(release, [], [join(javaDir, 'stubs', 'sdk'), join(javaDir, 'stubs', `sdk-${target}`)], stubs);
  const src = join(javaDir, 'src');
  compile(
    release,
    [stubs],
    [join(src, 'common'), join(src, 'gateway'), join(src, `gateway-${target}`), join(src, 'designer')],
    classes,
  );
  const pkg = join(classes, 'com', 'aimonitor', 'ignition');
  return {
    stubs,
    common: join(pkg, 'common'),
    gateway: join(pkg, 'gateway'),
    designer: join(pkg, 'designer'),
  };
}

/** Every file under dir as a zip entry named prefix + its forward-slash relative path. */
export function filesAsEntries(dir: string, prefix = ''): ZipEntryInput[] {
  return listFiles(dir).map((p) => ({
    name: prefix + relative(dir, p).split(sep).join('/'),
    data: readFileSync(p),
  }));
}

const MANIFEST = 'Manifest-Version: 1.0\r\nCreated-By: aimonitor module-build\r\n\r\n';

export function buildJar(entries: readonly ZipEntryInput[]): Buffer {
  return writeZip(
    withDirectoryEntries([
      { name: 'META-INF/MANIFEST.MF', data: Buffer.from(MANIFEST, 'latin1') },
      ...entries,
    ]),
  );
}
