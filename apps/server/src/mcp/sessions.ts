import { randomUUID } from 'node:crypto';
import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import {
  directRequest,
  endedStream,
  jsonAnswer,
  LazyRequestInfo,
  readPostBody,
  transportAnswers,
  withBody,
} from './direct-post.js';
import { createSessionEventStore } from './event-store.js';

/** Why a session ended. */
export type SessionEndReason = 'deleted' | 'expired' | 'evicted' | 'upstream_closed' | 'closed' | 'failed';

/** What an endpoint attaches to a new session's transport. */
export interface SessionBinding {
  /** Called once when the session ends, for whatever reason; must not throw. */
  close(reason: SessionEndReason): Promise<void> | void;
  /**
   * Whether the answer to this request may go back as one JSON body instead of an event stream: nothing tied to the
   * request (progress, a server-to-client request, a log message) can reach the client before its answer. Asked
   * for each POST of one request on a table without `jsonAnswers`. @default never
   */
  answersAsJson?(message: JSONRPCRequest): boolean;
}

/** A live session of one endpoint. */
export interface McpSession {
  /** `Mcp-Session-Id` (set once `initialize` was accepted). */
  readonly id: string | undefined;
  /** The endpoint key (`mcp`, `all`, or the server name for `/mcp/servers/{name}`). */
  readonly key: string;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** Aborted when the session ends: every upstream call made for it takes this signal. */
  readonly signal: AbortSignal;
  /** A request of the client in flight, or a standalone stream open: the session is in use and never evicted. */
  readonly busy: boolean;
  /** When the client last sent or was sent anything (clock ms). */
  readonly lastActive: number;
  /** A standalone (GET) event stream of the client is open: messages sent without a related request reach it. */
  readonly listening: boolean;
  /** Ends the session (idempotent); later requests with its id get 404. */
  end(reason: SessionEndReason): Promise<void>;
}

/** Refuses a new session before anything is created (e.g. an unknown upstream). */
export class SessionRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SessionRefusal';
  }
}

/** Counters of one endpoint's session table. */
export interface SessionTableStats {
  /** Sessions alive now. */
  sessions: number;
  /** Sessions ever opened. */
  opened: number;
  /** Ended by `DELETE`. */
  deleted: number;
  /** Ended after `sessionIdleMs` without activity, or after `unusedMs` with no request since `initialize`. */
  expired: number;
  /** Evicted (least recently active idle session) to make room at `maxSessions`. */
  evicted: number;
  /** New sessions refused with 503 because every session was busy at `maxSessions`. */
  rejected: number;
}

export interface SessionTableOptions {
  /** Label in log lines. */
  label: string;
  clock: Clock;
  logger: Logger;
  /** A session with no request in flight, no open stream and no traffic for this long ends. */
  idleMs: number;
  /**
   * A session that made no request since `initialize` (and holds no stream open) ends after this long, so clients
   * that initialize and leave cost little. Capped by `idleMs`.
   */
  unusedMs: number;
  /** Most sessions alive at once; past it the least recently active idle one is evicted, else 503. */
  maxSessions: number;
  /** Messages kept per session for `Last-Event-ID` resumption; `0` turns resumption off. */
  eventBuffer: number;
  /** SSE `retry` hint (ms) sent in priming events when resumption is on. */
  retryIntervalMs: number;
  /**
   * The endpoint never sends a message tied to a request before its answer (no progress, no server-to-client
   * request), so a POST can be answered with one JSON body instead of an SSE stream: the same messages at less CPU
   * (no stream, no separate header write). Ignored while resumption is on, whose answers must stay replayable.
   * Without it, a binding's `answersAsJson` decides per request (also only while resumption is off).
   */
  jsonAnswers?: boolean;
}

const JSONRPC_HEADERS = { 'content-type': 'application/json' };

/** A JSON-RPC error response with an HTTP status, as the SDK transport answers. */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { ...JSONRPC_HEADERS, ...headers },
  });
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } =>
  'method' in m && 'id' in m;
