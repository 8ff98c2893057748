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
import { createServerActor, type ServerActor } from './actor.js';
import { type ApprovalsStore, createMemoryApprovals } from './approvals.js';
import { type ActorSettings, actorSettings, sameSettings } from './settings.js';

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

const STATUS_FIELDS = new Set<string>(['enabled', 'quarantined']);

/** Creates a supervisor; call `start()` to reconcile. */
export function createSupervisor({
  config,
  bus,
  connector,
  clock = systemClock,
  logger = silentLogger,
  approvals = createMemoryApprovals(),
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
      random,
    });
    entries.set(server.name, { actor, server });
    actorList = undefined;
    publishChange('added', actor);
    // Quarantined and disabled actors rest where they are: start() never runs a command or opens a URL for them.
    void actor.start();
  };

  const remove = (name: string, entry: Entry) => {
    entries.delete(name);
    actorList = undefined;
    const done = entry.actor
      .close()
      .then(() => publishChange('removed', entry.actor))
      .finally(() => {
        removing.delete(name);
        if (deferred && !closed) {
          deferred = false;
          reconcile(config.snapshot());
        }
      });
    removing.set(name, done);
  };

  const change = (entry: Entry, server: ServerConfig, current: ActorSettings) => {
    const prev = entry.server;
    entry.server = server;
    const kinds: ConfigChange[] = [];
    if (prev !== server && !jsonEqual(prev, server)) {
      if (prev.quarantined !== server.quarantined) kinds.push(server.quarantined ? 'quarantined' : 'unquarantined');
      if (prev.enabled !== server.enabled) kinds.push(server.enabled ? 'enabled' : 'disabled');
      if (otherFieldsChanged(prev, server)) kinds.push('updated');
    }
    const groups = groupDiff(prev.groups, server.groups);
    const { actor } = entry;
    actor.update({ server, settings: current }).then(
      () => {
        for (const kind of kinds) publishChange(kind, actor);
        if (groups) {
          bus.publish({
            type: 'server_group_updated',
            server: actor.name,
            data: { groups: [...server.groups], ...groups, summary: actor.getState() },
          });
        }
      },
      (error: unknown) => {
        // Only BUSY gets here; forget the entry as applied so the next snapshot tries again.
        if (entry.server === server) entry.server = prev;
        logger.error('actor update failed', { server: actor.name, error: String(error) });
      },
    );
  };

  const reconcile = (snapshot: Config) => {
    if (closed) return;
    const next = actorSettings(snapshot);
    const settingsChanged = settings !== undefined && !sameSettings(settings, next);
    if (settings === undefined || settingsChanged) settings = next;
    const current = settings;
    const desired = new Set<string>();
    for (const server of snapshot.mcpServers) {
      desired.add(server.name);
      if (removing.has(server.name)) {
        deferred = true;
        continue;
      }
      const entry = entries.get(server.name);
      if (!entry) add(server, current);
      else if (settingsChanged || (entry.server !== server && !jsonEqual(entry.server, server))) {
        change(entry, server, current);
      } else entry.server = server;
    }
    for (const [name, entry] of entries) if (!desired.has(name)) remove(name, entry);
  };

  const close = ({ deadlineMs = 5_000 }: SupervisorCloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      closed = true;
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
    getActor: (name) => entries.get(name)?.actor,
    actors() {
      actorList ??= Object.freeze([...entries.values()].map((e) => e.actor));
      return actorList;
    },
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

function otherFieldsChanged(a: ServerConfig, b: ServerConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (STATUS_FIELDS.has(key)) continue;
    if (!jsonEqual(a[key as keyof ServerConfig], b[key as keyof ServerConfig])) return true;
  }
  return false;
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
