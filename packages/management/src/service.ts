import type { ServerActor } from '@mcpproxy/actor';
import {
  type BulkResult,
  type BusEvent,
  type Config,
  type Diagnostic,
  formatValidationIssues,
  jsonEqual,
  maskConfig,
  maskServerConfig,
  parseServerConfig,
  type ServerConfig,
  type ServerHealth,
  type ServerSummary,
  type StatusResponse,
  scrubSecrets,
  secretValues,
  silentLogger,
  systemClock,
  type ToolSearchHit,
  type UpstreamCallResult,
  type UpstreamTool,
} from '@mcpproxy/contracts';
import type { Unsubscribe } from '@mcpproxy/events';
import { makeSummary } from '@mcpproxy/stateview';
import { diagnoseServer, sortDiagnostics } from './diagnose.js';
import { ManagementError, toManagementError } from './errors.js';
import { isPlainObject, mergePatch } from './merge.js';
import { OPERATION_RULES, type OperationName } from './rules.js';
import type {
  BulkOptions,
  Caller,
  CallToolOptions,
  ManagementOptions,
  ManagementService,
  SearchToolsOptions,
  ServerDetail,
  ToolStat,
} from './types.js';

/** Fields that say what is run or reached: an agent changing one sends the server back to quarantine. */
const LAUNCH_FIELDS = ['protocol', 'command', 'args', 'env', 'working_dir', 'url', 'headers'] as const;
/** Tool filters: only a person may change them. */
const FILTER_FIELDS = ['enabled_tools', 'disabled_tools'] as const;
/** Events after which a server's searchable tools may differ. */
const INDEX_EVENTS = [
  'connection_established',
  'tools_updated',
  'tool_quarantine_changed',
  'server_state_changed',
  'server_config_changed',
] as const;
const MAX_SEARCH_LIMIT = 100;
const STDERR_LINES = 20;

type BulkEntry = BulkResult['results'][string];

