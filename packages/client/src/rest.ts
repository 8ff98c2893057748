import {
  type BulkResult,
  BulkResultSchema,
  type Diagnostic,
  DiagnosticSchema,
  type SecurityFindingsResponse,
  SecurityFindingsResponseSchema,
  type ServerHealth,
  ServerHealthSchema,
  type ServerSummary,
  ServerSummarySchema,
  type ServersResponse,
  ServersResponseSchema,
  type StatusResponse,
  StatusResponseSchema,
  systemClock,
  type ToolInfo,
  ToolInfoSchema,
  type ToolSearchHit,
  ToolSearchHitSchema,
} from '@mcpproxy/contracts';
import { ClientError, errorFromResponse } from './errors.js';
import { fillPath, REST_ROUTES, type RestRouteName } from './routes.js';
import type {
  ActivityFilters,
  ActivityPage,
  ActivityQuery,
  ActivityRecord,
  ActivityStats,
  ActivityStatsQuery,
  ConfigReload,
  ConfigValidation,
  FetchLike,
  LiveQuery,
  NewServer,
  PromptInfo,
  RequestOptions,
  RestClientOptions,
  ServerDetail,
  ServerPatch,
  ToolCallResult,
} from './types.js';

/** The typed REST client of `/api/v1` (docs/rest.md). Every method rejects with a {@link ClientError}. */
export interface RestClient {
  /** The server root this client talks to, without a trailing slash (e.g. `http://127.0.0.1:8080`). */
  readonly baseUrl: string;
  /** `GET /status`: app state, listen address, epoch/seq and server counts. */
  status(options?: RequestOptions): Promise<StatusResponse>;
  /** `GET /servers`: every server, ordered by name. */
  listServers(options?: RequestOptions): Promise<ServersResponse>;
  /** `POST /servers`: adds a server (quarantined unless `quarantined: false` is given by a person). */
  addServer(entry: NewServer, options?: RequestOptions): Promise<ServerSummary>;
  /** `GET /servers/{name}`: the row and the masked config entry. */
  getServer(name: string, options?: RequestOptions): Promise<ServerDetail>;
  /** `PATCH /servers/{name}`: changes fields (merge patch; `null` removes a field). */
  updateServer(name: string, patch: ServerPatch, options?: RequestOptions): Promise<ServerSummary>;
  /** `DELETE /servers/{name}`. */
  removeServer(name: string, options?: RequestOptions): Promise<void>;
  /** `POST /servers/{name}/enable`. */
  enableServer(name: string, options?: RequestOptions): Promise<ServerSummary>;
  /** `POST /servers/{name}/disable`. */
  disableServer(name: string, options?: RequestOptions): Promise<ServerSummary>;
  /** `POST /servers/{name}/restart`. */
  restartServer(name: string, options?: RequestOptions): Promise<ServerSummary>;
  /** `POST /servers/{name}/quarantine`. */
  quarantineServer(name: string, options?: RequestOptions): Promise<ServerSummary>;
  /** `POST /servers/{name}/unquarantine` (a person's operation). */
  unquarantineServer(name: string, options?: RequestOptions): Promise<ServerSummary>;
  /** `POST /servers/enable_all` (of one group when given); continues past failures. */
  enableAll(body?: { group?: string | undefined }, options?: RequestOptions): Promise<BulkResult>;
  /** `POST /servers/disable_all`. */
  disableAll(body?: { group?: string | undefined }, options?: RequestOptions): Promise<BulkResult>;
  /** `POST /servers/restart_all`. */
  restartAll(body?: { group?: string | undefined }, options?: RequestOptions): Promise<BulkResult>;
  /** `GET /servers/{name}/tools`: the tools with their pinning state. */
  serverTools(name: string, options?: RequestOptions): Promise<{ tools: ToolInfo[] }>;
  /** `POST /servers/{name}/tools/approve`: the named tools, or every pending and changed one. */
  approveTools(name: string, tools?: readonly string[], options?: RequestOptions): Promise<{ approved: string[] }>;
  /** `GET /servers/{name}/health`. */
  serverHealth(name: string, options?: RequestOptions): Promise<ServerHealth>;
  /** `GET /diagnostics`: findings with their fixes. */
  diagnostics(options?: RequestOptions): Promise<{ diagnostics: Diagnostic[] }>;
  /**
   * `POST /servers/{name}/scan`: the tool scanner scans every tool of the server again and answers each result;
   * approved tools that now block are held until a person approves them.
   */
  scanServer(name: string, options?: RequestOptions): Promise<SecurityFindingsResponse>;
  /**
   * `GET /servers/{name}/prompts`: the prompts last listed through `/mcp/servers/{name}`, with their pinning state
   * (`approved`, `pending`, `changed`).
   */
  serverPrompts(name: string, options?: RequestOptions): Promise<{ prompts: PromptInfo[] }>;
  /** `POST /servers/{name}/prompts/approve`: the named prompts, or every pending and changed one. */
  approvePrompts(name: string, prompts?: readonly string[], options?: RequestOptions): Promise<{ approved: string[] }>;
  /** `GET /security/findings`: every current tool definition the tool scanner has findings on. */
  securityFindings(options?: RequestOptions): Promise<SecurityFindingsResponse>;
  /** `GET /tools?q=&limit=`: callable tools, best first (a blank query finds nothing). */
  searchTools(
    query: string,
    options?: RequestOptions & { limit?: number | undefined },
  ): Promise<{ tools: ToolSearchHit[] }>;
  /** `POST /tools/call`: calls `server:tool`. An `isError` result resolves; transport failures reject. */
  callTool(name: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<ToolCallResult>;
  /** `GET /config`: the effective config, secrets masked. */
  getConfig(options?: RequestOptions): Promise<Record<string, unknown>>;
  /** `POST /config/validate`: validates a config without applying it. */
  validateConfig(config: Record<string, unknown>, options?: RequestOptions): Promise<ConfigValidation>;
  /** `POST /config/reload`: re-reads the config file now. */
  reloadConfig(options?: RequestOptions): Promise<ConfigReload>;
  /**
   * The URL of `GET /api/v1/events` (server-sent events) for an `EventSource`, with the filters and the API key
   * (as `apikey=`, since `EventSource` cannot send headers). It makes no request.
   */
  eventsUrl(query?: LiveQuery): string;
  /** `GET /activity`: a page of the activity log, newest first, filtered. */
  listActivity(query?: ActivityQuery, options?: RequestOptions): Promise<ActivityPage>;
  /** `GET /activity/{id}`: one record. */
  getActivity(id: number, options?: RequestOptions): Promise<ActivityRecord>;
  /** `GET /activity/stats`: calls, errors, p50/p95 per server or tool over a window, in buckets. */
  activityStats(query?: ActivityStatsQuery, options?: RequestOptions): Promise<ActivityStats>;
  /**
   * `GET /activity/export`: every matching record, oldest first, as NDJSON or CSV text chunks as they arrive (the
   * export is streamed; nothing is held whole).
   */
  exportActivity(
    query?: ActivityFilters & { format?: 'ndjson' | 'csv' | undefined },
    options?: RequestOptions,
  ): Promise<AsyncIterable<string>>;
}

/** Query parameters from an object, leaving out what is undefined. */
function queryOf(values: object): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, String(value));
  return params;
}

