/**
 * How the database CLIs (`npm run retrain`, `retention`) end: the exit code `main` resolves to, or
 * on an error one line `CODE: message` on stderr (the error's SC_ code, SC_ERR_INTERNAL for anything
 * else) and exit code 1.
 */
import { SidecarError } from '../errors.ts';

export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const code = err instanceof SidecarError ? err.code : 'SC_ERR_INTERNAL';
      process.stderr.write(`${code}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