const isResponse = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number } =>
  ('result' in m || 'error' in m) && 'id' in m;

function hasInitialize(body: unknown): boolean {
  const one = (m: unknown) =>
    typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize' && 'id' in m;
  return Array.isArray(body) ? body.some(one) : one(body);
}

class Session implements McpSession {
  id: string | undefined;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly #abort = new AbortController();
  readonly signal: AbortSignal = this.#abort.signal;
  lastActive: number;
  /** JSON-RPC requests from the client not yet answered. */
  readonly pending = new Set<string | number>();
  /** Open GET (standalone SSE) streams. */
  streams = 0;
  /** Whether the client sent any request after its `initialize`. */
  used = false;
  binding: SessionBinding | undefined;
  #ended: Promise<void> | undefined;
  #ending = false;
  /** Requests taken on the direct path, each with how its HTTP answer is given. */
  readonly #waiting = new Map<RequestId, (res: Response) => void>();
  /** Whether POSTs may take the direct path (resumption off: a direct answer cannot be replayed). */
  readonly #direct: boolean;
  /** Whether every direct request is answered in JSON (else the binding decides). */
  readonly #allJson: boolean;

  constructor(
    readonly key: string,
    private readonly table: SessionTable,
  ) {
    this.lastActive = table.clock.now();
    const { eventBuffer, retryIntervalMs, jsonAnswers } = table.options;
    this.#direct = eventBuffer === 0;
    this.#allJson = jsonAnswers === true;
    this.transport = new WebStandardStreamableHTTPServerTransport({
      enableJsonResponse: jsonAnswers === true && eventBuffer === 0,
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.id = id;
        table.register(this);
      },
      onsessionclosed: () => this.end('deleted'),
      ...(eventBuffer > 0 ? { eventStore: createSessionEventStore(eventBuffer), retryInterval: retryIntervalMs } : {}),
    });
  }

  get busy(): boolean {
    return this.pending.size > 0 || this.streams > 0;
  }

  get listening(): boolean {
    return this.streams > 0;
  }

  /** Wraps the transport's message hooks (after the endpoint connected) to track requests in flight. */
  track(): void {
    const t = this.transport;
    const inner = t.onmessage;
    t.onmessage = (message, extra) => {
      this.lastActive = this.table.clock.now();
      if (isRequest(message)) {
        this.pending.add(message.id);
        if (message.method !== 'initialize') this.used = true;
      } else if ('method' in message && message.method === 'notifications/cancelled') {
        const id = (message.params as { requestId?: string | number } | undefined)?.requestId;
        if (id !== undefined) {
          this.pending.delete(id);
          // No answer will come: its HTTP request ends as an event stream without a message.
          this.#answer(id, endedStream(this.id));
        }
      }
      inner?.(message, extra);
    };
    const send = t.send.bind(t);
    t.send = (message, options) => {
      this.lastActive = this.table.clock.now();
      if (isResponse(message)) {
        this.pending.delete(message.id);
        if (this.#answer(message.id, jsonAnswer(message, this.id))) return Promise.resolve();
      } else if (options?.relatedRequestId !== undefined && this.#waiting.has(options.relatedRequestId)) {
        // Its request is answered in JSON, which carries nothing else: the standalone stream takes it.
        return send(message);
      }
      return send(message, options);
    };
  }

  /** Gives the waiting direct request `id` its HTTP answer; false when no such request waits. */
  #answer(id: RequestId, res: Response): boolean {
    const resolve = this.#waiting.get(id);
    if (!resolve) return false;
    this.#waiting.delete(id);
    resolve(res);
    return true;
  }

  /**
   * The direct path: `message` goes to the endpoint as the transport would hand it over, and its answer comes back
   * as one JSON body (through `send`, above), without the transport's stream bookkeeping.
   */
  #answerDirect(req: Request, message: JSONRPCRequest): Promise<Response> {
    return new Promise<Response>((resolve) => {
      this.#waiting.set(message.id, resolve);
      try {
        this.transport.onmessage?.(message, { requestInfo: new LazyRequestInfo(req) });
      } catch (error) {
        this.#waiting.delete(message.id);
        throw error;
      }
    });
  }

  async request(req: Request, parsedBody?: unknown): Promise<Response> {
    this.lastActive = this.table.clock.now();
    if (this.#direct && this.id !== undefined && !this.#ending && req.method === 'POST') {
      const message = directRequest(req, parsedBody);
      if (message && !this.#waiting.has(message.id) && (this.#allJson || this.binding?.answersAsJson?.(message))) {
        return this.#answerDirect(req, message);
      }
    }
    const res = await this.transport.handleRequest(req, parsedBody === undefined ? undefined : { parsedBody });
    if (req.method !== 'GET' || res.status !== 200 || !res.body) return res;
    return this.watchStream(res);
  }

  /** A standalone SSE stream keeps the session from expiring while it is open. */
  private watchStream(res: Response): Response {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    this.streams++;
    let open = true;
    const done = () => {
      if (!open) return;
      open = false;
      this.streams--;
      this.lastActive = this.table.clock.now();
    };
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { value, done: finished } = await reader.read();
          if (finished) {
            done();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          done();
          controller.error(error);
        }
      },
      cancel: (reason) => {
        done();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  end(reason: SessionEndReason): Promise<void> {
    this.#ended ??= (async () => {
      this.#ending = true;
      this.#abort.abort(new Error(`session ended (${reason})`));
      this.table.unregister(this, reason);
      try {
        await this.binding?.close(reason);
      } catch (error) {
        this.table.options.logger.warn('mcp session close failed', {
          endpoint: this.table.options.label,
          error: String(error),
        });
      }
      await this.transport.close().catch(() => {});
      // The transport closed its streams; the direct requests still waiting end the same way.
      for (const id of [...this.#waiting.keys()]) this.#answer(id, endedStream(this.id));
    })();
    return this.#ended;
  }
}

