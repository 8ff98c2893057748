import type { ServerActor } from '@mcpproxy/actor';
import { type Config, type ServerConfig, type ServerSummary, silentLogger, systemClock } from '@mcpproxy/contracts';
import { makeSummary } from '@mcpproxy/stateview';
import { ManagementError } from './errors.js';
import type { ManagementOptions } from './types.js';

/** A wait that settled in time, or did not. */
export type Bounded<T> = { settled: true; value: T } | { settled: false };

/**
 * What every part of the service shares: its collaborators, lookups of config entries, summaries and actors,
 * bounded waits and the one config write path. Made once per service.
 */
export interface Core extends Required<Omit<ManagementOptions, 'index' | 'onToolCall' | 'onAction'>> {
  index: ManagementOptions['index'];
  onToolCall: ManagementOptions['onToolCall'];
  onAction: ManagementOptions['onAction'];
  /** Whether `close()` ran. */
  readonly closed: boolean;
  /** Config entries by name; cached per snapshot. */
  entriesOf(cfg: Config): Map<string, ServerConfig>;
  /** The entry of `name` in the current snapshot; `NOT_FOUND` when it is not configured. */
  requireEntry(name: string): ServerConfig;
  /** The read model's row; before the supervisor has published one, the actor's or one made from the entry. */
  summaryOf(name: string): ServerSummary;
  /** The actor of `name`; `UPSTREAM_UNAVAILABLE` when the supervisor has none yet. */
  requireActor(name: string): ServerActor;
  /** Resolves when `promise` settles or after `ms`, whichever is first; `close()` resolves it too. */
  bounded<T>(promise: Promise<T>, ms: number): Promise<Bounded<T>>;
  /** Saves a config change and waits (bounded) for the supervisor's report of reconciling it. */
  applyConfig(recipe: (draft: Config) => void): Promise<void>;
  /** Marks the service closed and settles every pending wait. */
  close(): void;
}

/** Makes the shared core from the service's options (defaults applied here). */
export function createCore({
  config,
  supervisor,
  view,
  bus,
  index,
  clock = systemClock,
  logger = silentLogger,
  settleTimeoutMs = 5_000,
  commandWaitMs = 2_000,
  onToolCall,
  onAction,
}: ManagementOptions): Core {
  let closed = false;
  /** Cancels of every pending bounded wait, so `close()` settles them. */
  const waits = new Set<() => void>();
  const entryMaps = new WeakMap<Config, Map<string, ServerConfig>>();

  const entriesOf = (cfg: Config): Map<string, ServerConfig> => {
    let map = entryMaps.get(cfg);
    if (!map) {
      map = new Map(cfg.mcpServers.map((s) => [s.name, s]));
      entryMaps.set(cfg, map);
    }
    return map;
  };

  const requireEntry = (name: string): ServerConfig => {
    const entry = entriesOf(config.snapshot()).get(name);
    if (!entry) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
    return entry;
  };

  const bounded = <T>(promise: Promise<T>, ms: number): Promise<Bounded<T>> =>
    new Promise((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clock.clearTimeout(timer);
        waits.delete(cancel);
        settle();
      };
      const cancel = () => finish(() => resolve({ settled: false }));
      const timer = clock.setTimeout(cancel, ms);
      waits.add(cancel);
      promise.then(
        (value) => finish(() => resolve({ settled: true, value })),
        (error: unknown) => finish(() => reject(error)),
      );
    });

  return {
    config,
    supervisor,
    view,
    bus,
    index,
    clock,
    logger,
    settleTimeoutMs,
    commandWaitMs,
    onToolCall,
    onAction,
    get closed() {
      return closed;
    },
    entriesOf,
    requireEntry,
    summaryOf(name) {
      const row = view.server(name) ?? supervisor.getActor(name)?.getState();
      if (row) return row;
      const entry = requireEntry(name);
      return makeSummary(name, {
        protocol: entry.protocol,
        enabled: entry.enabled,
        quarantined: entry.quarantined,
        groups: entry.groups,
        state: entry.quarantined ? 'quarantined' : entry.enabled ? 'idle' : 'disabled',
      });
    },
    requireActor(name) {
      const actor = supervisor.getActor(name);
      if (!actor) {
        throw new ManagementError(
          'UPSTREAM_UNAVAILABLE',
          `server ${JSON.stringify(name)} has no actor yet; retry shortly`,
        );
      }
      return actor;
    },
    bounded,
    async applyConfig(recipe) {
      const before = config.snapshot();
      const after = await config.apply(recipe);
      if (after === before) return;
      // The supervisor reports once every change this save implies was applied and published, so the summary
      // read afterwards shows it.
      const settled = await bounded(supervisor.reconciled(after), settleTimeoutMs);
      if (!settled.settled && !closed) {
        logger.warn(
          'management: the supervisor did not report the change in time; answering with the summary as it is',
          { timeout_ms: settleTimeoutMs },
        );
      }
    },
    close() {
      closed = true;
      for (const cancel of [...waits]) cancel();
      waits.clear();
    },
  };
}
