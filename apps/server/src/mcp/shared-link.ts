import type { ServerActor } from '@mcpproxy/actor';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  McpError,
  type RequestId,
  ResultSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

type Msg = JSONRPCMessage & Record<string, unknown>;

/** Node timers overflow past this; a tool call's deadline is the session's own timer, not the SDK's. */
const NO_SDK_TIMEOUT = 2_147_483_647;

type ProgressListener = (params: Record<string, unknown>) => void;

/** What the proxy takes off one shared connection before the SDK client sees it. */
interface Tap {
  /** Progress tokens of shared requests in flight, each with who wants its notifications. */
  progress: Map<string, ProgressListener>;
  /** Shared sessions that get the connection's list_changed notifications. */
  sessions: Set<(m: Msg) => void>;
}

/** Notifications about the server as a whole: every session sharing the connection gets them. */
const BROADCAST: ReadonlySet<string> = new Set([
  'notifications/tools/list_changed',
  'notifications/resources/list_changed',
  'notifications/prompts/list_changed',
]);

const taps = new WeakMap<object, Tap>();
let tokenSeq = 0;

/**
 * Wraps the shared connection's transport once. Progress: the SDK client dispatches a notification a microtask late
 * but drops a request's progress handler at once when the response arrives, so a last progress notification read in
 * the same chunk as the response would be lost; progress of shared requests is therefore taken off the transport
 * before the SDK sees it, by a token of our own. List changes are copied to every shared session (and still reach
 * the SDK, whose handlers keep the actor's tool list fresh).
 */
function tapOf(client: Client): Tap | undefined {
  const transport = client.transport;
  if (!transport) return undefined;
  const known = taps.get(transport);
  if (known) return known;
  const tap: Tap = { progress: new Map(), sessions: new Set() };
  const inner = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if ('method' in message && !('id' in message)) {
      if (message.method === 'notifications/progress') {
        const params = (message.params ?? {}) as Record<string, unknown>;
        const listener = tap.progress.get(String(params.progressToken));
        if (listener) {
          listener(params);
          return;
        }
      } else if (BROADCAST.has(message.method)) {
        for (const deliver of tap.sessions) deliver(message as Msg);
      }
    }
    inner?.call(transport, message, extra);
  };
  taps.set(transport, tap);
  return tap;
}

/** The SDK client under the actor's live connection (`@mcpproxy/upstream`'s connections carry one), if any. */
export function sharedClient(actor: ServerActor): Client | undefined {
  const conn = actor.connection() as { client?: Client } | undefined;
  return conn?.client;
}

/**
 * The `initialize` result a session sharing the actor's connection gets: the upstream's capabilities, serverInfo and
 * instructions as that connection received them, and the client's protocol version when the SDK supports it and the
 * upstream speaks it (it is not newer than the version the actor negotiated, when known), else the actor's version.
 */
export function sharedInitializeResult(client: Client, requested: unknown): Record<string, unknown> {
  const negotiated = (client.transport as { protocolVersion?: string } | undefined)?.protocolVersion;
  const upstream = negotiated ?? LATEST_PROTOCOL_VERSION;
  const version =
    typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested) && requested <= upstream
      ? requested
      : upstream;
  const instructions = client.getInstructions();
  return {
    protocolVersion: version,
    capabilities: client.getServerCapabilities() ?? {},
    serverInfo: client.getServerVersion() ?? { name: 'unknown', version: '0.0.0' },
    ...(instructions === undefined ? {} : { instructions }),
  };
}

/**
 * A session's message pipe over the actor's own connection (shared by every session that needs no link of its own):
 * each client request becomes a request of the actor's SDK client, which numbers it itself, so sessions never see
 * each other's ids; its answer (result or JSON-RPC error, code and message as the upstream sent them) comes back
 * through `deliver` with the client's id. A client's progress token is replaced by one of ours upstream and mapped
 * back on each progress notification; a client's `notifications/cancelled` aborts the request (the SDK tells the
 * upstream). Nothing else goes upstream: the client's other notifications (`initialized`, `roots/list_changed`)
 * concern a link it does not have. The connection's `tools`/`resources`/`prompts` `list_changed` notifications reach
 * every session sharing it; its log messages reach none (they cannot be attributed to a session).
 */
