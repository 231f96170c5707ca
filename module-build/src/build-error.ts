/** One error type for the module build: a stable code the CLI and tests branch on, and a message saying what was wrong. */
export type BuildErrorCode =
  'MB_ERR_ZIP' | 'MB_ERR_INPUT_MISSING' | 'MB_ERR_JAVAC' | 'MB_ERR_SIGNING_KEY' | 'MB_ERR_VERIFY';

export class ModuleBuildError extends Error {
  readonly code: BuildErrorCode;
  constructor(code: BuildErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModuleBuildError';
    this.code = code;
  }
}
