/**
 * Process exit codes of `mcpproxy` (docs/cli.md). The CLI exits with these; the server's `serve()`
 * rejects with an error that carries the one to use.
 */
export const EXIT_CODES = Object.freeze({
  /** Clean exit, including a graceful shutdown on SIGINT/SIGTERM. */
  OK: 0,
  /** Any other failure. */
  ERROR: 1,
  /** The listen address is already in use. */
  PORT_IN_USE: 2,
  /** Another running instance holds the data dir's lock. */
  DATA_DIR_LOCKED: 3,
  /** The config (file, env or flags) is invalid, or a non-loopback `listen` has no `api_key`. */
  CONFIG_INVALID: 4,
  /** The config, the data dir or the listen port cannot be accessed. */
  PERMISSION_DENIED: 5,
} as const);

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
