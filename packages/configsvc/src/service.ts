import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { mkdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import {
  type Config,
  defaultConfig,
  formatValidationIssues,
  jsonEqual,
  parseConfig,
  silentLogger,
  systemClock,
  type TimerHandle,
  toFileConfig,
  type ValidationIssue,
} from '@mcpproxy/contracts';
import { type Draft, produce } from 'immer';
import { sweepTempFiles, writeFileAtomic } from './atomic.js';
import { ConfigError, type JsonLocation } from './errors.js';
import { parseJson } from './json.js';
import type { ConfigRecipe, ConfigService, ConfigServiceOptions } from './types.js';
import { deepFreeze, sha256 } from './util.js';

type Layer = Partial<Pick<Config, 'listen' | 'api_key'>>;
type Listener = (config: Config, previous: Config) => void;

type Loaded =
  | { ok: true; config: Config; serversAsObject: boolean }
  | { ok: false; issues: ValidationIssue[]; location?: JsonLocation | undefined };

interface FileState {
  text: string;
  hash: string;
}

/** Marks `failedHash` when the file is gone, so repeated watch events report the deletion once. */
const MISSING = 'missing';

/**
 * Opens (or, on first run, creates) the config file and returns the service that owns it.
 * Rejects with {@link ConfigError}: `INVALID_CONFIG` (with `issues`, or `location` for malformed JSON),
 * `CONFIG_READ_FAILED` (unreadable file or directory; `cause` holds the errno error), `CONFIG_WRITE_FAILED`
 * (the directory or the default file cannot be created).
 */
export async function createConfigService({
  path,
  bus,
  env = {},
  overrides = {},
  watch = true,
  debounceMs = 200,
  clock = systemClock,
  logger = silentLogger,
}: ConfigServiceOptions): Promise<ConfigService> {
  const requested = resolve(path);
  try {
    await mkdir(dirname(requested), { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_WRITE_FAILED',
      `cannot create the config directory ${dirname(requested)}: ${errorText(cause)}`,
      {
        cause,
      },
    );
  }
  // A symlinked config (dotfile managers) is saved through to its target, so the link survives the rename.
  const file = await realTarget(requested);
  const fileName = basename(file);
  try {
    await sweepTempFiles(file, logger);
  } catch (cause) {
    throw new ConfigError(
      'CONFIG_READ_FAILED',
      `cannot list the config directory ${dirname(file)}: ${errorText(cause)}`,
      {
        cause,
      },
    );
  }

  let fileConfig: Config;
  let serversAsObject: boolean;
  let known: string;
  const initial = await readFileState(file, requested);
  if (initial === undefined) {
    fileConfig = deepFreeze(defaultConfig());
    serversAsObject = false;
    const text = serialize(fileConfig, serversAsObject);
    try {
      await writeFileAtomic(file, text, logger);
    } catch (cause) {
      throw new ConfigError(
        'CONFIG_WRITE_FAILED',
        `cannot create the default config ${requested}: ${errorText(cause)}`,
        {
          cause,
        },
      );
    }
    known = sha256(text);
    logger.info('configsvc: created a default config', { path: requested });
  } else {
    const loaded = interpret(initial.text);
    if (!loaded.ok) {
      throw new ConfigError(
        'INVALID_CONFIG',
        `invalid config file ${requested}:\n${formatValidationIssues(loaded.issues)}`,
        {
          issues: loaded.issues,
          location: loaded.location,
        },
      );
    }
    fileConfig = loaded.config;
    serversAsObject = loaded.serversAsObject;
    known = initial.hash;
  }

  const layer = overrideLayer(env, overrides);
  const layered = Object.keys(layer).length > 0;
  const effectiveOf = (config: Config): Config => (layered ? deepFreeze({ ...config, ...layer }) : config);

  let effective = effectiveOf(fileConfig);
  // Hash of the last hand edit that was rejected (or MISSING), so one bad save is reported once, not per event.
  let failedHash: string | undefined;
  const listeners = new Set<Listener>();
  let tail: Promise<void> = Promise.resolve();
  let closed = false;
  let closing: Promise<void> | undefined;
  let watcher: FSWatcher | undefined;
  let debounce: TimerHandle | undefined;
  let reloadQueued = false;

  /** Runs tasks one at a time, in call order; a failed task does not break the chain. */
  const serialise = <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.then(
      () => {},
      () => {},
    );
    return run;
  };

  const publish = (data: { source: 'file' | 'api'; ok: boolean; error?: string; issues?: ValidationIssue[] }) => {
    bus?.publish({ type: 'config_reloaded', data });
  };

  const notify = (config: Config, previous: Config) => {
    for (const listener of [...listeners]) {
      try {
        listener(config, previous);
      } catch (error) {
        logger.error('configsvc: a config subscriber threw', { error: errorText(error) });
      }
    }
  };

  /** Takes a validated file config as current; notifies only when it differs from the one it replaces. */
  const adopt = (next: Config, hash: string, nextServersAsObject: boolean): { changed: boolean; previous: Config } => {
    const previous = effective;
    const changed = !jsonEqual(next, fileConfig);
    fileConfig = next;
    serversAsObject = nextServersAsObject;
    known = hash;
    failedHash = undefined;
    if (changed) effective = effectiveOf(next);
    return { changed, previous };
  };

  /** Reports a file that cannot be used, keeps the last good config, and returns the error for the caller. */
  const reject = (source: 'file' | 'api', error: ConfigError, failed: string): ConfigError => {
    failedHash = failed;
    const issues = error.issues ? [...error.issues] : [{ path: '', rule: ruleOf(error), message: error.message }];
    const text = error.issues ? formatValidationIssues(error.issues) : error.message;
    logger.warn('configsvc: config file rejected; keeping the last good config', { source, error: text });
    publish({ source, ok: false, error: text, issues });
    return error;
  };

  /** Reads the file and adopts it if valid; a bad file publishes `ok:false` and rejects. */
  const reloadFromDisk = async (source: 'file' | 'api'): Promise<Config> => {
    let state: FileState | undefined;
    try {
      state = await readFileState(file, requested);
    } catch (error) {
      const code = (error as ConfigError).cause as NodeJS.ErrnoException | undefined;
      const failed = `unreadable:${code?.code ?? ''}`;
      if (source === 'file' && failedHash === failed) throw error;
      throw reject(source, error as ConfigError, failed);
    }
    if (state === undefined) {
      if (source === 'file' && failedHash === MISSING) return effective;
      throw reject(
        source,
        new ConfigError(
          'CONFIG_READ_FAILED',
          `config file ${requested} is missing (deleted or moved); keeping the last good config`,
        ),
        MISSING,
      );
    }
    if (source === 'file') {
      // Our own save (its hash is `known`) or an event that changed nothing: no reload, no event.
      if (state.hash === known && failedHash === undefined) return effective;
      if (state.hash === failedHash) return effective;
    }
    const loaded = interpret(state.text);
    if (!loaded.ok) {
      const error = new ConfigError(
        'INVALID_CONFIG',
        `invalid config file ${requested}:\n${formatValidationIssues(loaded.issues)}`,
        {
          issues: loaded.issues,
          location: loaded.location,
        },
      );
      throw reject(source, error, state.hash);
    }
    const { changed, previous } = adopt(loaded.config, state.hash, loaded.serversAsObject);
    logger.info('configsvc: config reloaded', { source, changed });
    publish({ source, ok: true });
    if (changed) notify(effective, previous);
    return effective;
  };

  const queueReload = () => {
    if (closed || reloadQueued) return;
    reloadQueued = true;
    void serialise(async () => {
      reloadQueued = false;
      if (closed) return;
      // Failures were already published and logged by reloadFromDisk.
      await reloadFromDisk('file').catch(() => {});
    });
  };

  const apply = (next: Config | ConfigRecipe): Promise<Config> => {
    if (closed) return Promise.reject(new ConfigError('CLOSED', 'the config service is closed'));
    return serialise(async () => {
      const base = fileConfig;
      // A plain value skips immer, which would freeze the caller's object.
      const produced =
        typeof next === 'function'
          ? produce(base, (draft: Draft<Config>) => next(draft as Config) as Draft<Config> | undefined)
          : next;
      if (produced === base) return effective;
      const parsed = parseConfig(produced);
      if (!parsed.ok) {
        throw new ConfigError(
          'INVALID_CONFIG',
          `the change does not validate:\n${formatValidationIssues(parsed.issues)}`,
          {
            issues: parsed.issues,
          },
        );
      }
      if (jsonEqual(parsed.value, base)) return effective;
      const config = deepFreeze(parsed.value);
      const text = serialize(config, serversAsObject);

      // Compare the file with what we last read or wrote: a hand edit since then must not be overwritten.
      const onDisk = await readFileState(file, requested);
      if (onDisk === undefined || onDisk.hash !== known) {
        queueReload();
        throw new ConfigError(
          'CONFLICT',
          onDisk === undefined
            ? `config file ${requested} was deleted since it was last read; not recreated`
            : `config file ${requested} changed on disk since it was last read; not overwritten (the edit will be reloaded, then retry)`,
        );
      }
      try {
        await writeFileAtomic(file, text, logger);
      } catch (cause) {
        throw new ConfigError('CONFIG_WRITE_FAILED', `cannot save ${requested}: ${errorText(cause)}`, { cause });
      }
      const { previous } = adopt(config, sha256(text), serversAsObject);
      publish({ source: 'api', ok: true });
      notify(effective, previous);
      return effective;
    });
  };

  if (watch) {
    try {
      // Watch the directory, not the file: editors save by renaming a new file over the old one, which would
      // leave a watch on the old inode deaf.
      watcher = fsWatch(dirname(file), { persistent: false }, (_event, name) => {
        if (closed || (name !== null && name !== fileName)) return;
        clock.clearTimeout(debounce);
        debounce = clock.setTimeout(() => {
          debounce = undefined;
          queueReload();
        }, debounceMs);
      });
      watcher.on('error', (error) => {
        logger.warn('configsvc: watching the config directory failed; hand edits need reload()', {
          error: errorText(error),
        });
      });
    } catch (error) {
      logger.warn('configsvc: cannot watch the config directory; hand edits need reload()', {
        dir: dirname(file),
        error: errorText(error),
      });
    }
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      watcher?.close();
      watcher = undefined;
      clock.clearTimeout(debounce);
      debounce = undefined;
      await tail;
      listeners.clear();
    })();
    return closing;
  };

  return {
    snapshot: () => effective,
    subscribe(listener) {
      if (closed) return () => {};
      const wrapped: Listener = (config, previous) => listener(config, previous);
      listeners.add(wrapped);
      return () => {
        listeners.delete(wrapped);
      };
    },
    apply,
    reload() {
      if (closed) return Promise.reject(new ConfigError('CLOSED', 'the config service is closed'));
      return serialise(() => reloadFromDisk('api'));
    },
    assertWritable(kind) {
      if (effective.read_only_mode) {
        throw new ConfigError('READ_ONLY', 'read_only_mode is on: configuration changes are refused');
      }
      if (kind === 'management' && effective.disable_management) {
        throw new ConfigError('MANAGEMENT_DISABLED', 'disable_management is on: management writes are refused');
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function serialize(config: Config, serversAsObject: boolean): string {
  return `${JSON.stringify(toFileConfig(config, { serversAsObject }), null, 2)}\n`;
}

function interpret(text: string): Loaded {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, issues: [json.issue], location: json.location };
  const parsed = parseConfig(json.value);
  if (!parsed.ok) return { ok: false, issues: parsed.issues };
  const servers = (json.value as Record<string, unknown>).mcpServers;
  return {
    ok: true,
    config: deepFreeze(parsed.value),
    serversAsObject: typeof servers === 'object' && servers !== null && !Array.isArray(servers),
  };
}

/** The file's text and content hash; `undefined` when it does not exist. */
async function readFileState(file: string, shown: string): Promise<FileState | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError('CONFIG_READ_FAILED', `cannot read ${shown}: ${errorText(cause)}`, { cause });
  }
  return { text: bytes.toString('utf8'), hash: sha256(bytes) };
}

