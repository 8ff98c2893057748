import type { Clock, ServerConfigInput, ServerSummary } from '@mcpproxy/contracts';

/** The `fetch` the clients use: the global one in browsers and Node 18+, or any compatible function. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Options of {@link createRestClient}. */
export interface RestClientOptions {
  /** The server's root, e.g. `http://127.0.0.1:8080` (a trailing `/` or `/api/v1` is accepted too). */
  url: string;
  /** The API key, sent as `Authorization: Bearer`. @default none */
  apiKey?: string | undefined;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** How long one request may take before it fails with `TIMEOUT`; `0` waits forever. @default 30000 */
  timeoutMs?: number | undefined;
  /**
   * How long a tool call (`callTool`) may take; the server's own `call_tool_timeout` (2 min by default) should
   * answer first. @default 150000
   */
  callTimeoutMs?: number | undefined;
  /** Time source of the timeouts. @default systemClock */
  clock?: Clock | undefined;
  /**
   * Who is calling, sent as `X-MCPProxy-Client` (the CLI sends `cli`, so its tool calls and actions are recorded as
   * made by the CLI in the activity log). A browser sends no such header unless given. @default none
   */
  clientName?: string | undefined;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the request (the call rejects with `TIMEOUT`). */
  signal?: AbortSignal | undefined;
}

/** `GET /servers/{name}`: the row and the masked config entry. */
export interface ServerDetail {
  summary: ServerSummary;
  /** The config entry with secret values as `"***"`. */
  config: Record<string, unknown>;
}

/** `POST /tools/call`: the upstream's result as sent (`isError` results included). */
export interface ToolCallResult {
  content: unknown[];
  structuredContent?: Record<string, unknown> | undefined;
  isError?: boolean | undefined;
  [key: string]: unknown;
}

/** `POST /config/validate`. */
export interface ConfigValidation {
  ok: boolean;
  issues: { path: string; rule: string; message: string }[];
}

/** `POST /config/reload`. */
export interface ConfigReload {
  ok: true;
  config: Record<string, unknown>;
}

/** A server entry for `addServer` (fields of docs/configuration.md). */
export type NewServer = ServerConfigInput;

/** A merge patch for `updateServer`: fields to change, `null` to remove one. */
export type ServerPatch = { [K in keyof Omit<ServerConfigInput, 'name'>]?: ServerConfigInput[K] | null };

/** Query of the live endpoints (`/events`, `/ws/events`). */
export interface LiveQuery {
  /** Only these event types. @default all */
  types?: readonly string[] | undefined;
  /** Only these servers (server-scoped events). @default all */
  servers?: readonly string[] | undefined;
  /** Resume after this seq (with `epoch`). */
  since?: number | undefined;
  /** The epoch `since` belongs to. */
  epoch?: string | undefined;
}

/** One prompt of `GET /servers/{name}/prompts`: pinned like a tool on `/mcp/servers/{name}`. */
export interface PromptInfo {
  name: string;
  description?: string | undefined;
  arguments?: unknown;
  hash: string;
  approval: 'approved' | 'pending' | 'changed';
  /** For `changed` prompts: the approved hash it no longer matches. */
  approved_hash?: string | undefined;
}

/** Filters of the activity log's reads (`GET /activity`, `/activity/export`); docs/activity.md. */
export interface ActivityFilters {
  server?: string | undefined;
  tool?: string | undefined;
  /** `ok` | `error` | `timeout` | `rejected` | `circuit_open` | `blocked`. */
  status?: string | undefined;
  session?: string | undefined;
  /** Client name from the MCP `initialize`. */
  client?: string | undefined;
  /** `tool_call` | `lifecycle` | `management`. */
  kind?: string | undefined;
  /** Words in the tool name, error or payload. */
  q?: string | undefined;
  /** ISO time or epoch ms, inclusive. */
  since?: string | number | undefined;
  /** ISO time or epoch ms, exclusive. */
  until?: string | number | undefined;
}

/** `GET /activity` query: filters plus keyset paging. */
export interface ActivityQuery extends ActivityFilters {
  /** 1–1000. @default 50 */
  limit?: number | undefined;
  /** `next_cursor` of the previous page. */
  cursor?: string | undefined;
}

/** One record of the activity log. */
export interface ActivityRecord {
  id: number;
  time: string;
  kind: 'tool_call' | 'lifecycle' | 'management';
  server: string | null;
  tool: string | null;
  surface: 'mcp' | 'mcp_all' | 'mcp_server' | 'rest' | 'cli' | null;
  session: string | null;
  client_name: string | null;
  client_version: string | null;
  status: string | null;
  duration_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  request_bytes: number | null;
  response_bytes: number | null;
  arguments: string | null;
  result: string | null;
  arguments_truncated: boolean;
  result_truncated: boolean;
  action: string | null;
  actor: string | null;
  detail: string | null;
}

/** A page of records, newest first; `next_cursor` is `null` on the last page. */
export interface ActivityPage {
  records: ActivityRecord[];
  next_cursor: string | null;
}

/** Calls, errors and duration percentiles. */
export interface ActivityFigures {
  calls: number;
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/** `GET /activity/stats`: per server or `server:tool`, over the window and per bucket. */
export interface ActivityStats {
  group_by: 'server' | 'tool';
  since: string;
  until: string;
  window_ms: number;
  bucket_ms: number;
  groups: Array<ActivityFigures & { key: string; buckets: Array<ActivityFigures & { start: string }> }>;
}

/** `GET /activity/stats` query. */
export interface ActivityStatsQuery {
  /** @default 'server' */
  group_by?: 'server' | 'tool' | undefined;
  /** A duration such as `1h`. @default '1h' */
  window?: string | undefined;
  /** Bucket width. @default a twelfth of the window */
  bucket?: string | undefined;
}
