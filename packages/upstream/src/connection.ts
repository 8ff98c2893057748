import type {
  CallOptions,
  Clock,
  ConnectedProtocol,
  Logger,
  TimerHandle,
  UpstreamCallResult,
  UpstreamConnection,
  UpstreamTool,
} from '@mcpproxy/contracts';
import { UpstreamError } from '@mcpproxy/contracts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  ListToolsResultSchema,
  McpError,
  type Tool,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { connectError, describeError, httpStatusOf, isAuthError, redactUrl, scrubError } from './http.js';
import { clampMs, MAX_TIMER_MS, OwnRequests, type Pending } from './own-requests.js';
import { toCallToolResult, toEmptyResult } from './result-check.js';
import { stderrSuffix } from './stdio.js';
import type { OpenedTransport } from './transport.js';

/** A server paging `tools/list` forever must not hang a listing that is still inside its deadline. */
const MAX_TOOL_PAGES = 100;

/**
 * A live upstream connection as `@mcpproxy/upstream` returns it: the contract's {@link UpstreamConnection} plus
 * the SDK client (for transparent resource/prompt proxying), the stdio process id and the in-flight count.
 */
export interface Connection extends UpstreamConnection, AsyncDisposable {
  /**
   * The underlying MCP SDK client, initialized and connected. Use it for requests this package does not wrap
   * (`resources/*`, `prompts/*`, `completion/complete`, …). Its lifecycle belongs to the connection: call
   * {@link UpstreamConnection.close} on the connection, never `client.close()`, or the process group is still
   * ended but `onClose` will report the close as unexpected.
   */
  readonly client: Client;
  /** Process id of a stdio upstream, which is also its process group id; `undefined` for HTTP upstreams. */
  readonly pid: number | undefined;
  /** Requests (tool calls, listings, pings) sent through this connection and not yet settled. */
  pendingCalls(): number;
}

export interface ConnectionParts {
  name: string;
  protocol: ConnectedProtocol;
  client: Client;
  /** What the client connects over. */
  transport: Transport;
  /**
   * What opened `transport` (from `openTransport`): ends the HTTP session or the stdio process group on close, and
   * knows the process for exit descriptions and the stderr tail. Without it, closing the client closes the transport.
   */
  opened?: OpenedTransport | undefined;
  /** The upstream URL, for HTTP upstreams. */
  url?: URL | undefined;
  clock: Clock;
  logger: Logger;
  callTimeoutMs: number;
  requestTimeoutMs: number;
  /** Masks the server's secrets in error messages. @default identity */
  scrub?: ((text: string) => string) | undefined;
  /**
   * Whether `callTool` and `ping` take the connection's own request path ({@link OwnRequests}) rather than the SDK
   * Client's `request()`; off, or when the SDK does not expose what that path needs, they take the SDK's.
   * @default true
   */
  ownRequests?: boolean | undefined;
}

type State = 'connecting' | 'open' | 'closed';

function toUpstreamTool(tool: Tool): UpstreamTool {
  const out: UpstreamTool = { name: tool.name, inputSchema: tool.inputSchema };
  if (tool.title !== undefined) out.title = tool.title;
  if (tool.description !== undefined) out.description = tool.description;
  if (tool.outputSchema !== undefined) out.outputSchema = tool.outputSchema;
  if (tool.annotations !== undefined) out.annotations = tool.annotations;
  return out;
}

function isSchemaError(error: unknown): boolean {
  return error instanceof Error && Array.isArray((error as { issues?: unknown }).issues);
}

/** The SDK-backed {@link Connection}. Built by the connector, which then runs {@link SdkConnection.initialize}. */
export class SdkConnection implements Connection {
  readonly protocol: ConnectedProtocol;
  readonly client: Client;

  readonly #parts: ConnectionParts;
  readonly #pending = new Set<Pending>();
  readonly #closeListeners = new Set<(error: Error | undefined) => void>();
  readonly #toolsListeners = new Set<() => void>();
  #state: State = 'connecting';
  #tools: readonly UpstreamTool[] = [];
  #serverInfo: { name: string; version: string } | undefined;
  /** Why the upstream went away on its own; undefined while open or after our own close(). */
  #goneError: UpstreamError | undefined;
  #lastTransportError: Error | undefined;
  #closedDuringInit = false;
  #closing: Promise<void> | undefined;
  /** The own request path of `callTool` and `ping`, once connected (undefined: the SDK's). */
  #own: OwnRequests | undefined;