/** Normalises a server URL to its root: no trailing slash, no `/api/v1`. */
export function serverRoot(url: string): string {
  let root = url.trim().replace(/\/+$/, '');
  if (root.endsWith('/api/v1')) root = root.slice(0, -'/api/v1'.length);
  if (!/^https?:\/\//i.test(root)) throw new TypeError(`not an http(s) URL: ${url}`);
  return root;
}

/** Adds the live filters and resume point to `params` in the form the server reads (docs/live.md). */
export function liveParams(query: LiveQuery, apiKey?: string): URLSearchParams {
  const params = new URLSearchParams();
  if (query.types && query.types.length > 0) params.set('types', query.types.join(','));
  for (const server of query.servers ?? []) params.append('server', server);
  if (query.since !== undefined && query.epoch !== undefined) {
    params.set('since', String(query.since));
    params.set('epoch', query.epoch);
  }
  if (apiKey) params.set('apikey', apiKey);
  return params;
}

/** Something with zod's `safeParse` (kept structural so this package needs no zod of its own). */
interface Schema {
  safeParse(value: unknown): { success: true } | { success: false; error: { message: string } };
}

/** `{[key]: T[]}` checked element by element with the contracts' schema of `T`. */
function listOf(key: string, item: Schema): Schema {
  return {
    safeParse(value) {
      const list = (value as Record<string, unknown> | null)?.[key];
      if (!Array.isArray(list)) return { success: false, error: { message: `"${key}" is not an array` } };
      for (const [i, element] of list.entries()) {
        const parsed = item.safeParse(element);
        if (!parsed.success) return { success: false, error: { message: `${key}[${i}]: ${parsed.error.message}` } };
      }
      return { success: true };
    },
  };
}

const ToolsSchema = listOf('tools', ToolInfoSchema);
const HitsSchema = listOf('tools', ToolSearchHitSchema);
const DiagnosticsSchema = listOf('diagnostics', DiagnosticSchema);

interface Call {
  params?: Record<string, string>;
  query?: URLSearchParams;
  body?: unknown;
  /** Validates the answer at the edge; a mismatch is `BAD_RESPONSE`. */
  schema?: Schema;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Hands back the response body as a stream of text chunks instead of parsing it (after a 2xx). */
  stream?: boolean;
}

/**
 * Creates the REST client. It never throws anything but {@link ClientError}: problem+json answers keep their `code`,
 * `status` and `detail`; no answer is `UNREACHABLE` (or `TIMEOUT`).
 *
 * @example
 * const api = createRestClient({ url: 'http://127.0.0.1:8080', apiKey: process.env.MCPPROXY_API_KEY });
 * const { servers } = await api.listServers();
 */
export function createRestClient({
  url,
  apiKey,
  fetch: fetchFn = globalThis.fetch as FetchLike | undefined,
  timeoutMs = 30_000,
  callTimeoutMs = 150_000,
  clock = systemClock,
  clientName,
}: RestClientOptions): RestClient {
  if (!fetchFn) throw new TypeError('no fetch: pass one in the options (Node 18+ and browsers have a global fetch)');
  // Always called as a plain function: a browser's fetch throws "Illegal invocation" when called as another
  // object's method.
  const doFetch: FetchLike = (input, init) => fetchFn(input, init);
  const baseUrl = serverRoot(url);

  async function request<T>(route: RestRouteName, call: Call = {}): Promise<T> {
    const { method, path } = REST_ROUTES[route];
    const query = call.query?.toString();
    const target = `${baseUrl}/api/v1${fillPath(path, call.params)}${query ? `?${query}` : ''}`;
    const what = `${method} ${fillPath(path, call.params)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    if (clientName) headers['x-mcpproxy-client'] = clientName;
    if (call.body !== undefined) headers['content-type'] = 'application/json';

    const controller = new AbortController();
    let timedOut = false;
    const limit = call.timeoutMs ?? timeoutMs;
    const timer =
      limit > 0
        ? clock.setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, limit)
        : undefined;
    const onAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onAbort, { once: true });
    if (call.signal?.aborted) controller.abort();
    try {
      let response: Response;
      try {
        response = await doFetch(target, {
          method,
          headers,
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) {
          const why = timedOut ? `no answer within ${limit} ms` : 'aborted';
          throw new ClientError('TIMEOUT', `${what}: ${why}`, { request: what, cause: error });
        }
        throw new ClientError('UNREACHABLE', `${what}: cannot reach ${baseUrl} (${describe(error)})`, {
          request: what,
          cause: error,
        });
      }
      if (call.stream && response.ok && response.body) return textChunks(response.body) as T;
      const text = await response.text().catch((error: unknown) => {
        throw new ClientError('UNREACHABLE', `${what}: the answer broke off (${describe(error)})`, { cause: error });
      });
      let body: unknown;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch (error) {
          if (response.ok) {
            throw new ClientError('BAD_RESPONSE', `${what}: the answer is not JSON`, {
              status: response.status,
              cause: error,
            });
          }
        }
      }
      if (!response.ok) throw errorFromResponse(response.status, body, what);
      if (call.schema) {
        const parsed = call.schema.safeParse(body);
        if (!parsed.success) {
          throw new ClientError(
            'BAD_RESPONSE',
            `${what}: the answer does not match the API (${parsed.error.message})`,
            {
              status: response.status,
            },
          );
        }
        // The parsed copy would drop fields a newer server adds; hand back the body as sent.
      }
      return body as T;
    } finally {
      clock.clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  const named = (name: string) => ({ name });
  const bulkBody = (body: { group?: string | undefined } = {}) => (body.group ? { group: body.group } : {});

  return {
    baseUrl,
    status: (o) => request('status', { schema: StatusResponseSchema, signal: o?.signal }),
    listServers: (o) => request('listServers', { schema: ServersResponseSchema, signal: o?.signal }),
    addServer: (entry, o) => request('addServer', { body: entry, schema: ServerSummarySchema, signal: o?.signal }),
    getServer: (name, o) => request('getServer', { params: named(name), signal: o?.signal }),
    updateServer: (name, patch, o) =>
      request('updateServer', { params: named(name), body: patch, schema: ServerSummarySchema, signal: o?.signal }),
    removeServer: (name, o) => request('removeServer', { params: named(name), signal: o?.signal }),
    enableServer: (name, o) =>
      request('enableServer', { params: named(name), schema: ServerSummarySchema, signal: o?.signal }),
    disableServer: (name, o) =>
      request('disableServer', { params: named(name), schema: ServerSummarySchema, signal: o?.signal }),
    restartServer: (name, o) =>
      request('restartServer', { params: named(name), schema: ServerSummarySchema, signal: o?.signal }),
    quarantineServer: (name, o) =>
      request('quarantineServer', { params: named(name), schema: ServerSummarySchema, signal: o?.signal }),
    unquarantineServer: (name, o) =>
      request('unquarantineServer', { params: named(name), schema: ServerSummarySchema, signal: o?.signal }),
    enableAll: (body, o) => request('enableAll', { body: bulkBody(body), schema: BulkResultSchema, signal: o?.signal }),
    disableAll: (body, o) =>
      request('disableAll', { body: bulkBody(body), schema: BulkResultSchema, signal: o?.signal }),
    restartAll: (body, o) =>
      request('restartAll', { body: bulkBody(body), schema: BulkResultSchema, signal: o?.signal }),
    serverTools: (name, o) => request('serverTools', { params: named(name), schema: ToolsSchema, signal: o?.signal }),
    approveTools: (name, tools, o) =>
      request('approveTools', { params: named(name), body: tools ? { tools: [...tools] } : {}, signal: o?.signal }),
    serverHealth: (name, o) =>
      request('serverHealth', { params: named(name), schema: ServerHealthSchema, signal: o?.signal }),
    diagnostics: (o) => request('diagnostics', { schema: DiagnosticsSchema, signal: o?.signal }),
    scanServer: (name, o) =>
      request('scanServer', { params: named(name), schema: SecurityFindingsResponseSchema, signal: o?.signal }),
    serverPrompts: (name, o) => request('serverPrompts', { params: named(name), signal: o?.signal }),
    approvePrompts: (name, prompts, o) =>
      request('approvePrompts', {
        params: named(name),
        body: prompts ? { prompts: [...prompts] } : {},
        signal: o?.signal,
      }),
    securityFindings: (o) => request('securityFindings', { schema: SecurityFindingsResponseSchema, signal: o?.signal }),
    searchTools: (q, o) => {
      const query = new URLSearchParams({ q });
      if (o?.limit !== undefined) query.set('limit', String(o.limit));
      return request('searchTools', { query, schema: HitsSchema, signal: o?.signal });
    },
    callTool: (name, args = {}, o) =>
      request('callTool', { body: { name, arguments: args }, timeoutMs: callTimeoutMs, signal: o?.signal }),
    getConfig: (o) => request('getConfig', { signal: o?.signal }),
    validateConfig: (config, o) => request('validateConfig', { body: config, signal: o?.signal }),
    reloadConfig: (o) => request('reloadConfig', { signal: o?.signal }),
    eventsUrl: (query = {}) => {
      const params = liveParams(query, apiKey).toString();
      return `${baseUrl}/api/v1${REST_ROUTES.eventsUrl.path}${params ? `?${params}` : ''}`;
    },
    listActivity: (query = {}, o) => request('listActivity', { query: queryOf(query), signal: o?.signal }),
    getActivity: (id, o) => request('getActivity', { params: { id: String(id) }, signal: o?.signal }),
    activityStats: (query = {}, o) => request('activityStats', { query: queryOf(query), signal: o?.signal }),
    exportActivity: (query = {}, o) =>
      request('exportActivity', { query: queryOf(query), stream: true, timeoutMs: 0, signal: o?.signal }),
  };
}

/** A response body as text chunks (UTF-8, split characters kept whole across chunks). */
async function* textChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    reader.releaseLock();
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  return error instanceof Error ? error.message : String(error);
}
