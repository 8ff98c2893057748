import type { Supervisor } from '@mcpproxy/actor';
import type { ConfigService } from '@mcpproxy/configsvc';
import { type Clock, type Logger, silentLogger, systemClock } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ManagementService } from '@mcpproxy/management';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Hono } from 'hono';
import type { ServerActivity } from '../activity.js';
import { createAllServer, createAllToolsCatalog } from './all-tools.js';
import { directToolCalls } from './direct-dispatch.js';
import {
  admitServer,
  initializeParams,
  LinkBudget,
  linkCapMessage,
  PassthroughSession,
  wantsOwnLink,
} from './passthrough.js';
import type { PromptPins } from './prompt-pins.js';
import { createSearchServer, type ToolAnnotator } from './search-tools.js';
import { SessionRefusal, SessionTable, type SessionTableStats } from './sessions.js';

export { ALL_SEPARATOR, splitAllName } from './all-tools.js';
export { QUARANTINE_OPERATIONS, toolAllowed, UPSTREAM_OPERATIONS } from './search-tools.js';
export type { SessionEndReason, SessionTableStats } from './sessions.js';

/** Collaborators and settings of {@link createMcpEndpoints}. */
export interface McpEndpointsOptions {
  /** Every `/mcp` tool and every `/mcp/all` call goes through it, as caller `{source: 'mcp'}`. */
  management: ManagementService;
  /** Actors: `/mcp/all`'s tool set, and `/mcp/servers/{name}` sessions (config, approvals, circuit, readiness). */
  supervisor: Pick<Supervisor, 'getActor' | 'actors'>;
  /** Change events (tool sets, gates, server states) and `tool_called` of `/mcp/servers` calls. */
  bus: EventBus;
  /** `tools_limit`, `call_tool_timeout` and the gates, read per call. */
  config: Pick<ConfigService, 'snapshot'>;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Idle expiry, deadlines and debounces. @default systemClock */
  clock?: Clock | undefined;
  /**
   * The proxy's environment (the app passes `process.env`): a `/mcp/servers/{name}` session with a link of its own to a
   * stdio upstream starts its own process, which inherits only PATH, HOME, USER, LANG and TERM from it (plus the server's `env`).
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A session with nothing in flight, no open stream and no traffic for this long ends. @default 1_800_000 (30 min) */
  sessionIdleMs?: number | undefined;
  /**
   * A session that made no request since its `initialize` and holds no stream open ends after this long (capped
   * by `sessionIdleMs`). @default 60_000 (1 min)
   */
  sessionUnusedMs?: number | undefined;
  /** Sessions per endpoint; past it the least recently active idle session is evicted, else 503. @default 1000 */
  maxSessions?: number | undefined;
  /**
   * Messages kept per session for `Last-Event-ID` resumption (SEP-1699); `0` = off. Off by default: with it on,
   * every POST stream starts with a priming event, one more socket write per request. @default 0
   */
  eventBuffer?: number | undefined;
  /** SSE `retry` hint in ms for resuming clients. @default 1000 */
  retryIntervalMs?: number | undefined;
  /** Window in which bursts of changes cause one `/mcp/all` `tools/list_changed`. @default 50 */
  listChangedDebounceMs?: number | undefined;
  /** SIGTERM → SIGKILL grace of a session's own stdio upstream. @default 2000 */
  killGraceMs?: number | undefined;
  /** Reported as `serverInfo.version` of `/mcp` and `/mcp/all`. @default '0.0.0' */
  version?: string | undefined;
  /** The tool scanner: `quarantine_security inspect_tools` shows its findings. @default none */
  scanner?: ToolAnnotator | undefined;
  /** Prompt pins applied to `prompts/list` and `prompts/get` on `/mcp/servers/{name}`. @default none (passed through) */
  prompts?: PromptPins | undefined;
  /** The activity log: passthrough calls are recorded, `tools_stat` reads it. @default none */
  activity?: Pick<ServerActivity, 'log' | 'passthroughCall'> | undefined;
}

