import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';
import { readPostBody, transportAnswers, withBody } from './direct-post.js';
import { type McpSession, Session, type SessionBinding, type SessionEndReason } from './session.js';

export type { McpSession, SessionBinding, SessionEndReason } from './session.js';

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

function hasInitialize(body: unknown): boolean {
  const one = (m: unknown) =>
    typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize' && 'id' in m;
  return Array.isArray(body) ? body.some(one) : one(body);
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
