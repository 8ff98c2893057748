import type { Supervisor } from '@mcpproxy/actor';
import type { Clock, EventType, Logger, TimerHandle } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ManagementService } from '@mcpproxy/management';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { callSignal } from './direct-dispatch.js';
import { answerInvalidParams } from './invalid-params.js';
import { errorResult } from './search-tools.js';

/** Separator between server and tool in `/mcp/all` names; server names can never contain it (docs/configuration.md). */
export const ALL_SEPARATOR = '__';

/** Bus events after which the set of callable tools may differ. */
const CHANGE_EVENTS: EventType[] = [
  'connection_established',
  'connection_lost',
  'server_state_changed',
  'tools_updated',
  'tool_quarantine_changed',
  'server_config_changed',
];

/** The tool list of `/mcp/all`, kept current from the bus. */
export interface AllToolsCatalog {
  /** Every callable tool of every ready server, named `server__tool`. Cached until something changes. */
  list(): readonly Tool[];
  /** Called (debounced) after the set's names or definitions changed. Returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  close(): void;
}

export interface AllToolsCatalogOptions {
  supervisor: Pick<Supervisor, 'actors'>;
  bus: Pick<EventBus, 'subscribe'>;
  clock: Clock;
  logger: Logger;
  /** Bursts of events within this window cause one check. */
  debounceMs: number;
}

/** Builds the `/mcp/all` catalog: recomputed lazily, change checks debounced on the clock. */
export function createAllToolsCatalog({
  supervisor,
  bus,
  clock,
  logger,
  debounceMs,
}: AllToolsCatalogOptions): AllToolsCatalog {
  let cached: { tools: readonly Tool[]; signature: string } | undefined;
  let timer: TimerHandle | undefined;
  const listeners = new Set<() => void>();

  const compute = () => {
    const tools: Tool[] = [];
    const parts: string[] = [];
    for (const actor of supervisor.actors()) {
      if (actor.getState().state !== 'ready') continue;
      const hashes = new Map(actor.tools().map((t) => [t.name, t.hash]));
      for (const t of actor.callableTools()) {
        const tool: Tool = {
          name: `${actor.name}${ALL_SEPARATOR}${t.name}`,
          inputSchema: t.inputSchema as Tool['inputSchema'],
        };
        if (t.title !== undefined) tool.title = t.title;
        if (t.description !== undefined) tool.description = t.description;
        if (t.outputSchema !== undefined) tool.outputSchema = t.outputSchema as Tool['outputSchema'];
        if (t.annotations !== undefined) tool.annotations = t.annotations;
        tools.push(tool);
        parts.push(`${tool.name}=${hashes.get(t.name) ?? ''}`);
      }
    }
    return { tools: Object.freeze(tools), signature: parts.join('\n') };
  };

  const check = () => {
    timer = undefined;
    const before = cached?.signature;
    cached = compute();
    if (before !== undefined && before === cached.signature) return;
    for (const listener of listeners) {
      try {
        listener();
      } catch (error) {
        logger.warn('mcp/all change listener failed', { error: String(error) });
      }
    }
  };

  const off = bus.subscribe(CHANGE_EVENTS, () => {
    if (timer !== undefined) return;
    timer = clock.setTimeout(check, debounceMs);
  });

  return {
    list() {
      // While a check is pending the cache may be stale; the pending check will notify if it differs.
      cached ??= compute();
      if (timer !== undefined) return compute().tools;
      return cached.tools;
    },
    onChange(listener) {
      cached ??= compute();
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      off();
      clock.clearTimeout(timer);
      timer = undefined;
      listeners.clear();
    },
  };
}

/** Splits `server__tool` at the first separator. */
export function splitAllName(name: string): { server: string; tool: string } | undefined {
  const at = name.indexOf(ALL_SEPARATOR);
  if (at <= 0 || at + ALL_SEPARATOR.length >= name.length) return undefined;
  return { server: name.slice(0, at), tool: name.slice(at + ALL_SEPARATOR.length) };
}

/** One `/mcp/all` session's MCP server: lists the catalog, calls through the management service. */
export function createAllServer(
  {
    catalog,
    management,
    version,
  }: { catalog: AllToolsCatalog; management: Pick<ManagementService, 'callTool'>; version: string },
  signal: AbortSignal,
): { server: Server; close(): Promise<void> } {
  const server = new Server(
    { name: 'mcpproxy-all', version },
    {
      capabilities: { tools: { listChanged: true } },
      instructions:
        'Every approved tool of every ready upstream server, named "server__tool". The list changes as servers ' +
        'come and go; this server sends notifications/tools/list_changed when it does.',
    },
  );
  answerInvalidParams(server);
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...catalog.list()] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const parts = splitAllName(request.params.name);
    if (!parts) {
      return {
        isError: true,
        content: [{ type: 'text', text: `NOT_FOUND: "${request.params.name}" is not a "server__tool" name` }],
      };
    }
    try {
      const client = server.getClientVersion();
      const result = await management.callTool(`${parts.server}:${parts.tool}`, request.params.arguments ?? {}, {
        signal: callSignal(signal, extra.signal),
        origin: {
          surface: 'mcp_all',
          session: extra.sessionId,
          client: { name: client?.name, version: client?.version },
        },
      });
      return result as CallToolResult;
    } catch (error) {
      return errorResult(error);
    }
  });
  const off = catalog.onChange(() => {
    void server.sendToolListChanged().catch(() => {});
  });
  return {
    server,
    async close() {
      off();
      await server.close().catch(() => {});
    },
  };
}
