import type { Clock, ConnectedProtocol, Logger, ServerConfig, TimerHandle } from '@mcpproxy/contracts';
import { silentLogger, systemClock, UpstreamError } from '@mcpproxy/contracts';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { createHttpTransport, parseServerUrl, splitCredentials } from './http.js';
import { ChildProcessTransport, childEnvironment, StdioProcess } from './stdio.js';

/** How long `close()` waits for the DELETE that ends a Streamable HTTP session. */
const SESSION_DELETE_MS = 1_000;

/** Options of {@link openTransport}. */
export interface OpenTransportOptions {
  /**
   * The proxy's own environment (the app passes `process.env`). Only PATH, HOME, USER, LANG and TERM are taken
   * from it for a stdio upstream; the server's `env` is laid over them.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Time source of the kill grace and the bounded session DELETE. @default systemClock */
  clock?: Clock | undefined;
  /** Receives process diagnostics; never header or env values. @default silentLogger */
  logger?: Logger | undefined;
  /**
   * How long a stdio upstream's process group gets after SIGTERM before SIGKILL (and, after SIGKILL, before the
   * close gives up waiting for the reap).
   * @default 2_000
   */
  killGraceMs?: number | undefined;
  /** Lines of a stdio upstream's stderr kept for `stderrTail()`. @default 200 */
  stderrLines?: number | undefined;
  /**
   * The fetch under an HTTP transport (a proxy-aware or instrumented one). Each request gets its own abort signal
   * either way; see the README on why. When given, every request of the transport goes through it; without it,
   * Streamable HTTP POSTs take the lean `node:http(s)` path (see the README) and the rest goes through
   * `globalThis.fetch`.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch | undefined;
  /**
   * Largest JSON body or SSE event (in characters) of an answer on the lean Streamable HTTP POST path; past it the
   * answer is dropped and its request fails with a JSON-RPC error saying so.
   * @default 67_108_864 (64 MiB)
   */
  maxMessageSize?: number | undefined;
}

/**
 * A raw MCP transport to one upstream and what it opened there. Nothing is parsed beyond JSON-RPC framing: the
 * caller starts {@link UpstreamTransport.transport} itself (directly, or through an SDK `Client`).
 */
export interface UpstreamTransport extends AsyncDisposable {
  /**
   * The SDK transport, not started. For stdio, `start()` spawns the process (rejecting with an `UpstreamError`:
   * `COMMAND_NOT_FOUND` or `CONNECT_FAILED`); for HTTP it opens nothing before the first message.
   */
  readonly transport: Transport;
  readonly protocol: ConnectedProtocol;
  /** Process id of a started stdio upstream, which is also its process group id; `undefined` otherwise. */
  readonly pid: number | undefined;
  /** The last lines of a stdio upstream's stderr, oldest first; `[]` for HTTP. */
  stderrTail(): string[];
  /** Tells an HTTP transport the negotiated version (sent as `MCP-Protocol-Version` from then on); no-op for stdio. */
  setProtocolVersion(version: string): void;
  /**
   * Ends what the transport opened: a Streamable HTTP session gets its DELETE (waiting at most 1 s) and the
   * transport is closed; a stdio upstream's whole process group is ended (SIGTERM, then SIGKILL after the grace).
   * Idempotent, never rejects; the transport's `onclose` fires if it had not already.
   */
  close(): Promise<void>;
}

/**
 * Opens (but does not start) a raw transport to `server` over `protocol` — the resolved one: `auto` is the
 * caller's to settle (the connector tries Streamable HTTP, then SSE). stdio runs without a shell, with the minimal
 * environment, as the leader of its own process group and with a bounded stderr ring. HTTP moves URL credentials
 * into a Basic `Authorization` header and sends the server's `headers` on every request.
 * Throws `UpstreamError('CONNECT_FAILED')` when the server has no `command` (stdio) or no valid `url` (HTTP).
 */
export function openTransport(
  server: ServerConfig,
  protocol: ConnectedProtocol,
  options: OpenTransportOptions = {},
): UpstreamTransport {
  return openUpstream(server, protocol, options);
}

/** What the connector needs beyond the public {@link UpstreamTransport}. */
export interface OpenedTransport extends UpstreamTransport {
  /** The stdio process once spawned, for exit descriptions and the stderr tail in error messages. */
  readonly process: StdioProcess | undefined;
  /**
   * Like {@link UpstreamTransport.close}; `endSession: false` skips the DELETE (the server answered 404: it
   * already forgot the session).
   */
  close(options?: { endSession?: boolean }): Promise<void>;
}

/** {@link openTransport}, with the internals the connector reads. */
export function openUpstream(
  server: ServerConfig,
  protocol: ConnectedProtocol,
  options: OpenTransportOptions = {},
): OpenedTransport {
  return protocol === 'stdio' ? openStdio(server, options) : openHttp(server, protocol, options);
}

function openStdio(
  server: ServerConfig,
  {
    env = {},
    clock = systemClock,
    logger = silentLogger,
    killGraceMs = 2_000,
    stderrLines = 200,
  }: OpenTransportOptions,
): OpenedTransport {
  const command = server.command;
  if (!command) throw new UpstreamError('CONNECT_FAILED', `"${server.name}" has no command to run`);
  const transport = new ChildProcessTransport(async () => {
    const proc = await StdioProcess.spawn(
      { command, args: server.args, env: childEnvironment(env, server.env), cwd: server.working_dir },
      { clock, logger, killGraceMs, stderrLines },
    );
    logger.debug('upstream process started', { server: server.name, command, pid: proc.pid });
    return proc;
  });
  const close = () => transport.close();
  return {
    transport,
    protocol: 'stdio',
    get process() {
      return transport.process;
    },
    get pid() {
      return transport.process?.pid;
    },
    stderrTail: () => transport.process?.stderr.lines() ?? [],
    setProtocolVersion: () => {},
    close,
    [Symbol.asyncDispose]: close,
  };
}

function openHttp(
  server: ServerConfig,
  protocol: 'streamable-http' | 'sse',
  { clock = systemClock, fetch, maxMessageSize }: OpenTransportOptions,
): OpenedTransport {
  const { url, headers } = splitCredentials(parseServerUrl(server), server.headers);
  const transport = createHttpTransport(protocol, url, {
    headers,
    fetch: fetch ?? ((input, init) => globalThis.fetch(input, init)),
    // An injected fetch (proxy-aware, instrumented) carries every request; only the default gives way to node:http.
    lean: fetch === undefined,
    maxMessageSize,
  });
  let closing: Promise<void> | undefined;
  const close = ({ endSession = true }: { endSession?: boolean } = {}) => {
    closing ??= (async () => {
      if (endSession && transport instanceof StreamableHTTPClientTransport) {
        // Tell the server it may drop the session; bounded, since a hung server must not hang our close.
        await withTimeout(clock, transport.terminateSession(), SESSION_DELETE_MS);
      }
      await transport.close().catch(() => {});
    })();
    return closing;
  };
  return {
    transport,
    protocol,
    process: undefined,
    pid: undefined,
    stderrTail: () => [],
    setProtocolVersion: (version) => transport.setProtocolVersion(version),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/** Waits for `promise` (ignoring its outcome) at most `ms` on `clock`. */
async function withTimeout(clock: Clock, promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: TimerHandle | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, ms);
    }),
  ]);
  clock.clearTimeout(timer);
}
