import { type Clock, type TimerHandle, UpstreamError } from '@mcpproxy/contracts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, McpError } from '@modelcontextprotocol/sdk/types.js';

/** Node timers overflow past this (and then fire after 1 ms), so every deadline is clamped to it. */
export const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a timer delay: at most {@link MAX_TIMER_MS}, never negative, `Infinity` and `NaN` as the maximum. */
export function clampMs(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(0, ms));
}

/** A request the connection has in flight; `close()` and a lost upstream fail every one at once. */
export interface Pending {
  fail(error: UpstreamError): void;
}

/** The SDK `Client` internals this path reads and writes (pinned SDK 1.32.2; the tests fail if they move). */
interface ClientInternals {
  /** The id of the Client's next request: its `request()` takes `_requestMessageId++`. */
  _requestMessageId: number;
}

/** What the connection lends to its own requests. */
export interface OwnRequestsHost {
  clock: Clock;
  /** The server's name, for timeout messages. */
  name: string;
  /** The connection's in-flight set: a request is in it from send to settle, and `fail` settles it. */
  pending: Set<Pending>;
  /** The caller-facing error of a request that failed on the wire, was answered with an error, or malformed. */
  requestError(what: string, error: unknown): UpstreamError;
  /** Masks the server's secrets in an error about to reach the caller. */
  scrub(error: UpstreamError): UpstreamError;
}

/** One request on the own path. */
export interface OwnRequest<T> {
  method: string;
  params?: Record<string, unknown> | undefined;
  /** Turns the raw `result` into what the SDK's result schema would return; throws (a `ZodError`) when malformed. */
  check: (result: unknown) => T;
  /** How the request is named in error messages, e.g. `tools/call "echo"`. */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** One request in flight. It is its own abort listener (`handleEvent`), so the caller's signal costs no closure. */
class OwnCall<T> implements Pending {
  timer: TimerHandle | undefined;

  constructor(
    readonly router: OwnRequests,
    readonly id: number,
    readonly request: OwnRequest<T>,
    readonly resolve: (value: T) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  fail(error: UpstreamError): void {
    this.router.settle(this, error, true);
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    const { what, signal } = this.request;
    this.fail(new UpstreamError('ABORTED', `${what} was aborted`, { cause: signal?.reason }));
  }

  timedOut(): void {
    const { what, timeoutMs } = this.request;
    const { name } = this.router.host;
    this.fail(new UpstreamError('CALL_TIMEOUT', `${what} on "${name}" timed out after ${timeoutMs} ms`));
  }
}

/**
 * The connection's own request path, beside the SDK `Client`'s `request()`.
 *
 * Per request the SDK's Protocol creates an `AbortController` and listeners, a timeout entry with its own timer,
 * several closures, and parses the result with zod, on top of what the connection itself does for the deadline and
 * the caller's signal. Here a request is one object in one map, with one timer and (when the caller gave a signal)
 * one listener, all gone at settle. It goes out through the same transport; its id is taken from the Client's own
 * counter (`_requestMessageId++`), so it is an ordinary small integer, as every upstream accepts, and no Client
 * request can ever have the same one. The answer is taken from the transport's messages before the Client sees them
 * (the Client's `onmessage` is wrapped once, after connect); every other message — notifications, server-to-client
 * requests, answers to the Client's own requests, an answer to one of ours that came after it settled — goes to the
 * Client untouched. The result is checked by the request's `check` (by hand for the common shapes, the SDK's schema
 * otherwise). A request that gives up before its answer (deadline, caller's abort, close) sends
 * `notifications/cancelled` upstream, as the SDK does; one that was answered sends nothing.
 */
export class OwnRequests {
  readonly host: OwnRequestsHost;
  readonly #client: Client;
  readonly #transport: Transport;
  readonly #ids: ClientInternals;
  readonly #calls = new Map<number, OwnCall<unknown>>();
  readonly #sdkOnMessage: Transport['onmessage'];

