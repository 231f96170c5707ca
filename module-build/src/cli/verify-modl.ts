/** `npm run verify [-- FILE.modl ...]`: checks every given module (default: all in dist/). Exit 1 on any problem. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyModule } from '../verify.ts';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const args = process.argv.slice(2);
const files =
  args.length > 0
    ? args
    : existsSync(dist)
      ? readdirSync(dist)
          .filter((f) => f.endsWith('.modl'))
          .sort()
          .map((f) => join(dist, f))
      : [];
if (files.length === 0) {
  console.error('no .modl to verify: run npm run build:modl first or name the files');
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  const unsigned = file.endsWith('.unsigned.modl');
  const r = verifyModule(readFileSync(file), { requireSigned: !unsigned });
  if (r.ok) {
    const sig = r.signed
      ? `${r.signedEntries} entries signed by ${r.signerSubject ?? '?'}`
      : 'unsigned (as named)';
    console.log(
      `OK    ${file}: ${r.moduleId ?? '?'} ${r.version ?? '?'}, ${r.entries.length} entries, ${sig}`,
    );
  } else {
    failed++;
    console.log(`FAIL  ${file}:\n  ${r.problems.join('\n  ')}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
