/**
 * The whole module build as a function (the CLI and the tests call it): component inputs, then
 * per target assemble -> write .unsigned.modl -> sign -> verify -> write .modl, plus
 * build-result.json with sizes and SHA-256 (the gradle plugin's buildResult.json, notes §1.5).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { assembleModule, moduleFileName, TARGETS } from './assemble.ts';
import { ModuleBuildError } from './build-error.ts';
import { ensureBundle, readComponentInputs } from './component-inputs.ts';
import { MODULE_ID } from './constants.ts';
import type { IgnitionTarget } from './module-xml.ts';
import { signModule } from './signing/sign-module.ts';
import { loadSigningMaterial } from './signing/signing-material.ts';
import { verifyModule } from './verify.ts';

export interface BuildOptions {
  readonly moduleBuildDir: string;
  readonly componentDir?: string;
  readonly outDir?: string;
  readonly workDir?: string;
  readonly keyDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly targets?: readonly IgnitionTarget[];
  readonly log?: (line: string) => void;
}

export interface BuiltModule {
  readonly target: IgnitionTarget;
  readonly fileName: string;
  readonly path: string;
  readonly unsignedPath: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface BuildResult {
  readonly moduleId: string;
  readonly version: string;
  readonly signing: string;
  readonly signingSource: 'env' | 'dev-generated' | 'dev-reused';
  readonly modules: BuiltModule[];
}

export function buildModules(opts: BuildOptions): BuildResult {
  const log = opts.log ?? ((line: string) => console.log(line));
  const mb = resolve(opts.moduleBuildDir);
  const repoRoot = resolve(mb, '..');
  const componentDir = resolve(opts.componentDir ?? join(repoRoot, 'perspective-component'));
  const outDir = resolve(opts.outDir ?? join(mb, 'dist'));
  const workDir = resolve(opts.workDir ?? join(mb, 'build'));
  const version = (JSON.parse(readFileSync(join(mb, 'package.json'), 'utf8')) as { version: string }).version;
  ensureBundle(repoRoot, componentDir, log);
  const component = readComponentInputs(componentDir);
  const material = loadSigningMaterial(opts.env ?? process.env, opts.keyDir ?? join(mb, '.keys'));
  if (material.source !== 'env') {
    log(
      `signing with a DEVELOPMENT key (${material.description}); set MODL_SIGNING_KEY and MODL_SIGNING_CHAIN for a real certificate`,
    );
  }
  mkdirSync(outDir, { recursive: true });
  const modules: BuiltModule[] = [];
  for (const target of opts.targets ?? TARGETS) {
    const { modl } = assembleModule({ moduleBuildDir: mb, workDir, version, target, component });
    const unsignedPath = join(outDir, moduleFileName(version, target, false));
    writeFileSync(unsignedPath, modl);
    const signed = signModule(modl, material);
    const report = verifyModule(signed);
    if (!report.ok)
      throw new ModuleBuildError(
        'MB_ERR_VERIFY',
        `the ${target} module failed verification:\n  ${report.problems.join('\n  ')}`,
      );
    const fileName = moduleFileName(version, target, true);
    const path = join(outDir, fileName);
    writeFileSync(path, signed);
    const sha256 = createHash('sha256').update(signed).digest('hex');
    modules.push({ target, fileName, path, unsignedPath, bytes: signed.length, sha256 });
    log(`${fileName}  ${signed.length} bytes  sha256 ${sha256}  (${report.signedEntries} entries signed)`);
  }
  const result: BuildResult = {
    moduleId: MODULE_ID,
    version,
    signing: material.description,
    signingSource: material.source,
    modules,
  };
  writeFileSync(
    join(outDir, 'build-result.json'),
    `${JSON.stringify({ ...result, modules: modules.map(({ path: _p, unsignedPath: _u, ...m }) => m) }, null, 2)}\n`,
  );
  return result;
}
