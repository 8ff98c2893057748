import type { Supervisor } from '@mcpproxy/actor';
import type { ConfigService } from '@mcpproxy/configsvc';
import type {
  BulkResult,
  Clock,
  Config,
  Diagnostic,
  ErrorCode,
  Logger,
  ServerConfig,
  ServerConfigInput,
  ServerHealth,
  ServerSummary,
  StatusResponse,
  ToolInfo,
  ToolSearchHit,
  UpstreamCallResult,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { StateView } from '@mcpproxy/stateview';
import type { ManagementError } from './errors.js';
import type { OperationName } from './rules.js';

/**
 * Who asks. Gates are the same for everyone; `unquarantineServer` and `approveTools` are human-only, so a
 * caller with `source: 'mcp'` (an agent) is refused with `HUMAN_ONLY` (403), adds from MCP are always
 * quarantined, and an MCP update that changes how a server is started or reached puts it back in quarantine.
 * Every other source counts as a person.
 */
export type Caller = {
  source: CallerSource;
  /** Echoed in log lines so an operation can be traced to its request. @default none */
  requestId?: string | undefined;
};

/** Where a management call comes from; only `mcp` is an agent. */
export type CallerSource = 'rest' | 'cli' | 'web' | 'mcp' | 'internal';

/** Why a management operation failed; `code` is one of the API error codes of docs/rest.md. */
export type ManagementErrorCode = ErrorCode;

/** The tool index the service keeps in sync with callable tools (`@mcpproxy/search` satisfies it). */
export interface ToolIndexLike {
  add(
    server: string,
    tools: readonly { name: string; description?: string | undefined; inputSchema?: unknown }[],
  ): void;
  remove(server: string): void;
  search(query: string, options?: { limit?: number | undefined }): { server: string; tool: string; score: number }[];
}

export interface ManagementOptions {
  /** The config service: every config-changing operation goes through its `apply()`; its gates are checked here. */
  config: ConfigService;
  /** The supervisor subscribed to `config`: it turns each saved config into actors (one path for every change). */
  supervisor: Supervisor;
  /** The read model every read answers from. */
  view: StateView;
  /** The bus: index sync, tool statistics and failure reasons listen to it. */
  bus: EventBus;
  /** Search index; kept in sync with every ready server's callable tools. @default none (searchTools → []) */
  index?: ToolIndexLike | undefined;
  /** Time source of every bounded wait. @default systemClock */
  clock?: Clock | undefined;
  /** One info line per management write (operation, server, caller source, request id; never secrets). @default silentLogger */
  logger?: Logger | undefined;
  /**
   * How long a config-changing operation waits, after its config is saved, for the supervisor's report that it
   * applied and published the change (`supervisor.reconciled()`, so the returned summary shows it). Past it the operation still
   * succeeds and answers with the summary as it stands. @default 5000
   */
  settleTimeoutMs?: number | undefined;
  /**
   * How long `restartServer` (and `enableServer` of an auto-disabled server) waits for the new connect attempt to
   * settle before answering with the current summary (often `connecting`). A slow upstream never holds up the
   * caller longer than this. @default 2000
   */
  commandWaitMs?: number | undefined;
  /**
   * Hears every tool call made through `callTool` once it settled, whatever its outcome (the activity log). Runs
   * on the call path: it must only queue. A throw is logged and ignored. @default none
   */
  onToolCall?: ((call: ToolCallReport) => void) | undefined;
  /** Hears every management write once it settled (the activity log); must only queue. @default none */
  onAction?: ((action: ActionReport) => void) | undefined;
}

/** Per-tool call statistics (`tools_stat`), kept from every `tool_called` on the bus. */
export interface ToolStat {
  /** `server:tool`. */
  name: string;
  /** Every call, whatever its outcome. */
  calls: number;
  /** Calls that failed upstream or answered `isError: true`. */
  errors: number;
  /** Calls past their deadline. */
  timeouts: number;
  /** Calls refused before reaching the upstream (circuit open, not approved, not ready, …). */
  rejected: number;
  /** Sum of the calls' durations in milliseconds. */
  total_ms: number;
  /** ISO time of the last call. */
  last_called_at: string | null;
}

/** A server as `GET /servers/{name}` returns it: the summary plus its (masked) config entry. */
export interface ServerDetail {
  summary: ServerSummary;
  /** The config entry with `env` and `headers` values masked. */
  config: ServerConfig;
}

/** Where a tool call came from, for the activity log. */
export interface ToolCallOrigin {
  /** The surface: `/mcp` (`mcp`), `/mcp/all` (`mcp_all`), `/mcp/servers/{name}` (`mcp_server`), REST or CLI. */
  surface: 'mcp' | 'mcp_all' | 'mcp_server' | 'rest' | 'cli';
  /** MCP session id. */
  session?: string | undefined;
  /** The client's `clientInfo` from `initialize`. */
  client?: { name?: string | undefined; version?: string | undefined } | undefined;
}

/** One finished tool call, as {@link ManagementOptions.onToolCall} hears it. */
export interface ToolCallReport {
  server: string;
  tool: string;
  /** `undefined` when the caller gave none. */
  origin: ToolCallOrigin | undefined;
  arguments: Record<string, unknown>;
  /** The upstream result (also an `isError` one); `undefined` when the call failed. */
  result?: UpstreamCallResult | undefined;
  /** Why it failed. */
  error?: ManagementError | undefined;
  /** Clock ms when it started. */
  started: number;
  duration_ms: number;
}

/** One management write, as {@link ManagementOptions.onAction} hears it. */
export interface ActionReport {
  /** The operation's method name (`addServer`, `enableAll`, …). */
  operation: string;
  /** The server it names, when it names one. */
  server?: string | undefined;
  caller: Caller | undefined;
  /** Why it failed; `undefined` when it succeeded. */
  error?: ManagementError | undefined;
}

export interface CallToolOptions {
  /** Aborts the call (the upstream is sent `notifications/cancelled`). @default none */
  signal?: AbortSignal | undefined;
  /** Where the call came from (reported to `onToolCall`). @default none */
  origin?: ToolCallOrigin | undefined;
  /** Deadline of the call in milliseconds. @default config.call_tool_timeout */
  timeoutMs?: number | undefined;
}

/** Options of the bulk operations. */
export interface BulkOptions {
  /** Only servers whose `groups` include this one. @default every server */
  group?: string | undefined;
}

/** Options of {@link ManagementService.searchTools}. */
export interface SearchToolsOptions {
  /** Most hits; clamped to 1–100. @default config.tools_limit */
  limit?: number | undefined;
}

/**
 * The one service behind the CLI, the REST API and the MCP `upstream_servers` tool. The gates
 * (`read_only_mode`, `disable_management`) and the human-only rules are enforced here and only here; every
 * failure is a {@link ManagementError} whose `code` is an API error code.
 */
export interface ManagementService {
  /**
   * Whether `caller` may run `operation` now (human-only rule and gates, as the operation itself would check),
   * so a surface can hide what would be refused (docs/mcp.md).
   */
  allowed(operation: OperationName, caller: Caller): boolean;
  /** Process-wide status: app info, listen address, bus epoch/seq and server counts by state. */
  status(): StatusResponse;
  /** Every server's summary, from the read model (same tick, whatever the upstreams do). */
  listServers(): readonly ServerSummary[];
  /** One server's summary and masked config entry. `NOT_FOUND` when it is not configured. */
  getServer(name: string): ServerDetail;
  /**
   * Adds a server: quarantined when `quarantine_enabled` (unless a person passes `quarantined: false`), and
   * always when the caller is MCP. `INVALID_CONFIG` (with issues) for a bad entry, `CONFLICT` on a taken name.
   */
  addServer(input: ServerConfigInput, caller: Caller): Promise<ServerSummary>;
  /**
   * Deep-merges `patch` into the entry (objects merged, arrays and scalars replaced, `null` removes a key as in
   * RFC 7396); `name` cannot change (`BAD_REQUEST`). The result is validated (`INVALID_CONFIG`).
   */
  updateServer(name: string, patch: Partial<ServerConfigInput>, caller: Caller): Promise<ServerSummary>;
  /** Removes the entry; resolves once its actor has stopped (or after `settleTimeoutMs`). */
  removeServer(name: string, caller: Caller): Promise<void>;
  /** Sets `enabled: true` (and clears an auto-disable). `CONFLICT` while the server is quarantined. */
  enableServer(name: string, caller: Caller): Promise<ServerSummary>;
  /** Sets `enabled: false`; the actor stops. */
  disableServer(name: string, caller: Caller): Promise<ServerSummary>;
  /**
   * Reconnects the server (not a config change). Answers once the new attempt settled or after `commandWaitMs`,
   * whichever comes first. `CONFLICT` while the server is disabled or quarantined.
   */
  restartServer(name: string, caller: Caller): Promise<ServerSummary>;
  /** Enables every server (of `group`) in one config save; quarantined ones fail individually. */
  enableAll(options: BulkOptions, caller: Caller): Promise<BulkResult>;
  /** Disables every server (of `group`) in one config save. */
  disableAll(options: BulkOptions, caller: Caller): Promise<BulkResult>;
  /** Restarts every server (of `group`) in parallel; disabled and quarantined ones fail individually. */
  restartAll(options: BulkOptions, caller: Caller): Promise<BulkResult>;
  /** Puts the server in quarantine: it stops and is not started again until a person approves it. */
  quarantineServer(name: string, caller: Caller): Promise<ServerSummary>;
  /** Human-only: approves a quarantined server, which then starts (its first listing is the new baseline). */
  unquarantineServer(name: string, caller: Caller): Promise<ServerSummary>;
  /** Human-only. Approves `tools` (all pending and changed when omitted); returns the names whose state changed. */
  approveTools(name: string, tools: readonly string[] | undefined, caller: Caller): Promise<string[]>;
  /** Every tool of the server's last listing with its hash and approval state. */
  getServerTools(name: string): readonly ToolInfo[];
  /** State, circuit, last error and the (scrubbed) stderr tail of one server. */
  getServerHealth(name: string): ServerHealth;
  /** Findings over every server, each with a code, a severity and a concrete fix. */
  runDiagnostics(): Diagnostic[];
  /** Searches the callable tools of ready servers; `[]` without an index or for a blank query. */
  searchTools(query: string, options?: SearchToolsOptions): ToolSearchHit[];
  /**
   * Calls `server:tool` through the server's actor (circuit breaker, pinning, deadline). The actor publishes
   * `tool_called` (never arguments or results); nothing here logs arguments or results either.
   */
  callTool(name: string, args: Record<string, unknown>, options?: CallToolOptions): Promise<UpstreamCallResult>;
  /** Call statistics per `server:tool`, sorted by name. */
  toolStats(): ToolStat[];
  /** The effective config with secrets masked. */
  maskedConfig(): Config;
  /** Unsubscribes from the bus and settles pending waits; later writes reject `INTERNAL`. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