/** `/mcp/servers/{name}` sessions holding a link of their own (bounded per server by `max_session_links`). */
export interface SessionLinkStats {
  /** Slots held now, over all servers. */
  held: number;
  /** Slots ever taken. */
  opened: number;
  /** Sessions or requests refused because their server's slots were all held by busy sessions. */
  refused: number;
  /** Idle sessions ended to free a slot for a new one. */
  evicted: number;
}

/** Session counters of each endpoint. */
export interface McpEndpointStats {
  mcp: SessionTableStats;
  all: SessionTableStats;
  servers: SessionTableStats;
  links: SessionLinkStats;
}

/** The MCP endpoints, ready to mount. */
export interface McpEndpoints {
  /**
   * Hono routes for `GET|POST|DELETE /mcp`, `/mcp/all` and `/mcp/servers/:name` (full paths: mount with
   * `app.route('/', endpoints.routes)` after the Host/Origin/API-key middleware).
   */
  readonly routes: Hono;
  stats(): McpEndpointStats;
  /** Ends every session (aborting its upstream work) and unsubscribes. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates the three MCP endpoints of docs/mcp.md over Streamable HTTP (one SDK transport per session):
 * `/mcp` (search-then-call and management tools), `/mcp/all` (every callable tool as `server__tool`, with
 * `tools/list_changed`) and `/mcp/servers/{name}` (one upstream, transparently: a session whose client declares
 * capabilities, or later subscribes to a resource or sets a log level, gets an upstream link of its own, at most
 * `max_session_links` per server; the others share the actor's connection). Host/Origin/API-key checks are the app's middleware; mount after it.
 */
export function createMcpEndpoints({
  management,
  supervisor,
  bus,
  config,
  logger = silentLogger,
  clock = systemClock,
  env = {},
  sessionIdleMs = 1_800_000,
  sessionUnusedMs = 60_000,
  maxSessions = 1_000,
  eventBuffer = 0,
  retryIntervalMs = 1_000,
  listChangedDebounceMs = 50,
  killGraceMs = 2_000,
  version = '0.0.0',
  scanner,
  prompts,
  activity,
}: McpEndpointsOptions): McpEndpoints {
  const table = (label: string, jsonAnswers = false) =>
    new SessionTable({
      label,
      clock,
      logger,
      idleMs: sessionIdleMs,
      unusedMs: sessionUnusedMs,
      maxSessions,
      eventBuffer,
      retryIntervalMs,
      jsonAnswers,
    });
  // `/mcp` and `/mcp/all` call tools through management.callTool: nothing reaches the client before the answer.
  const mcpTable = table('/mcp', true);
  const allTable = table('/mcp/all', true);
  const serverTable = table('/mcp/servers');
  const catalog = createAllToolsCatalog({ supervisor, bus, clock, logger, debounceMs: listChangedDebounceMs });
  const passthroughs = new Map<string, Set<PassthroughSession>>();
  const searchDeps = { management, config, bus, logger, version, scanner, activity: activity?.log };
  const links = new LinkBudget(() => config.snapshot().max_session_links);
  const passDeps = {
    bus,
    config,
    clock,
    logger,
    env,
    killGraceMs,
    links,
    onToolCall: activity?.passthroughCall,
    prompts,
  };

  // A server that stops being reachable ends its sessions; an approval change makes them list again.
  const offs = [
    bus.subscribe('server_state_changed', (e) => {
      const to = e.data.to;
      if (e.server && (to === 'quarantined' || to === 'disabled' || to === 'stopped')) {
        void serverTable.endKey(e.server, 'upstream_closed');
      }
    }),
    bus.subscribe('tool_quarantine_changed', (e) => {
      for (const p of (e.server && passthroughs.get(e.server)) || []) p.toolsChanged();
    }),
  ];
  if (prompts) {
    offs.push(
      prompts.onApproval((server) => {
        for (const p of passthroughs.get(server) ?? []) p.promptsChanged();
      }),
    );
  }

  const routes = new Hono();
  routes.all('/mcp', (c) =>
    mcpTable.handle(c.req.raw, 'mcp', async (session) => {
      const { server, close } = createSearchServer(searchDeps, session.signal);
      await server.connect(session.transport);
      return { close, dispatch: directToolCalls(server.server) };
    }),
  );
  routes.all('/mcp/all', (c) =>
    allTable.handle(c.req.raw, 'all', async (session) => {
      const { server, close } = createAllServer({ catalog, management, version }, session.signal);
      await server.connect(session.transport);
      return { close, dispatch: directToolCalls(server) };
    }),
  );
  routes.all('/mcp/servers/:name', (c) => {
    const name = c.req.param('name');
    return serverTable.handle(c.req.raw, name, (session, body) => {
      const actor = admitServer(supervisor, name);
      // A client with capabilities meets the upstream on a link of its own (a slot of max_session_links); the
      // others share the actor's connection.
      const ownLink = wantsOwnLink(initializeParams(body));
      if (ownLink && !links.acquire(name, session)) throw new SessionRefusal(503, linkCapMessage(name, links.limit()));
      const pass = new PassthroughSession(actor, session, passDeps, ownLink);
      const set = passthroughs.get(name) ?? new Set<PassthroughSession>();
      passthroughs.set(name, set);
      set.add(pass);
      return {
        close: async (reason) => {
          set.delete(pass);
          if (set.size === 0 && passthroughs.get(name) === set) passthroughs.delete(name);
          await pass.close(reason);
        },
        answersAsJson: (m) => pass.answersAsJson(m as Parameters<PassthroughSession['answersAsJson']>[0]),
      };
    });
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      for (const off of offs) off();
      catalog.close();
      await Promise.all([mcpTable.close(), allTable.close(), serverTable.close()]);
    })();
    return closing;
  };

