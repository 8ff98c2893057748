import {
  type Clock,
  type Config,
  type ConfigChange,
  jsonEqual,
  type Logger,
  type ServerConfig,
  silentLogger,
  systemClock,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { createServerActor } from './actor.js';
import { type ApprovalsStore, createMemoryApprovals } from './approvals.js';
import type { ToolAssessor } from './catalog.js';
import { configChanges, type ReconcileReport } from './changes.js';
import { type ActorSettings, actorSettings, sameSettings } from './settings.js';
import type { ServerActor } from './types.js';

/** Where the supervisor reads the desired config; the config service satisfies it. */
export interface ConfigSource {
  /** The current config. */
  snapshot(): Config;
  /** Called with each new config; returns an unsubscribe. */
  subscribe(listener: (config: Config, previous: Config) => void): () => void;
}

export interface SupervisorOptions {
  /** The desired state: each snapshot is reconciled into actors. */
  config: ConfigSource;
  /** Where actors and the supervisor publish. */
  bus: EventBus;
  /** Handed to every actor. */
  connector: UpstreamConnector;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Approved tool hashes, shared by all actors. @default in-memory */
  approvals?: ApprovalsStore | undefined;
  /** Judges the tools of each server's first listing (the tool scanner), handed to every actor. @default allow all */
  assess?: ToolAssessor | undefined;
  /** Backoff jitter source handed to every actor. @default Math.random */
  random?: (() => number) | undefined;
}

export interface SupervisorCloseOptions {
  /** How long to wait for actors to stop before giving up (and logging which did not). @default 5000 */
  deadlineMs?: number | undefined;
}

/** Keeps one actor per configured server, reconciling every config snapshot into them. */
export interface Supervisor {
  /**
   * Reconciles the current snapshot, then every later one. Returns once the actors are created and told to
   * start; it never waits for a connect. Idempotent.
   */
  start(): void;
  /**
   * What the reconcile of `snapshot` did, per server: resolves once every change it made was applied by its actor
   * (an added actor created, a removed one closed, an update taken) and published as `server_config_changed`, so a
   * summary read afterwards shows it. A snapshot not seen yet is reconciled now when it is the source's current
   * one; an older one, or any before `start()`, resolves with no changes (the supervisor follows the source, never
   * an old snapshot).
   * A server re-added while its old actor still stops is reported once the new one was added.
   */
  reconciled(snapshot: Config): Promise<ReconcileReport>;
  /** The actor of a server, if configured. */
  getActor(name: string): ServerActor | undefined;
  /** Every actor, in config order of their addition. Frozen; the same array until the set changes. */
  actors(): readonly ServerActor[];
  /** Stops every actor in parallel; past `deadlineMs` it stops waiting and logs who is left. Idempotent. */
  close(options?: SupervisorCloseOptions): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Entry {
  actor: ServerActor;
  /** The config entry last handed to the actor. */
  server: ServerConfig;
}

type Kinds = readonly ConfigChange[];

const NO_CHANGES: ReconcileReport = Object.freeze({ changes: new Map<string, Kinds>() });

/** Creates a supervisor; call `start()` to reconcile. */
export function createSupervisor({
  config,
  bus,
  connector,
  clock = systemClock,
  logger = silentLogger,
  approvals = createMemoryApprovals(),
  assess,
  random = Math.random,
}: SupervisorOptions): Supervisor {
  const entries = new Map<string, Entry>();
  /** Servers being removed; a server re-added meanwhile waits so the old actor's last events come first. */
  const removing = new Map<string, Promise<void>>();
  let settings: ActorSettings | undefined;
  let unsubscribe: (() => void) | undefined;
  let started = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let actorList: readonly ServerActor[] | undefined;
  let deferred = false;
  /** The report of every snapshot reconciled (or deferred), so a writer can wait for its own. */
  const reports = new WeakMap<Config, Promise<ReconcileReport>>();
  /** Resolves with the report of the reconcile run once the removals a snapshot waited for are done. */
  let rerun: { promise: Promise<ReconcileReport>; resolve: (report: Promise<ReconcileReport>) => void } | undefined;

  const publishChange = (change: ConfigChange, actor: ServerActor) => {
    bus.publish({ type: 'server_config_changed', server: actor.name, data: { change, summary: actor.getState() } });
  };

  const add = (server: ServerConfig, current: ActorSettings) => {
    const actor = createServerActor(server.name, {
      config: { server, settings: current },
      connector,
      bus,
      clock,
      logger,
      approvals,
      assess,
      random,
    });
    entries.set(server.name, { actor, server });
    actorList = undefined;
    publishChange('added', actor);
    // Quarantined and disabled actors rest where they are: start() never runs a command or opens a URL for them.
    void actor.start();
    return ADDED;
  };

  const remove = (name: string, entry: Entry): Promise<Kinds> => {
    entries.delete(name);
    actorList = undefined;
    const done = entry.actor
      .close()
      .then(() => publishChange('removed', entry.actor))
      .finally(() => {
        removing.delete(name);
        if (deferred && !closed) {
          deferred = false;
          const waiting = rerun;
          rerun = undefined;
          const report = reconcile(config.snapshot());
          waiting?.resolve(report);
        }
      });
    removing.set(name, done);
    return done.then(
      () => REMOVED,
      () => REMOVED,
    );
  };

  /** The kinds `name` gets once the removal it waits for is done and the latest snapshot reconciled. */
  const afterRemoval = (name: string): Promise<Kinds> => {
    if (!rerun) {
      let resolve!: (report: Promise<ReconcileReport>) => void;
      const promise = new Promise<Promise<ReconcileReport>>((r) => {
        resolve = r;
      }).then((report) => report);
      rerun = { promise, resolve };
    }
    return rerun.promise.then((report) => report.changes.get(name) ?? []);
  };

  const change = (entry: Entry, server: ServerConfig, current: ActorSettings): Promise<Kinds> => {
    const prev = entry.server;
    entry.server = server;
    const kinds = configChanges(prev, server);
    const groups = groupDiff(prev.groups, server.groups);
    const { actor } = entry;
    return actor.update({ server, settings: current }).then(
      () => {
        for (const kind of kinds) publishChange(kind, actor);
        if (groups) {
          bus.publish({
            type: 'server_group_updated',
            server: actor.name,
            data: { groups: [...server.groups], ...groups, summary: actor.getState() },
          });
        }
        return kinds;
      },
      (error: unknown) => {
        // Only BUSY gets here; forget the entry as applied so the next snapshot tries again.
        if (entry.server === server) entry.server = prev;
        logger.error('actor update failed', { server: actor.name, error: String(error) });
        return [];
      },
    );
  };

  const reconcile = (snapshot: Config): Promise<ReconcileReport> => {
    if (closed) return Promise.resolve(NO_CHANGES);
    const next = actorSettings(snapshot);
    const settingsChanged = settings !== undefined && !sameSettings(settings, next);
    if (settings === undefined || settingsChanged) settings = next;
    const current = settings;
    const desired = new Set<string>();
    const done: [string, Kinds | Promise<Kinds>][] = [];
    for (const server of snapshot.mcpServers) {
      desired.add(server.name);
      if (removing.has(server.name)) {
        deferred = true;
        done.push([server.name, afterRemoval(server.name)]);
        continue;
      }
      const entry = entries.get(server.name);
      if (!entry) done.push([server.name, add(server, current)]);
      else if (settingsChanged || (entry.server !== server && !jsonEqual(entry.server, server))) {
        done.push([server.name, change(entry, server, current)]);
      } else entry.server = server;
    }
    for (const [name, entry] of entries) if (!desired.has(name)) done.push([name, remove(name, entry)]);
    const report = collect(done);
    reports.set(snapshot, report);
    return report;
  };

  const close = ({ deadlineMs = 5_000 }: SupervisorCloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      rerun?.resolve(Promise.resolve(NO_CHANGES));
      rerun = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      const waiting = new Set<string>();
      const stops: Promise<void>[] = [];
      for (const [name, entry] of entries) {
        waiting.add(name);
        stops.push(entry.actor.close().finally(() => waiting.delete(name)));
      }
      for (const [name, p] of removing) {
        waiting.add(name);
        stops.push(p.finally(() => waiting.delete(name)));
      }
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const deadline = new Promise<'timeout'>((resolve) => {
        timer = clock.setTimeout(() => resolve('timeout'), deadlineMs);
      });
      const outcome = await Promise.race([Promise.allSettled(stops).then(() => 'done' as const), deadline]);
      clock.clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn('supervisor gave up waiting for actors to stop', {
          deadline_ms: deadlineMs,
          servers: [...waiting],
        });
      }
    })();
    return closing;
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      reconcile(config.snapshot());
      unsubscribe = config.subscribe((snapshot) => reconcile(snapshot));
    },
    reconciled(snapshot) {
      const known = reports.get(snapshot);
      if (known) return known;
      return started && snapshot === config.snapshot() ? reconcile(snapshot) : Promise.resolve(NO_CHANGES);
    },
    getActor: (name) => entries.get(name)?.actor,
    actors() {
      actorList ??= Object.freeze([...entries.values()].map((e) => e.actor));
      return actorList;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

const ADDED: Kinds = Object.freeze(['added']);
const REMOVED: Kinds = Object.freeze(['removed']);

/**
 * One report from the kinds of each server touched, once all are known; servers left unchanged are dropped.
 * Kinds known at once (an add) cost no promise: a reconcile of 1,000 new servers stays synchronous.
 */
function collect(done: readonly [string, Kinds | Promise<Kinds>][]): Promise<ReconcileReport> {
  const changes = new Map<string, Kinds>();
  const waits: Promise<void>[] = [];
  for (const [name, kinds] of done) {
    if (!(kinds instanceof Promise)) {
      if (kinds.length > 0) changes.set(name, kinds);
      continue;
    }
    waits.push(
      kinds.then((k) => {
        if (k.length > 0) changes.set(name, k);
      }),
    );
  }
  const report: ReconcileReport = { changes };
  return waits.length === 0 ? Promise.resolve(report) : Promise.all(waits).then(() => report);
}

function groupDiff(
  prev: readonly string[],
  next: readonly string[],
): { added: string[]; removed: string[] } | undefined {
  if (prev === next) return undefined;
  const added = next.filter((g) => !prev.includes(g));
  const removed = prev.filter((g) => !next.includes(g));
  return added.length + removed.length > 0 ? { added, removed } : undefined;
}
