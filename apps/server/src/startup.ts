/**
 * The start-up checks of `serve()` and the exit code each failure carries (docs/cli.md): the data dir, the config,
 * the listen address and its api_key rule, the port. Each failure is a {@link ServeError}; nothing here composes
 * or starts anything.
 */
import { mkdir } from 'node:fs/promises';
import { ConfigError } from '@mcpproxy/configsvc';
import { type Config, isLoopbackHost, parseListen } from '@mcpproxy/contracts';
import { errnoOf, isPermissionError, ServeError } from './exit-codes.js';

/** Where to listen: a host and a port (`0` for any free port). */
export type ListenAddress = NonNullable<ReturnType<typeof parseListen>>;

/**
 * Creates the data dir (mode 0700) if missing.
 * @throws {ServeError} `PERMISSION_DENIED` (exit 5) or `START_FAILED` (exit 1)
 */
export async function makeDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if (isPermissionError(error)) {
      throw new ServeError('PERMISSION_DENIED', `cannot create the data dir ${dataDir}: permission denied`, {
        cause: error,
      });
    }
    throw new ServeError('START_FAILED', `cannot create the data dir ${dataDir}: ${String(error)}`, { cause: error });
  }
}

/** Maps a config service failure to a start-up failure with its exit code. */
export function configStartError(error: unknown, path: string): ServeError {
  if (error instanceof ConfigError) {
    if (error.code === 'INVALID_CONFIG') {
      return new ServeError('CONFIG_INVALID', `invalid config ${path}: ${error.message}`, {
        cause: error,
        issues: error.issues,
      });
    }
    if (isPermissionError(error)) {
      return new ServeError('PERMISSION_DENIED', `cannot access the config ${path}: permission denied`, {
        cause: error,
      });
    }
    return new ServeError('CONFIG_INVALID', `cannot use the config ${path}: ${error.message}`, { cause: error });
  }
  if (isPermissionError(error)) {
    return new ServeError('PERMISSION_DENIED', `cannot access ${path}: permission denied`, { cause: error });
  }
  return new ServeError('START_FAILED', `cannot load the config ${path}: ${String(error)}`, { cause: error });
}

/**
 * Reads the config's `listen`: `undefined` for `""` (no HTTP). A non-loopback address needs an `api_key`, so the
 * API is never open to the network by accident.
 * @throws {ServeError} `CONFIG_INVALID` (exit 4)
 */
export function checkListen(config: Pick<Config, 'listen' | 'api_key'>): ListenAddress | undefined {
  const spec = config.listen;
  if (spec === '') return undefined;
  const parsed = parseListen(spec);
  if (!parsed) throw new ServeError('CONFIG_INVALID', `invalid listen address "${spec}"`);
  if (!isLoopbackHost(parsed.host) && !config.api_key) {
    throw new ServeError(
      'CONFIG_INVALID',
      `refusing to listen on ${spec} without an api_key: set "api_key" in the config or MCPPROXY_API_KEY, ` +
        'or listen on 127.0.0.1',
      {
        issues: [
          { path: 'api_key', rule: 'required_off_loopback', message: 'is required when listen is not loopback' },
        ],
      },
    );
  }
  return parsed;
}

/** Maps a failed `listen()` to a start-up failure: port in use (2), not allowed (5), no such address (4). */
export function listenError(error: unknown, listen: string): ServeError {
  const code = errnoOf(error);
  if (code === 'EADDRINUSE') return new ServeError('PORT_IN_USE', `${listen} is already in use`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new ServeError('PERMISSION_DENIED', `not allowed to listen on ${listen}`, { cause: error });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ServeError('CONFIG_INVALID', `cannot listen on ${listen}: no such local address`, { cause: error });
  }
  return new ServeError('START_FAILED', `cannot listen on ${listen}: ${String(error)}`, { cause: error });
}
