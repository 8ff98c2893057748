/** Structured log fields; secrets must be masked before they get here. */
export type LogFields = Record<string, unknown>;

/** The small logger interface libraries take; apps adapt a real logger to it. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const noop = () => {};
/** A logger that drops everything: the default for libraries. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