  constructor(parts: ConnectionParts) {
    this.#parts = parts;
    this.protocol = parts.protocol;
    this.client = parts.client;
    this.client.onclose = () => this.#onTransportClosed();
    this.client.onerror = (error) => this.#onTransportError(error);
    this.client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#emitToolsChanged());
  }

  get tools(): readonly UpstreamTool[] {
    return this.#tools;
  }

  get serverInfo(): { name: string; version: string } | undefined {
    return this.#serverInfo;
  }

  get pid(): number | undefined {
    return this.#parts.opened?.pid;
  }

  pendingCalls(): number {
    return this.#pending.size;
  }

  stderrTail(): string[] {
    return this.#parts.opened?.stderrTail() ?? [];
  }

  /**
   * Connects the transport, runs `initialize` and the first `tools/list`, all within `timeoutMs`. On any failure
   * the transport (and the stdio process group) is closed before the returned promise rejects.
   */
  async initialize(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const { clock } = this.#parts;
    const controller = new AbortController();
    let stopped: 'timeout' | 'aborted' | undefined;
    const stop = (why: 'timeout' | 'aborted') => {
      stopped ??= why;
      controller.abort();
    };
    const timer = clock.setTimeout(() => stop('timeout'), clampMs(timeoutMs));
    const onAbort = () => stop('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const interrupted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const handshake = this.#handshake(controller.signal);
    // Whichever loses the race must not surface as an unhandled rejection.
    handshake.catch(() => {});
    interrupted.catch(() => {});
    try {
      if (signal?.aborted) stop('aborted');
      await Promise.race([handshake, interrupted]);
      // The upstream may have answered and then gone away before we were open to notice.
      if (this.#closedDuringInit) throw new Error('the connection closed during initialize');
      this.#state = 'open';
    } catch (error) {
      await this.#shutdown();
      throw this.#scrub(this.#initError(error, stopped, timeoutMs));
    } finally {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  listTools(options?: CallOptions): Promise<UpstreamTool[]> {
    return this.#track('tools/list', options, this.#parts.requestTimeoutMs, async (signal) => {
      const tools = await this.#listAll(signal);
      this.#tools = tools;
      return tools.slice();
    });
  }

  callTool(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<UpstreamCallResult> {
    const what = `tools/call "${name}"`;
    const params = { name, arguments: args };
    if (this.#own === undefined) {
      return this.#track(what, options, this.#parts.callTimeoutMs, (signal) =>
        this.client.request({ method: 'tools/call', params }, CallToolResultSchema, { signal, timeout: MAX_TIMER_MS }),
      );
    }
    const refused = this.#refusal(what, options);
    if (refused) return Promise.reject(refused);
    const timeoutMs = options?.timeoutMs ?? this.#parts.callTimeoutMs;
    const signal = options?.signal;
    return this.#own.request({ method: 'tools/call', params, check: toCallToolResult, what, timeoutMs, signal });
  }

  async ping(options?: CallOptions): Promise<void> {
    if (this.#own === undefined) {
      await this.#track('ping', options, this.#parts.requestTimeoutMs, (signal) =>
        this.client.ping({ signal, timeout: MAX_TIMER_MS }),
      );
      return;
    }
    const refused = this.#refusal('ping', options);
    if (refused) throw refused;
    const timeoutMs = options?.timeoutMs ?? this.#parts.requestTimeoutMs;
    await this.#own.request({ method: 'ping', check: toEmptyResult, what: 'ping', timeoutMs, signal: options?.signal });
  }

  /** The own request path, when `callTool` and `ping` use it (for tests: its `inFlight()` count). @internal */
  get ownRequests(): OwnRequests | undefined {
    return this.#own;
  }

  onClose(listener: (error: Error | undefined) => void): () => void {
    if (this.#state === 'closed') {
      const gone = this.#goneError;
      // Went away before anyone listened: still tell a late listener, once.
      if (gone) queueMicrotask(() => this.#safely(() => listener(gone)));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  onToolsChanged(listener: () => void): () => void {
    this.#toolsListeners.add(listener);
    return () => this.#toolsListeners.delete(listener);
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closed';
    this.#closeListeners.clear();
    this.#failPending(new UpstreamError('CLOSED', `connection to "${this.#parts.name}" was closed`));
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handshake(signal: AbortSignal): Promise<void> {
    await this.client.connect(this.#parts.transport, { signal, timeout: MAX_TIMER_MS });
    if (this.#parts.ownRequests !== false) {
      this.#own = OwnRequests.install(this.client, this.#parts.transport, {
        clock: this.#parts.clock,
        name: this.#parts.name,
        pending: this.#pending,
        requestError: (what, error) => this.#requestError(what, error),
        scrub: (error) => this.#scrub(error),
      });
    }
    const info = this.client.getServerVersion();
    this.#serverInfo = info ? { name: info.name, version: info.version } : undefined;
    // A server without the tools capability has no tools/list to call.
    if (this.client.getServerCapabilities()?.tools) this.#tools = await this.#listAll(signal);
  }

  async #listAll(signal: AbortSignal): Promise<UpstreamTool[]> {
    const tools: UpstreamTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await this.client.request(
        { method: 'tools/list', params: cursor === undefined ? undefined : { cursor } },
        ListToolsResultSchema,
        { signal, timeout: MAX_TIMER_MS },
      );
      for (const tool of result.tools) tools.push(toUpstreamTool(tool));
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /**
   * Runs one request under its own deadline, the caller's signal and the connection's lifetime. The returned
   * promise is settled by whichever comes first; the SDK request is then cancelled upstream if still running.
   */
  #track<T>(
    what: string,
    options: CallOptions | undefined,
    defaultTimeoutMs: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const refused = this.#refusal(what, options);
    if (refused) return Promise.reject(refused);
    const callerSignal = options?.signal;
    const { clock, name } = this.#parts;
    const timeoutMs = options?.timeoutMs ?? defaultTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      let timer: TimerHandle | undefined;
      const settle = (error: UpstreamError | undefined, value?: T) => {
        if (!this.#pending.delete(pending)) return;
        clock.clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onAbort);
        if (error === undefined) {
          resolve(value as T);
          return;
        }
        reject(this.#scrub(error));
        // The SDK answers an abort by sending notifications/cancelled upstream.
        if (!controller.signal.aborted) controller.abort(error);
      };
      const pending: Pending = { fail: (error) => settle(error) };
      const onAbort = () =>
        settle(new UpstreamError('ABORTED', `${what} was aborted`, { cause: callerSignal?.reason }));
      this.#pending.add(pending);
      timer = clock.setTimeout(
        () => settle(new UpstreamError('CALL_TIMEOUT', `${what} on "${name}" timed out after ${timeoutMs} ms`)),
        clampMs(timeoutMs),
      );
      callerSignal?.addEventListener('abort', onAbort, { once: true });
      run(controller.signal).then(
        (value) => settle(undefined, value),
        (error: unknown) => settle(this.#requestError(what, error)),
      );
    });
  }

  /** Why a request cannot start: the connection is not open, or the caller's signal has already aborted. */
  #refusal(what: string, options: CallOptions | undefined): UpstreamError | undefined {
    if (this.#state !== 'open') return this.#closedError();
    const signal = options?.signal;
    if (signal?.aborted) return new UpstreamError('ABORTED', `${what} was aborted`, { cause: signal.reason });
    return undefined;
  }

  #requestError(what: string, error: unknown): UpstreamError {
    if (error instanceof UpstreamError) return error;
    if (this.#state !== 'open') return this.#closedError();
    if (isAuthError(error)) {
      return new UpstreamError('AUTH_REQUIRED', `${what}: the upstream requires authentication`, { cause: error });
    }
    if (isSchemaError(error)) {
      return new UpstreamError('PROTOCOL_ERROR', `${what}: the upstream sent a malformed result`, { cause: error });
    }
    if (error instanceof McpError) {
      return new UpstreamError('CALL_FAILED', `${what} failed: ${error.message}`, { cause: error });
    }
    return new UpstreamError('CALL_FAILED', `${what} failed: ${describeError(error)}`, { cause: error });
  }

  #initError(error: unknown, stopped: 'timeout' | 'aborted' | undefined, timeoutMs: number): UpstreamError {
    const { name, url, protocol } = this.#parts;
    const proc = this.#parts.opened?.process;
    const stderr = proc ? stderrSuffix(proc.stderr.lines()) : '';
    if (stopped === 'timeout') {
      return new UpstreamError(
        'INIT_TIMEOUT',
        `"${name}" did not finish connect, initialize and tools/list within ${timeoutMs} ms${stderr}`,
        { cause: error },
      );
    }
    if (stopped === 'aborted') return new UpstreamError('ABORTED', `connecting to "${name}" was aborted`);
    if (error instanceof UpstreamError) return error;
    if (proc?.exited) {
      const message = `"${name}": the process ${proc.describeExit()} during initialize${stderr}`;
      return new UpstreamError('CONNECT_FAILED', message, { cause: error });
    }
    if (isSchemaError(error)) {
      return new UpstreamError('PROTOCOL_ERROR', `"${name}" sent a malformed initialize or tools/list result`, {
        cause: error,
      });
    }
    if (url && protocol !== 'stdio') return connectError(protocol, url, error);
    return new UpstreamError('CONNECT_FAILED', `"${name}": initialize failed: ${describeError(error)}${stderr}`, {
      cause: error,
    });
  }

  #scrub(error: UpstreamError): UpstreamError {
    const { scrub } = this.#parts;
    return scrub ? scrubError(error, scrub) : error;
  }

