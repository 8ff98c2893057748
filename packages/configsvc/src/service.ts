import { type FSWatcher, watch as fsWatch } from 'node:fs';
import { mkdir, readFile, readlink } from 'node:fs/promises';
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
  // A symlinked config (dotfile managers) is read, watched and saved through to its target, so the link survives
  // the rename. The link may be created, retargeted or removed while running: every read and save resolves it again.
  let chain = await linkChain(requested);
  let file = chain.at(-1) as string;
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
  /** One watcher per directory that holds a hop of the link chain, with the names in it that matter. */
  const watchers = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
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

  /** Re-resolves the link chain: a link made, retargeted or removed since the last look moves reads and saves. */
  const resolveFile = async (): Promise<void> => {
    let next: string[];
    try {
      next = await linkChain(requested);
    } catch (error) {
      // A loop or an unreadable link: reading `requested` will report it.
      logger.warn('configsvc: cannot resolve the config path', { path: requested, error: errorText(error) });
      next = [requested];
    }
    const before = file;
    chain = next;
    file = chain.at(-1) as string;
    if (file !== before) logger.info('configsvc: the config path now leads to another file', { path: requested, file });
    syncWatchers();
  };

  /** Reads the file and adopts it if valid; a bad file publishes `ok:false` and rejects. */
  const reloadFromDisk = async (source: 'file' | 'api'): Promise<Config> => {
    await resolveFile();
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

      // Compare the file with what we last read or wrote: a hand edit since then must not be overwritten. The path
      // is resolved first, so a link made or retargeted since is compared (and saved) through, never replaced.
      await resolveFile();
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

  const onWatchEvent = (names: Set<string>) => (_event: string, name: string | Buffer | null) => {
    if (closed || (name !== null && !names.has(String(name)))) return;
    clock.clearTimeout(debounce);
    debounce = clock.setTimeout(() => {
      debounce = undefined;
      queueReload();
    }, debounceMs);
  };

  /**
   * Watches the directory of every hop of the link chain, not the files: editors save by renaming a new file over
   * the old one, which would leave a watch on the old inode deaf, and a link's own directory is where the link is
   * made or retargeted. Called at start and whenever the chain is resolved again.
   */
  function syncWatchers(): void {
    if (!watch || closed) return;
    const wanted = new Map<string, Set<string>>();
    for (const hop of chain) {
      const dir = dirname(hop);
      const names = wanted.get(dir) ?? new Set<string>();
      names.add(basename(hop));
      wanted.set(dir, names);
    }
    for (const [dir, entry] of watchers) {
      if (wanted.has(dir)) continue;
      entry.watcher.close();
      watchers.delete(dir);
    }
    for (const [dir, names] of wanted) {
      const entry = watchers.get(dir);
      if (entry) {
        entry.names.clear();
        for (const n of names) entry.names.add(n);
        continue;
      }
      try {
        const watcher = fsWatch(dir, { persistent: false }, onWatchEvent(names));
        watcher.on('error', (error) => {
          logger.warn('configsvc: watching a config directory failed; hand edits need reload()', {
            dir,
            error: errorText(error),
          });
        });
        watchers.set(dir, { watcher, names });
      } catch (error) {
        logger.warn('configsvc: cannot watch a config directory; hand edits need reload()', {
          dir,
          error: errorText(error),
        });
      }
    }
  }
  syncWatchers();

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      for (const { watcher } of watchers.values()) watcher.close();
      watchers.clear();
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

/** Longest chain of symlinks followed, as the kernel's own limit (ELOOP beyond). */
const MAX_LINK_HOPS = 40;

/**
 * The symlink chain from `path` to the file it finally names, one path per hop (just `[path]` when it is not a
 * link). The last one is where reads and saves go; it may not exist yet (a first run, or a dangling link).
 */
async function linkChain(path: string): Promise<string[]> {
  const chain = [path];
  let current = path;
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    let target: string;
    try {
      target = await readlink(current);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      // EINVAL: not a link (the file itself); ENOENT: nothing there yet.
      if (code === 'EINVAL' || code === 'ENOENT') return chain;
      throw new ConfigError('CONFIG_READ_FAILED', `cannot resolve ${path}: ${errorText(cause)}`, { cause });
    }
    current = resolve(dirname(current), target);
    chain.push(current);
  }
  throw new ConfigError('CONFIG_READ_FAILED', `cannot resolve ${path}: more than ${MAX_LINK_HOPS} symlinks`);
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
