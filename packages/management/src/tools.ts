import type { BusEvent, ToolSearchHit, UpstreamCallResult, UpstreamTool } from '@mcpproxy/contracts';
import type { Unsubscribe } from '@mcpproxy/events';
import type { Core } from './core.js';
import { ManagementError, toManagementError } from './errors.js';
import { isPlainObject } from './merge.js';
import type { CallToolOptions, ManagementService, SearchToolsOptions, ToolStat } from './types.js';

/** Events after which a server's searchable tools may differ. */
const INDEX_EVENTS = [
  'connection_established',
  'tools_updated',
  'tool_quarantine_changed',
  'server_state_changed',
  'server_config_changed',
] as const;
const MAX_SEARCH_LIMIT = 100;

/** The tool side of the service: search, calls, statistics, and the failure reasons diagnostics read. */
export interface ToolSide extends Pick<ManagementService, 'searchTools' | 'callTool' | 'toolStats'> {
  /** `reason` of each server's last failed attempt, until it connects. */
  readonly failures: ReadonlyMap<string, string>;
  /** Unsubscribes from the bus. */
  close(): void;
}

/**
 * Keeps the search index equal to every ready server's callable tools, counts `tool_called` per tool and keeps
 * each server's last failure reason, all from the bus; answers searches and calls tools through the actors.
 * Subscribes at once.
 */
export function createToolSide(core: Core): ToolSide {
  const { config, supervisor, bus, index, logger } = core;
  const failures = new Map<string, string>();
  const stats = new Map<string, ToolStat>();
  /** What the index holds per server: the actor's frozen `callableTools()` array last added. */
  const indexed = new Map<string, readonly UpstreamTool[]>();
  const toolMaps = new WeakMap<readonly UpstreamTool[], Map<string, UpstreamTool>>();

  const toolsByName = (tools: readonly UpstreamTool[]): Map<string, UpstreamTool> => {
    let map = toolMaps.get(tools);
    if (!map) {
      map = new Map(tools.map((t) => [t.name, t]));
      toolMaps.set(tools, map);
    }
    return map;
  };

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

  const off: Unsubscribe = bus.subscribe([...INDEX_EVENTS, 'tool_called'], (event) => {
    if (event.type === 'tool_called') {
      countCall(event);
      return;
    }
    trackFailure(event);
    forget(event);
    if (event.server !== undefined) syncIndex(event.server);
  });
  for (const actor of supervisor.actors()) syncIndex(actor.name);

  return {
    failures,

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

    async callTool(name, args, { signal, timeoutMs, origin }: CallToolOptions = {}): Promise<UpstreamCallResult> {
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
      const started = core.clock.now();
      const report = (result: UpstreamCallResult | undefined, error: ManagementError | undefined) => {
        if (!core.onToolCall) return;
        try {
          core.onToolCall({
            server,
            tool,
            origin,
            arguments: args,
            result,
            error,
            started,
            duration_ms: core.clock.now() - started,
          });
        } catch (e) {
          logger.error('management: onToolCall failed', { error: String(e) });
        }
      };
      const cfg = config.snapshot();
      const actor = supervisor.getActor(server);
      if (!actor || !core.entriesOf(cfg).has(server)) {
        const error = new ManagementError('NOT_FOUND', `no server named ${JSON.stringify(server)}`);
        report(undefined, error);
        throw error;
      }
      try {
        // The actor publishes `tool_called` for every outcome (one event per call); the stats above count it.
        const result = await actor.callTool(tool, args, { signal, timeoutMs: timeoutMs ?? cfg.call_tool_timeout });
        report(result, undefined);
        return result;
      } catch (error) {
        const failure = toManagementError(error);
        report(undefined, failure);
        throw failure;
      }
    },

    toolStats: () =>
      [...stats.values()].map((s) => ({ ...s })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),

    close() {
      off();
    },
  };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
