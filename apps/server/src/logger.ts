import { type LogFields, type Logger, MASK, scrubSecrets } from '@mcpproxy/contracts';
import pino from 'pino';

/** Log levels, most verbose first; `silent` logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** A {@link Logger} (the contracts interface libraries take) backed by pino, plus what the app needs. */
export interface AppLogger extends Logger {
  /** The pino logger behind it, for code that wants pino's API. Its lines are scrubbed the same way. */
  readonly pino: pino.Logger;
  /** A logger whose lines all carry `fields` (e.g. `{component: 'http'}`). */
  child(fields: LogFields): AppLogger;
  /** Flushes buffered lines (a no-op for synchronous destinations). */
  flush(): void;
}

export interface LoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel | undefined;
  /**
   * Where JSON lines go: anything with `write(line)`. @default stderr (synchronous, so nothing is lost on exit)
   */
  destination?: { write(line: string): unknown } | undefined;
  /**
   * The secret values to scrub from every line (header and env values, the API key), read on every line, so it
   * follows config reloads. Return the same array while nothing changed: the escaped forms are cached per array.
   * @default none
   */
  secrets?: (() => readonly string[]) | undefined;
  /** Fields on every line. @default {name: 'mcpproxy'} */
  base?: LogFields | undefined;
}

/**
 * Paths pino masks structurally, before the line is even serialised: the config's secret fields and request
 * credentials. Free text is scrubbed afterwards with the config's secret values.
 */
export const REDACT_PATHS: readonly string[] = [
  'api_key',
  '*.api_key',
  'apikey',
  '*.apikey',
  'headers.*',
  '*.headers.*',
  'env.*',
  '*.env.*',
  'authorization',
  '*.authorization',
  '["x-api-key"]',
  '*["x-api-key"]',
];

/** The forms a secret can take inside a JSON line: raw, and JSON-escaped when it holds quotes or backslashes. */
function lineForms(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if (!s) continue;
    out.add(s);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out.add(escaped);
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * Creates the app's structured logger: pino writing JSON lines (to stderr by default), with known secret paths
 * redacted and every secret value scrubbed from each finished line, whatever field or message it hid in.
 */
export function createLogger({
  level = 'info',
  destination,
  secrets = () => [],
  base = { name: 'mcpproxy' },
}: LoggerOptions = {}): AppLogger {
  let lastSecrets: readonly string[] | undefined;
  let forms: string[] = [];
  const scrub = (line: string): string => {
    const current = secrets();
    if (current !== lastSecrets) {
      lastSecrets = current;
      forms = lineForms(current);
    }
    return forms.length === 0 ? line : scrubSecrets(line, forms);
  };
  const stream = destination ?? pino.destination({ fd: 2, sync: true });
  const root = pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: MASK },
      hooks: { streamWrite: scrub },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream as pino.DestinationStream,
  );
  return wrap(root);
}

function wrap(p: pino.Logger): AppLogger {
  const at =
    (lvl: 'debug' | 'info' | 'warn' | 'error') =>
    (msg: string, fields?: LogFields): void => {
      if (fields === undefined) p[lvl](msg);
      else p[lvl](fields, msg);
    };
  return {
    pino: p,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(p.child(fields)),
    flush: () => p.flush(),
  };
}

/** A logger that drops everything but still satisfies {@link AppLogger}. */
export function createSilentLogger(): AppLogger {
  return createLogger({ level: 'silent', destination: { write: () => {} } });
}