  return {
    routes,
    stats: () => ({
      mcp: mcpTable.stats(),
      all: allTable.stats(),
      servers: serverTable.stats(),
      links: links.stats(),
    }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Collaborators of {@link serveStdio}. */
export interface StdioMcpOptions {
  management: ManagementService;
  bus: EventBus;
  config: Pick<ConfigService, 'snapshot'>;
  /** Where JSON-RPC comes in (the process's stdin). */
  stdin: NodeJS.ReadableStream;
  /** Where JSON-RPC goes out, and nothing else (the process's stdout). */
  stdout: NodeJS.WritableStream;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** @default '0.0.0' */
  version?: string | undefined;
}

/** The `/mcp` tool set over stdio. */
export interface StdioMcpServer {
  /** Resolves when the client went away (stdin ended) or `close()` was called. */
  readonly closed: Promise<void>;
  /** Stops serving and aborts calls in flight. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Serves `/mcp`'s tool set over stdio for desktop clients (`mcpproxy serve --stdio`): nothing but JSON-RPC is
 * written to `stdout` (logs belong on stderr). Ends when stdin ends.
 */
export async function serveStdio({
  management,
  bus,
  config,
  stdin,
  stdout,
  logger = silentLogger,
  version = '0.0.0',
}: StdioMcpOptions): Promise<StdioMcpServer> {
  const abort = new AbortController();
  const { server, close: closeServer } = createSearchServer({ management, config, bus, logger, version }, abort.signal);
  const transport = new StdioServerTransport(stdin as never, stdout as never);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      abort.abort(new Error('stdio MCP server closed'));
      await closeServer();
      resolveClosed();
    })();
    return closing;
  };
  transport.onclose = () => void close();
  stdin.on('end', () => void close());
  stdin.on('close', () => void close());
  await server.connect(transport);
  // server.connect replaced onclose with the SDK's; chain ours so a transport close also settles `closed`.
  const sdkOnClose = transport.onclose;
  transport.onclose = () => {
    sdkOnClose?.();
    void close();
  };
  logger.info('serving MCP over stdio');
  return { closed, close, [Symbol.asyncDispose]: close };
}