  /**
   * Takes the answers to its requests from `transport` (which `client` is connected to). `undefined` when the
   * Client does not keep its request ids where this path reads them (another SDK version): the SDK path stays.
   */
  static install(client: Client, transport: Transport, host: OwnRequestsHost): OwnRequests | undefined {
    const ids = client as unknown as Partial<ClientInternals>;
    if (!Number.isSafeInteger(ids._requestMessageId) || transport.onmessage === undefined) return undefined;
    return new OwnRequests(client, transport, host);
  }

  private constructor(client: Client, transport: Transport, host: OwnRequestsHost) {
    this.host = host;
    this.#client = client;
    this.#transport = transport;
    this.#ids = client as unknown as ClientInternals;
    this.#sdkOnMessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if (this.#calls.size !== 0 && ('result' in message || 'error' in message)) {
        // Number(), as the SDK's Protocol matches answers: a server that sends the id back as a string still matches.
        const call = this.#calls.get(Number((message as { id?: unknown }).id));
        if (call !== undefined) {
          this.#answer(call, message);
          return;
        }
      }
      this.#sdkOnMessage?.(message, extra);
    };
  }

  /** Requests sent on this path and not yet settled. */
  inFlight(): number {
    return this.#calls.size;
  }

  /**
   * Sends `request` and settles with its checked result, or rejects with an `UpstreamError`: `CALL_TIMEOUT`,
   * `ABORTED`, `CLOSED` (through `fail`), or what the host's `requestError` makes of a failure or an error answer.
   * The caller has checked that the connection is open and the signal not aborted.
   */
  request<T>(request: OwnRequest<T>): Promise<T> {
    const id = this.#ids._requestMessageId++;
    return new Promise<T>((resolve, reject) => {
      const call = new OwnCall(this, id, request, resolve, reject);
      this.host.pending.add(call);
      this.#calls.set(id, call as OwnCall<unknown>);
      call.timer = this.host.clock.setTimeout(() => call.timedOut(), clampMs(request.timeoutMs));
      request.signal?.addEventListener('abort', call, { once: true });
      const message: JSONRPCMessage =
        request.params === undefined
          ? { jsonrpc: '2.0', id, method: request.method }
          : { jsonrpc: '2.0', id, method: request.method, params: request.params };
      let sent: Promise<void>;
      try {
        sent = this.#transport.send(message);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.catch((error: unknown) => this.settle(call, this.host.requestError(request.what, error), true));
    });
  }

  /**
   * Settles `call` once: clears its timer and listener, leaves the maps, then resolves or rejects. `cancel` says the
   * upstream may still be working on it, so it is told with `notifications/cancelled`.
   */
  settle<T>(call: OwnCall<T>, error: UpstreamError | undefined, cancel: boolean, value?: T): void {
    if (!this.host.pending.delete(call)) return;
    this.#calls.delete(call.id);
    this.host.clock.clearTimeout(call.timer);
    call.request.signal?.removeEventListener('abort', call);
    if (error === undefined) {
      call.resolve(value as T);
      return;
    }
    call.reject(this.host.scrub(error));
    if (cancel) this.#cancel(call.id, error);
  }

  #answer(call: OwnCall<unknown>, message: JSONRPCMessage): void {
    const { what } = call.request;
    if ('error' in message) {
      const { code, message: text, data } = message.error;
      this.settle(call, this.host.requestError(what, McpError.fromError(code, text, data)), false);
      return;
    }
    let value: unknown;
    try {
      value = call.request.check((message as { result: unknown }).result);
    } catch (error) {
      this.settle(call, this.host.requestError(what, error), false);
      return;
    }
    this.settle(call, undefined, false, value);
  }

  /** As the SDK's Protocol on abort: tells the upstream, unless the Client has already lost its transport. */
  #cancel(id: number, reason: UpstreamError): void {
    if (this.#client.transport === undefined) return;
    this.#transport
      .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: String(reason) } })
      .catch((error: unknown) => this.#client.onerror?.(new Error(`Failed to send cancellation: ${error}`)));
  }
}