async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw new ConfigError('CONFIG_READ_FAILED', `cannot resolve ${path}: ${errorText(cause)}`, { cause });
  }
}

/**
 * Env (`MCPPROXY_LISTEN`, `MCPPROXY_API_KEY`) then flag overrides, each validated by the config's own rule.
 * An empty env variable counts as unset, as shells make `VAR=` easy to leave behind.
 */
function overrideLayer(env: Readonly<Record<string, string | undefined>>, overrides: Layer): Layer {
  const candidates: Array<[key: keyof Layer, value: string | undefined, from: string]> = [
    ['listen', env.MCPPROXY_LISTEN || undefined, 'MCPPROXY_LISTEN'],
    ['api_key', env.MCPPROXY_API_KEY || undefined, 'MCPPROXY_API_KEY'],
    ['listen', overrides.listen, 'the listen override'],
    ['api_key', overrides.api_key, 'the api_key override'],
  ];
  const layer: Layer = {};
  const issues: ValidationIssue[] = [];
  for (const [key, value, from] of candidates) {
    if (value === undefined) continue;
    const parsed = parseConfig({ [key]: value });
    if (parsed.ok) layer[key] = parsed.value[key];
    else for (const issue of parsed.issues) issues.push({ ...issue, message: `${issue.message} (from ${from})` });
  }
  if (issues.length > 0) {
    throw new ConfigError('INVALID_CONFIG', `invalid override:\n${formatValidationIssues(issues)}`, { issues });
  }
  return layer;
}

function ruleOf(error: ConfigError): string {
  if (error.code === 'CONFIG_READ_FAILED') return error.cause === undefined ? 'file_missing' : 'file_unreadable';
  return error.code.toLowerCase();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
