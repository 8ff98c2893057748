import { EXIT_CODES, type ExitCode } from '@mcpproxy/contracts';

export { EXIT_CODES, type ExitCode };

/** Why `serve()` could not start. */
export type ServeErrorCode =
  | 'PORT_IN_USE'
  | 'DATA_DIR_LOCKED'
  | 'CONFIG_INVALID'
  | 'PERMISSION_DENIED'
  /** Anything else: a corrupt approvals file, an unexpected I/O error. */
  | 'START_FAILED';

const EXIT_OF: Readonly<Record<ServeErrorCode, ExitCode>> = {
  PORT_IN_USE: EXIT_CODES.PORT_IN_USE,
  DATA_DIR_LOCKED: EXIT_CODES.DATA_DIR_LOCKED,
  CONFIG_INVALID: EXIT_CODES.CONFIG_INVALID,
  PERMISSION_DENIED: EXIT_CODES.PERMISSION_DENIED,
  START_FAILED: EXIT_CODES.ERROR,
};

/** The one error class of `@mcpproxy/server`'s start-up: `exitCode` is what the process should exit with. */
export class ServeError extends Error {
  /** The process exit code for this failure. */
  readonly exitCode: ExitCode;
  /** For `CONFIG_INVALID`: each broken rule with its JSON path (or the variable/flag that broke it). */
  readonly issues: readonly { path: string; rule: string; message: string }[] | undefined;

  constructor(
    readonly code: ServeErrorCode,
    message: string,
    options: { cause?: unknown; issues?: readonly { path: string; rule: string; message: string }[] | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServeError';
    this.exitCode = EXIT_OF[code];
    this.issues = options.issues;
  }
}

/** The errno code of an error (`EACCES`, `EADDRINUSE`, …), looking through `cause` chains. */
export function errnoOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error (or one it wraps) is a permission error: `EACCES` or `EPERM`. */
export function isPermissionError(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * The exit code for any error thrown while starting or running: a {@link ServeError}'s own code, `EACCES`/`EPERM`
 * anywhere in the cause chain → 5, `EADDRINUSE` → 2, anything else → 1.
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ServeError) return error.exitCode;
  if (isPermissionError(error)) return EXIT_CODES.PERMISSION_DENIED;
  if (errnoOf(error) === 'EADDRINUSE') return EXIT_CODES.PORT_IN_USE;
  return EXIT_CODES.ERROR;
}