/** Creates the management service. It subscribes to the bus at once; `close()` unsubscribes. */
export function createManagementService({
  config,
  supervisor,
  view,
  bus,
  index,
  clock = systemClock,
  logger = silentLogger,
  settleTimeoutMs = 5_000,
  commandWaitMs = 2_000,
}: ManagementOptions): ManagementService {
  let closed = false;
  const offs: Unsubscribe[] = [];
  /** Cancels of every pending bounded wait, so `close()` settles them. */
  const waits = new Set<() => void>();
  /** `reason` of each server's last failed attempt, until it connects. */
  const failures = new Map<string, string>();
  const stats = new Map<string, ToolStat>();
  /** What the index holds per server: the actor's frozen `callableTools()` array last added. */
  const indexed = new Map<string, readonly UpstreamTool[]>();
  const entryMaps = new WeakMap<Config, Map<string, ServerConfig>>();
  const toolMaps = new WeakMap<readonly UpstreamTool[], Map<string, UpstreamTool>>();

  // ── lookups ────────────────────────────────────────────────────────────

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

  /** The read model's row; before the supervisor has published one, the actor's or one made from the entry. */
  const summaryOf = (name: string): ServerSummary => {
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
  };

  const requireActor = (name: string): ServerActor => {
    const actor = supervisor.getActor(name);
    if (!actor) {
      throw new ManagementError(
        'UPSTREAM_UNAVAILABLE',
        `server ${JSON.stringify(name)} has no actor yet; retry shortly`,
      );
    }
    return actor;
  };

  const toolsByName = (tools: readonly UpstreamTool[]): Map<string, UpstreamTool> => {
    let map = toolMaps.get(tools);
    if (!map) {
      map = new Map(tools.map((t) => [t.name, t]));
      toolMaps.set(tools, map);
    }
    return map;
  };

  // ── bus listeners: index sync, failure reasons, tool statistics ────────

  const syncIndex = (name: string) => {
    if (!index) return;
    const actor = supervisor.getActor(name);
    const tools = actor && actor.getState().state === 'ready' ? actor.callableTools() : undefined;
    if (tools === indexed.get(name)) return;
    try {
      if (tools) {
        index.add(name, tools);
        indexed.set(name, tools);
      } else {
        index.remove(name);
        indexed.delete(name);
      }
    } catch (error) {
      logger.error('management: updating the tool index failed', { server: name, error: String(error) });
    }
  };

  const trackFailure = (event: BusEvent) => {
    if (event.type !== 'server_state_changed' || event.server === undefined) return;
    const { to, reason } = event.data;
    if (to === 'error') failures.set(event.server, reason);
    else if (to === 'ready') failures.delete(event.server);
  };

  const forget = (event: BusEvent) => {
    if (event.type !== 'server_config_changed' || event.data.change !== 'removed' || event.server === undefined) return;
    // A server added again under the same name starts from scratch.
    const name = event.server;
    if (supervisor.getActor(name)) return;
    failures.delete(name);
    for (const key of [...stats.keys()]) if (key.startsWith(`${name}:`)) stats.delete(key);
  };

  const countCall = (event: BusEvent) => {
    if (event.type !== 'tool_called' || event.server === undefined) return;
    const key = `${event.server}:${event.data.tool}`;
    let stat = stats.get(key);
    if (!stat) {
      // Only tools the server lists get a row: names an agent made up would otherwise grow the table without bound.
      const actor = supervisor.getActor(event.server);
      if (!actor?.tools().some((t) => t.name === event.data.tool)) return;
      stat = { name: key, calls: 0, errors: 0, timeouts: 0, rejected: 0, total_ms: 0, last_called_at: null };
      stats.set(key, stat);
    }
    stat.calls++;
    if (event.data.status === 'error') stat.errors++;
    else if (event.data.status === 'timeout') stat.timeouts++;
    else if (event.data.status === 'rejected') stat.rejected++;
    stat.total_ms += event.data.duration_ms;
    stat.last_called_at = event.time;
  };

  offs.push(
    bus.subscribe([...INDEX_EVENTS, 'tool_called'], (event) => {
      if (event.type === 'tool_called') {
        countCall(event);
        return;
      }
      trackFailure(event);
      forget(event);
      if (event.server !== undefined) syncIndex(event.server);
    }),
  );
  for (const actor of supervisor.actors()) syncIndex(actor.name);

  // ── bounded waits ──────────────────────────────────────────────────────

  /** Resolves when `promise` settles or after `ms`, whichever is first; `close()` resolves it too. */
  const bounded = <T>(promise: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> =>
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

  /**
   * Applies a config change and waits (bounded) for the supervisor's report of reconciling it: every change it
   * implies was applied and published, so the summary read afterwards shows it.
   */
  const applyConfig = async (recipe: (draft: Config) => void): Promise<void> => {
    const before = config.snapshot();
    const after = await config.apply(recipe);
    if (after === before) return;
    const settled = await bounded(supervisor.reconciled(after), settleTimeoutMs);
    if (!settled.settled && !closed) {
      logger.warn('management: the supervisor did not report the change in time; answering with the summary as it is', {
        timeout_ms: settleTimeoutMs,
      });
    }
  };

  // ── guards ─────────────────────────────────────────────────────────────

  const passGate = (operation: OperationName) => {
    const { gate } = OPERATION_RULES[operation];
    if (gate === 'config') config.assertWritable('config');
    config.assertWritable('management');
  };

  const guard = (operation: OperationName, caller: Caller) => {
    if (closed) throw new ManagementError('INTERNAL', 'the management service is closed');
    if (OPERATION_RULES[operation].humanOnly && caller.source === 'mcp') {
      throw new ManagementError(
        'MANAGEMENT_DISABLED',
        `${HUMAN_ONLY_WORDS[operation] ?? operation} is human-only: use the REST API, the CLI or the dashboard`,
      );
    }
    passGate(operation);
  };

  /** Runs one write: human-only rule, gate, the work, one log line; every failure becomes a ManagementError. */
  const run = async <T>(
    operation: OperationName,
    caller: Caller,
    server: string | undefined,
    work: () => Promise<T>,
  ): Promise<T> => {
    const fields = { operation, server, source: caller.source, request_id: caller.requestId };
    try {
      guard(operation, caller);
      const result = await work();
      logger.info('management: operation done', fields);
      return result;
    } catch (error) {
      const err = toManagementError(error);
      logger.info('management: operation refused or failed', { ...fields, code: err.code });
      throw err;
    }
  };

  const findIn = (draft: Config, name: string): ServerConfig => {
    const entry = draft.mcpServers.find((s) => s.name === name);
    if (!entry) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
    return entry;
  };

  const quarantinedError = (name: string) =>
    new ManagementError(
      'CONFLICT',
      `server ${JSON.stringify(name)} is quarantined: a person must approve it (unquarantine) before it can be enabled`,
    );

  // ── operations ─────────────────────────────────────────────────────────

  /** An enable that is not a config change: clears an actor's auto-disable (bounded, like a restart). */
  const wake = async (name: string): Promise<void> => {
    const actor = supervisor.getActor(name);
    const entry = entriesOf(config.snapshot()).get(name);
    if (!actor || !entry?.enabled || entry.quarantined) return;
    const state = actor.getState();
    if (state.auto_disabled === null && state.state !== 'disabled') return;
    await bounded(actor.enable(), commandWaitMs);
  };

  const setFlag = (
    operation: OperationName,
    name: string,
    field: 'enabled' | 'quarantined',
    value: boolean,
    caller: Caller,
  ): Promise<ServerSummary> =>
    run(operation, caller, name, async () => {
      await applyConfig((draft) => {
        const entry = findIn(draft, name);
        if (field === 'enabled' && value && entry.quarantined) throw quarantinedError(name);
        entry[field] = value;
      });
      if (field === 'enabled' && value) await wake(name);
      return summaryOf(name);
    });

  const restartOne = async (name: string): Promise<ServerSummary> => {
    requireEntry(name);
    const actor = requireActor(name);
    const state = actor.getState();
    if (state.quarantined) {
      throw new ManagementError(
        'CONFLICT',
        `server ${JSON.stringify(name)} is quarantined: a person must approve it before it can start`,
      );
    }
    if (!state.enabled || state.state === 'disabled') {
      throw new ManagementError('CONFLICT', `server ${JSON.stringify(name)} is disabled: enable it instead`);
    }
    await bounded(actor.restart(), commandWaitMs);
    return summaryOf(name);
  };

  const targetsOf = ({ group }: BulkOptions): string[] =>
    config
      .snapshot()
      .mcpServers.filter((s) => group === undefined || s.groups.includes(group))
      .map((s) => s.name);

  const setAll = (operation: 'enableAll' | 'disableAll', options: BulkOptions, caller: Caller) =>
    run(operation, caller, undefined, async () => {
      const enabled = operation === 'enableAll';
      const names = targetsOf(options);
      const results = new Map<string, BulkEntry>();
      const changed: string[] = [];
      try {
        // One save for all: a recipe that refuses one server records it and goes on with the others.
        await applyConfig((draft) => {
          results.clear();
          changed.length = 0;
          for (const name of names) {
            const entry = draft.mcpServers.find((s) => s.name === name);
            if (!entry) results.set(name, { ok: false, error: `server ${JSON.stringify(name)} is not configured` });
            else if (enabled && entry.quarantined)
              results.set(name, { ok: false, error: quarantinedError(name).message });
            else {
              entry.enabled = enabled;
              changed.push(name);
            }
          }
        });
      } catch (error) {
        const message = toManagementError(error).message;
        for (const name of names) if (!results.has(name)) results.set(name, { ok: false, error: message });
        return bulkResult(names, results);
      }
      await Promise.all(
        changed.map(async (name) => {
          try {
            if (enabled) await wake(name);
            results.set(name, { ok: true });
          } catch (error) {
            results.set(name, { ok: false, error: toManagementError(error).message });
          }
        }),
      );
      return bulkResult(names, results);
    });

  const service: ManagementService = {
    allowed(operation, caller) {
      try {
        guard(operation, caller);
        return true;
      } catch {
        return false;
      }
    },

    status(): StatusResponse {
      const snap = view.snapshot();
      const servers = { total: snap.servers.length, ready: 0, error: 0, disabled: 0, quarantined: 0 };
      for (const s of snap.servers) {
        if (s.state === 'ready') servers.ready++;
        else if (s.state === 'error') servers.error++;
        else if (s.state === 'disabled') servers.disabled++;
        else if (s.state === 'quarantined') servers.quarantined++;
      }
      return { app: snap.app, listen: config.snapshot().listen, epoch: bus.epoch, seq: bus.seq, servers };
    },

    listServers: () => view.snapshot().servers,

    getServer(name): ServerDetail {
      const entry = requireEntry(name);
      return { summary: summaryOf(name), config: maskServerConfig(entry) };
    },

    addServer: (input, caller) =>
      run('addServer', caller, nameOf(input), async () => {
        if (!isPlainObject(input)) throw new ManagementError('BAD_REQUEST', 'a server entry must be a JSON object');
        const parsed = parseServerConfig(input);
        if (!parsed.ok) {
          throw new ManagementError(
            'INVALID_CONFIG',
            `invalid server entry:\n${formatValidationIssues(parsed.issues)}`,
            {
              issues: parsed.issues,
            },
          );
        }
        const server = parsed.value;
        const explicit = (input as { quarantined?: unknown }).quarantined;
        await applyConfig((draft) => {
          if (draft.mcpServers.some((s) => s.name === server.name)) {
            throw new ManagementError('CONFLICT', `a server named ${JSON.stringify(server.name)} already exists`);
          }
          // An agent never skips quarantine; a person may, by saying `quarantined: false` outright.
          const quarantined =
            caller.source === 'mcp' || (typeof explicit === 'boolean' ? explicit : draft.quarantine_enabled);
          draft.mcpServers.push({ ...server, quarantined });
        });
        return summaryOf(server.name);
      }),

    updateServer: (name, patch, caller) =>
      run('updateServer', caller, name, async () => {
        if (!isPlainObject(patch)) throw new ManagementError('BAD_REQUEST', 'a server patch must be a JSON object');
        if (Object.hasOwn(patch, 'name') && patch.name !== name) {
          throw new ManagementError(
            'BAD_REQUEST',
            `a server cannot be renamed (${JSON.stringify(name)} → ${JSON.stringify(patch.name)}); remove it and add it under the new name`,
          );
        }
        await applyConfig((draft) => {
          const i = draft.mcpServers.findIndex((s) => s.name === name);
          if (i < 0) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
          // A plain copy of the draft entry, so the merge never mixes immer proxies into new objects.
          const current = JSON.parse(JSON.stringify(draft.mcpServers[i])) as ServerConfig;
          const merged = mergePatch(current, patch) as Record<string, unknown>;
          merged.name = name;
          const parsed = parseServerConfig(merged);
          if (!parsed.ok) {
            throw new ManagementError(
              'INVALID_CONFIG',
              `invalid server entry:\n${formatValidationIssues(parsed.issues)}`,
              {
                issues: parsed.issues,
              },
            );
          }
          const next = parsed.value;
          if (caller.source === 'mcp') {
            if (current.quarantined && !next.quarantined) {
              throw new ManagementError(
                'MANAGEMENT_DISABLED',
                'unquarantining a server is human-only: use the REST API, the CLI or the dashboard',
              );
            }
            // A person's tool filter stands: an agent lifting it would call what a person blocked.
            if (FILTER_FIELDS.some((f) => !jsonEqual(current[f], next[f]))) {
              throw new ManagementError(
                'MANAGEMENT_DISABLED',
                'changing a server\'s "enabled_tools" / "disabled_tools" is human-only: use the REST API, the CLI or the dashboard',
              );
            }
            // What runs or is reached changed at an agent's request: a person approves it again.
            if (LAUNCH_FIELDS.some((f) => !jsonEqual(current[f], next[f]))) next.quarantined = true;
          }
          draft.mcpServers[i] = next;
        });
        return summaryOf(name);
      }),

    removeServer: (name, caller) =>
      run('removeServer', caller, name, async () => {
        await applyConfig((draft) => {
          const i = draft.mcpServers.findIndex((s) => s.name === name);
          if (i < 0) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
          draft.mcpServers.splice(i, 1);
        });
      }),

    enableServer: (name, caller) => setFlag('enableServer', name, 'enabled', true, caller),
    disableServer: (name, caller) => setFlag('disableServer', name, 'enabled', false, caller),
    quarantineServer: (name, caller) => setFlag('quarantineServer', name, 'quarantined', true, caller),
    unquarantineServer: (name, caller) => setFlag('unquarantineServer', name, 'quarantined', false, caller),

    restartServer: (name, caller) => run('restartServer', caller, name, () => restartOne(name)),

    enableAll: (options, caller) => setAll('enableAll', options ?? {}, caller),
    disableAll: (options, caller) => setAll('disableAll', options ?? {}, caller),

    restartAll: (options, caller) =>
      run('restartAll', caller, undefined, async () => {
        const names = targetsOf(options ?? {});
        const results = new Map<string, BulkEntry>();
        await Promise.all(
          names.map(async (name) => {
            try {
              await restartOne(name);
              results.set(name, { ok: true });
            } catch (error) {
              results.set(name, { ok: false, error: toManagementError(error).message });
            }
          }),
        );
        return bulkResult(names, results);
      }),

    approveTools: (name, tools, caller) =>
      run('approveTools', caller, name, async () => {
        requireEntry(name);
        return requireActor(name).approveTools(tools);
      }),

    getServerTools(name) {
      requireEntry(name);
      return supervisor.getActor(name)?.tools() ?? [];
    },

    getServerHealth(name): ServerHealth {
      requireEntry(name);
      const s = summaryOf(name);
      const secrets = secretValues(config.snapshot());
      const actor = supervisor.getActor(name);
      const tail = actor ? actor.stderrTail().slice(-STDERR_LINES) : [];
      const actorHealth = actor?.health();
      return {
        name,
        state: s.state,
        circuit: s.circuit,
        healthy: s.state === 'ready' && s.circuit === 'closed',
        last_error: s.last_error === null ? null : scrubSecrets(s.last_error, secrets),
        last_ping_at: actorHealth?.last_ping_at ?? null,
        last_ping_ms: actorHealth?.last_ping_ms ?? null,
        retry_count: s.retry_count,
        next_retry_at: s.next_retry_at,
        stderr_tail: tail.map((line) => scrubSecrets(line, secrets)),
      };
    },

    runDiagnostics(): Diagnostic[] {
      const cfg = config.snapshot();
      const entries = entriesOf(cfg);
      const secrets = secretValues(cfg);
      const found: Diagnostic[] = [];
      for (const summary of view.snapshot().servers) {
        const entry = entries.get(summary.name);
        if (!entry) continue;
        const actor = supervisor.getActor(summary.name);
        const tools = actor?.tools() ?? [];
        found.push(
          ...diagnoseServer({
            summary,
            entry,
            failureReason: failures.get(summary.name),
            failureCode: actor ? actor.health().last_error_code : null,
            changedTools: tools.filter((t) => t.approval === 'changed').map((t) => t.name),
            pendingTools: tools.filter((t) => t.approval === 'pending').map((t) => t.name),
            secrets,
            initTimeoutMs: entry.init_timeout ?? cfg.init_timeout,
          }),
        );
      }
      return sortDiagnostics(found);
    },

    searchTools(query, options: SearchToolsOptions = {}): ToolSearchHit[] {
      if (!index || typeof query !== 'string' || query.trim() === '') return [];
      const wanted = options.limit ?? config.snapshot().tools_limit;
      const limit = Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.floor(Number.isFinite(wanted) ? wanted : 1)));
      const hits: ToolSearchHit[] = [];
      for (const hit of index.search(query, { limit })) {
        const actor = supervisor.getActor(hit.server);
        // The index may trail a change by one event; never offer a tool that cannot be called now.
        if (actor?.getState().state !== 'ready') continue;
        const tool = toolsByName(actor.callableTools()).get(hit.tool);
        if (!tool) continue;
        const out: ToolSearchHit = {
          name: `${hit.server}:${hit.tool}`,
          server: hit.server,
          tool: hit.tool,
          inputSchema: tool.inputSchema,
          score: hit.score,
        };
        if (tool.description !== undefined) out.description = tool.description;
        hits.push(out);
      }
      return hits;
    },

    async callTool(name, args, { signal, timeoutMs }: CallToolOptions = {}): Promise<UpstreamCallResult> {
      const sep = typeof name === 'string' ? name.indexOf(':') : -1;
      if (sep <= 0 || sep === name.length - 1) {
        throw new ManagementError('BAD_REQUEST', `a tool name must be "server:tool" (got ${preview(name)})`);
      }
      if (!isPlainObject(args)) throw new ManagementError('BAD_REQUEST', 'tool arguments must be a JSON object');
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
        throw new ManagementError('BAD_REQUEST', 'timeoutMs must be a positive number of milliseconds');
      }
      const server = name.slice(0, sep);
      const tool = name.slice(sep + 1);
      const cfg = config.snapshot();
      const actor = supervisor.getActor(server);
      if (!actor || !entriesOf(cfg).has(server)) {
        throw new ManagementError('NOT_FOUND', `no server named ${JSON.stringify(server)}`);
      }
      try {
        // The actor publishes `tool_called` for every outcome (one event per call); the stats above count it.
        return await actor.callTool(tool, args, { signal, timeoutMs: timeoutMs ?? cfg.call_tool_timeout });
      } catch (error) {
        throw toManagementError(error);
      }
    },

    toolStats: () =>
      [...stats.values()].map((s) => ({ ...s })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),

    maskedConfig: () => maskConfig(config.snapshot()),

    async close() {
      if (closed) return;
      closed = true;
      for (const off of offs.splice(0)) off();
      for (const cancel of [...waits]) cancel();
      waits.clear();
    },

    [Symbol.asyncDispose]: () => service.close(),
  };
  return service;
}

/** What the human-only refusal calls each operation. */
const HUMAN_ONLY_WORDS: Partial<Record<OperationName, string>> = {
  unquarantineServer: 'unquarantining a server',
  approveTools: 'approving tools',
};

function bulkResult(names: readonly string[], results: ReadonlyMap<string, BulkEntry>): BulkResult {
  const out: BulkResult = { total: names.length, successful: 0, failed: 0, results: {} };
  for (const name of names) {
    const entry = results.get(name) ?? { ok: false, error: 'not processed' };
    if (entry.ok) out.successful++;
    else out.failed++;
    out.results[name] = entry;
  }
  return out;
}

function nameOf(input: unknown): string | undefined {
  return isPlainObject(input) && typeof input.name === 'string' ? input.name : undefined;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