  #closedError(): UpstreamError {
    const gone = this.#goneError;
    return new UpstreamError(
      'CLOSED',
      gone ? gone.message : `connection to "${this.#parts.name}" is closed`,
      gone ? { cause: gone } : undefined,
    );
  }

  #onTransportClosed(): void {
    if (this.#state === 'connecting') this.#closedDuringInit = true;
    if (this.#state !== 'open') return;
    const { url, name } = this.#parts;
    const proc = this.#parts.opened?.process;
    const last = this.#lastTransportError;
    const message = proc
      ? `"${name}": the upstream process ${proc.describeExit()}${stderrSuffix(proc.stderr.lines(), 5)}`
      : `"${name}": the connection to ${url ? redactUrl(url) : 'the upstream'} closed${last ? `: ${describeError(last)}` : ''}`;
    this.#goneWith(new UpstreamError('CLOSED', message, { cause: this.#lastTransportError }));
  }

  #onTransportError(error: Error): void {
    this.#lastTransportError = error;
    const { logger, name, scrub = (text: string) => text } = this.#parts;
    logger.debug('upstream transport error', { server: name, error: scrub(describeError(error)) });
    if (this.#state !== 'open') return;
    // A legacy SSE stream that broke would reconnect into a fresh, uninitialized session: treat it as gone.
    if (this.protocol === 'sse' && error instanceof SseError) this.#goneWith(error);
    // 404 on a Streamable HTTP session: the server forgot it (restart, expiry), so this connection is over.
    if (this.protocol === 'streamable-http' && httpStatusOf(error) === 404) this.#goneWith(error);
  }

  /** The upstream went away on its own: fail what is pending, tell listeners once, and clean up behind it. */
  #goneWith(cause: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'closed';
    const error = this.#scrub(
      cause instanceof UpstreamError
        ? cause
        : new UpstreamError('CLOSED', `"${this.#parts.name}": ${describeError(cause)}`, { cause }),
    );
    this.#goneError = error;
    this.#parts.logger.info('upstream connection lost', { server: this.#parts.name, error: error.message });
    this.#failPending(error);
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) this.#safely(() => listener(error));
    // The process may have left children behind, and an HTTP transport may still hold sockets.
    this.#closing = this.#shutdown();
  }

  #failPending(error: UpstreamError): void {
    const pending = [...this.#pending];
    for (const p of pending) p.fail(error);
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closed';
    const { opened, logger, name, scrub = (text: string) => text } = this.#parts;
    // Ends the session (unless the server already dropped it) or the process group, then closes the transport;
    // also when the client never started it (failure before connect).
    await opened?.close({ endSession: this.#goneError === undefined });
    await this.client.close().catch((error: unknown) => {
      logger.debug('closing upstream client failed', { server: name, error: scrub(describeError(error)) });
    });
    this.#toolsListeners.clear();
  }

  #emitToolsChanged(): void {
    if (this.#state !== 'open') return;
    for (const listener of [...this.#toolsListeners]) this.#safely(listener);
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#parts.logger.error('upstream listener threw', { server: this.#parts.name, error: describeError(error) });
    }
  }
}