export class SharedPipe {
  readonly #inflight = new Map<RequestId, AbortController>();
  /** The taps of the connections this session used (a reconnect brings a new one), to leave on close. */
  readonly #joined = new Set<Tap>();
  #closed = false;

  constructor(
    private readonly actor: ServerActor,
    private readonly deliver: (m: Msg) => void,
  ) {
    this.#join(sharedClient(actor));
  }

  /** Joins the broadcast of `client`'s connection: its list_changed notifications reach this session. */
  #join(client: Client | undefined): Tap | undefined {
    const tap = client && tapOf(client);
    if (!tap || this.#closed) return tap;
    tap.sessions.add(this.deliver);
    this.#joined.add(tap);
    return tap;
  }

  /** Requests in flight. */
  get size(): number {
    return this.#inflight.size;
  }

  send(m: Msg): Promise<void> {
    if ('method' in m && 'id' in m) {
      void this.#request(m as Msg & { id: RequestId; method: string; params?: Record<string, unknown> });
    } else if ('method' in m && m.method === 'notifications/cancelled') {
      const id = (m.params as { requestId?: RequestId } | undefined)?.requestId;
      if (id !== undefined) this.#inflight.get(id)?.abort(new Error('cancelled by the client'));
    }
    return Promise.resolve();
  }

  async #request(m: Msg & { id: RequestId; method: string; params?: Record<string, unknown> }): Promise<void> {
    const client = sharedClient(this.actor);
    if (this.#closed) return;
    if (!client) {
      const message = `UPSTREAM_UNAVAILABLE: server "${this.actor.name}" is ${this.actor.getState().state}, not ready`;
      this.deliver({ jsonrpc: '2.0', id: m.id, error: { code: -32603, message } } as Msg);
      return;
    }
    const tap = this.#join(client);
    const abort = new AbortController();
    this.#inflight.set(m.id, abort);
    const meta = m.params?._meta as { progressToken?: string | number } | undefined;
    const token = meta?.progressToken;
    let params = m.params;
    const progress = token === undefined ? undefined : tap?.progress;
    // Sessions share the connection, so their tokens may collide: the upstream sees one of ours instead.
    const ours = `mcpproxy-progress-${++tokenSeq}`;
    if (progress && params) {
      params = { ...params, _meta: { ...meta, progressToken: ours } };
      progress.set(ours, (p) =>
        this.deliver({
          jsonrpc: '2.0',
          method: 'notifications/progress',
          params: { ...p, progressToken: token },
        } as Msg),
      );
    }
    try {
      const result = await client.request({ method: m.method, params } as never, ResultSchema, {
        signal: abort.signal,
        ...(m.method === 'tools/call' ? { timeout: NO_SDK_TIMEOUT } : {}),
      });
      if (!abort.signal.aborted) this.deliver({ jsonrpc: '2.0', id: m.id, result } as Msg);
    } catch (error) {
      // Cancelled by the client, its deadline or the session's end: whoever aborted has answered already.
      if (!abort.signal.aborted) this.deliver({ jsonrpc: '2.0', id: m.id, error: rpcErrorOf(error) } as Msg);
    } finally {
      progress?.delete(ours);
      this.#inflight.delete(m.id);
    }
  }

  /** Aborts every request in flight (the SDK sends the upstream `notifications/cancelled`). Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    for (const tap of this.#joined) tap.sessions.delete(this.deliver);
    this.#joined.clear();
    for (const abort of this.#inflight.values()) abort.abort(new Error('session ended'));
    this.#inflight.clear();
    return Promise.resolve();
  }
}

/** The JSON-RPC error of a failed SDK request: the upstream's own code, message and data when it sent one. */
function rpcErrorOf(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof McpError) {
    const message = error.message.replace(/^MCP error -?\d+: /, '');
    return { code: error.code, message, ...(error.data === undefined ? {} : { data: error.data }) };
  }
  return { code: -32603, message: `UPSTREAM_UNAVAILABLE: ${error instanceof Error ? error.message : String(error)}` };
}
