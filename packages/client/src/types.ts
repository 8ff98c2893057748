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