/**
 * The sessions of one MCP endpoint: routes a request to its session's transport, answers 400 for a non-initialize
 * request without `Mcp-Session-Id`, 404 for an unknown or ended session, creates a session on `initialize`, bounds
 * the table (evicting the least recently active idle session, else 503), and ends idle sessions on the clock.
 */
export class SessionTable {
  readonly clock: Clock;
  readonly #sessions = new Map<string, Session>();
  /** Sessions created but not yet initialized (so `close()` can reach them). */
  readonly #starting = new Set<Session>();
  #sweep: TimerHandle | undefined;
  #closed = false;
  readonly #stats = { opened: 0, deleted: 0, expired: 0, evicted: 0, rejected: 0 };

  constructor(readonly options: SessionTableOptions) {
    this.clock = options.clock;
  }

  get size(): number {
    return this.#sessions.size;
  }

  stats(): SessionTableStats {
    return { sessions: this.#sessions.size, ...this.#stats };
  }

  /** Every live session (for fan-out such as `tools/list_changed`). */
  sessions(): IterableIterator<McpSession> {
    return this.#sessions.values();
  }

  /**
   * Handles one HTTP request of the endpoint `key`. `open` attaches the endpoint to a new session's transport
   * (and may throw a {@link SessionRefusal}); it runs only for an `initialize` without a session id, and gets the
   * parsed POST body (to read the client's capabilities).
   */
  async handle(
    req: Request,
    key: string,
    open: (session: McpSession, body: unknown) => Promise<SessionBinding> | SessionBinding,
  ): Promise<Response> {
    const method = req.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      return jsonRpcError(405, -32000, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    }
    if (this.#closed) return jsonRpcError(503, -32000, 'Service Unavailable: shutting down');
    const sid = req.headers.get('mcp-session-id');
    if (sid !== null) {
      const session = this.#sessions.get(sid);
      if (!session || session.key !== key) return jsonRpcError(404, -32001, 'Session not found');
      if (method !== 'POST') return session.request(req);
      // Read and parsed once, here: the transport gets the parsed body (or, to refuse it, the text).
      const { text, value } = await readPostBody(req);
      return transportAnswers(text, value) ? session.request(withBody(req, text)) : session.request(req, value);
    }
    if (method !== 'POST') return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    const { value: body } = await readPostBody(req);
    if (body === undefined) return jsonRpcError(400, -32700, 'Parse error: the body is not JSON');
    if (!hasInitialize(body)) {
      return jsonRpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
    }
    if (!this.admit()) {
      this.#stats.rejected++;
      return jsonRpcError(503, -32000, 'Service Unavailable: too many MCP sessions, retry later', {
        'retry-after': '5',
      });
    }
    const session = new Session(key, this);
    this.#starting.add(session);
    try {
      session.binding = await open(session, body);
    } catch (error) {
      this.#starting.delete(session);
      await session.transport.close().catch(() => {});
      if (error instanceof SessionRefusal) return jsonRpcError(error.status, -32000, error.message);
      throw error;
    }
    session.track();
    let res: Response;
    try {
      res = await session.request(req, body);
    } finally {
      this.#starting.delete(session);
    }
    // Not initialized (a malformed initialize, an unsupported header…): nothing to keep.
    if (session.id === undefined) void session.end('failed');
    return res;
  }

  /** Called by a session once `initialize` gave it an id. */
  register(session: Session): void {
    if (session.id === undefined) return;
    this.#sessions.set(session.id, session);
    this.#stats.opened++;
    this.options.logger.debug('mcp session opened', { endpoint: this.options.label, key: session.key });
    this.armSweep();
  }

  unregister(session: Session, reason: SessionEndReason): void {
    this.#starting.delete(session);
    if (session.id === undefined || this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (reason === 'deleted' || reason === 'expired' || reason === 'evicted') this.#stats[reason]++;
    this.options.logger.debug('mcp session ended', { endpoint: this.options.label, key: session.key, reason });
    if (this.#sessions.size === 0) this.disarmSweep();
  }

  /** Makes room for one more session: true when there is (or now is) room. */
  private admit(): boolean {
    if (this.#sessions.size + this.#starting.size < this.options.maxSessions) return true;
    let victim: Session | undefined;
    for (const s of this.#sessions.values()) {
      if (!s.busy && (!victim || s.lastActive < victim.lastActive)) victim = s;
    }
    if (!victim) return false;
    void victim.end('evicted');
    return true;
  }

  private armSweep(): void {
    if (this.#sweep !== undefined || this.#closed) return;
    const shortest = Math.min(this.options.idleMs, this.options.unusedMs);
    const every = Math.max(10, Math.min(60_000, Math.floor(shortest / 4)));
    this.#sweep = this.clock.setTimeout(() => {
      this.#sweep = undefined;
      this.expire();
      if (this.#sessions.size > 0) this.armSweep();
    }, every);
  }

  private disarmSweep(): void {
    this.clock.clearTimeout(this.#sweep);
    this.#sweep = undefined;
  }

  /** Ends every idle session past `idleMs`, and every never-used one past `unusedMs`. */
  expire(): void {
    const now = this.clock.now();
    const { idleMs, unusedMs } = this.options;
    for (const s of [...this.#sessions.values()]) {
      const limit = s.used ? idleMs : Math.min(idleMs, unusedMs);
      if (!s.busy && now - s.lastActive >= limit) void s.end('expired');
    }
  }

  /** Ends one session by id (tests, admin). */
  async endSession(id: string, reason: SessionEndReason = 'closed'): Promise<boolean> {
    const s = this.#sessions.get(id);
    if (!s) return false;
    await s.end(reason);
    return true;
  }

  /** Ends every session of `key` (e.g. a server that was disabled, quarantined or removed). */
  async endKey(key: string, reason: SessionEndReason): Promise<void> {
    await Promise.all([...this.#sessions.values()].filter((s) => s.key === key).map((s) => s.end(reason)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.disarmSweep();
    await Promise.all([...this.#sessions.values(), ...this.#starting].map((s) => s.end('closed')));
  }
}
