/** `npm run build:modl [-- --component-dir DIR --out-dir DIR --target 8.1|8.3]` */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ModuleBuildError } from '../build-error.ts';
import { buildModules } from '../build-modl.ts';
import type { IgnitionTarget } from '../module-xml.ts';

const { values } = parseArgs({
  options: {
    'component-dir': { type: 'string' },
    'out-dir': { type: 'string' },
    target: { type: 'string', multiple: true },
  },
});
const targets = values.target?.map((t) => {
  if (t !== '8.1' && t !== '8.3') {
    console.error(`--target must be 8.1 or 8.3, got '${t}'`);
    process.exit(2);
  }
  return t as IgnitionTarget;
});
try {
  buildModules({
    moduleBuildDir: join(dirname(fileURLToPath(import.meta.url)), '..', '..'),
    componentDir: values['component-dir'],
    outDir: values['out-dir'],
    targets,
  });
} catch (err) {
  if (err instanceof ModuleBuildError) {
    console.error(`build:modl failed [${err.code}]: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
