import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { type DirectDispatch, dispatchController, errorAnswer } from './direct-dispatch.js';
import { directRequest, endedStream, jsonAnswer, LazyRequestInfo } from './direct-post.js';
import { createSessionEventStore } from './event-store.js';
import type { SessionTableOptions } from './sessions.js';

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
  /**
   * Runs a request answered in JSON on the endpoint's own handler, without the SDK's protocol layer (see
   * direct-dispatch.ts), or `undefined` to hand it to the transport. The session tracks, cancels and answers it.
   * @default every request goes through the transport
   */
  dispatch?: DirectDispatch | undefined;
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

/** What a session needs of its table. */
export interface SessionHost {
  readonly clock: SessionTableOptions['clock'];
  readonly options: SessionTableOptions;
  /** Called once `initialize` gave the session an id. */
  register(session: Session): void;
  /** Called when the session ends. */
  unregister(session: Session, reason: SessionEndReason): void;
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } =>
  'method' in m && 'id' in m;
const isResponse = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number } =>
  ('result' in m || 'error' in m) && 'id' in m;

/** One session of an endpoint: its SDK transport, the requests in flight, and the direct path of its POSTs. */
export class Session implements McpSession {
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
  /** Requests dispatched without the SDK's protocol layer, each with what cancels it. */
  readonly #dispatched = new Map<RequestId, AbortController>();
  /** Whether POSTs may take the direct path (resumption off: a direct answer cannot be replayed). */
  readonly #direct: boolean;
  /** Whether every direct request is answered in JSON (else the binding decides). */
  readonly #allJson: boolean;

  constructor(
    readonly key: string,
    private readonly table: SessionHost,
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
          // A request dispatched here is cancelled here, as the protocol layer cancels its own (with the reason).
          this.#dispatched.get(id)?.abort((message.params as { reason?: unknown }).reason);
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

  /**
   * The request goes to the binding's own dispatch instead of the transport (`undefined` when the binding does not
   * take it): tracked as the transport's message hook tracks requests, cancelled by `notifications/cancelled` or the
   * session's end, answered in JSON unless it was cancelled (then its HTTP request has had its empty stream).
   */
  #dispatch(req: Request, message: JSONRPCRequest): Promise<Response> | undefined {
    const dispatch = this.binding?.dispatch;
    if (!dispatch) return undefined;
    const id = message.id;
    let resolve!: (res: Response) => void;
    const settled = new Promise<Response>((r) => {
      resolve = r;
    });
    // Aborted by `notifications/cancelled` and by `end()`, which `callSignal` relies on.
    const abort = dispatchController();
    // Waiting before the handler starts, so a message it sends at once already goes to the standalone stream.
    this.#waiting.set(id, resolve);
    this.#dispatched.set(id, abort);
    const answer = dispatch(message, {
      signal: abort.signal,
      sessionId: this.id,
      requestInfo: new LazyRequestInfo(req),
    });
    if (!answer) {
      this.#waiting.delete(id);
      this.#dispatched.delete(id);
      return undefined;
    }
    this.pending.add(id);
    this.used = true;
    void answer.then((response) => {
      if (this.#dispatched.get(id) === abort) this.#dispatched.delete(id);
      if (abort.signal.aborted) return;
      this.lastActive = this.table.clock.now();
      this.pending.delete(id);
      let res: Response;
      try {
        res = jsonAnswer(response, this.id);
      } catch (error) {
        // A result JSON cannot carry (a BigInt, a cycle): its request still gets an answer.
        res = jsonAnswer(errorAnswer(id, error), this.id);
      }
      this.#answer(id, res);
    });
    return settled;
  }

  async request(req: Request, parsedBody?: unknown): Promise<Response> {
    this.lastActive = this.table.clock.now();
    if (this.#direct && this.id !== undefined && !this.#ending && req.method === 'POST') {
      const message = directRequest(req, parsedBody);
      if (message && !this.#waiting.has(message.id) && (this.#allJson || this.binding?.answersAsJson?.(message))) {
        return this.#dispatch(req, message) ?? this.#answerDirect(req, message);
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
      const why = new Error(`session ended (${reason})`);
      this.#abort.abort(why);
      for (const abort of this.#dispatched.values()) abort.abort(why);
      this.#dispatched.clear();
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
