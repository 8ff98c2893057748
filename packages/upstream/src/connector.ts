import type { Clock, ConnectOptions, Logger, ServerConfig, UpstreamConnector } from '@mcpproxy/contracts';
import { silentLogger, systemClock, UpstreamError } from '@mcpproxy/contracts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type Connection, SdkConnection } from './connection.js';
import {
  describeError,
  type HttpKind,
  parseServerUrl,
  redactUrl,
  scrubError,
  secretScrubber,
  shouldFallBackToSse,
  urlSecrets,
} from './http.js';
import { openUpstream } from './transport.js';

/** How the proxy introduces itself in `initialize`. */
export interface ClientInfo {
  name: string;
  version: string;
}

/** Options of {@link createConnector}. */
export interface ConnectorOptions {
  /** Time source for init deadlines, call deadlines and the kill grace. @default systemClock */
  clock?: Clock | undefined;
  /** Receives connect/close diagnostics; never header or env values. @default silentLogger */
  logger?: Logger | undefined;
  /**
   * The proxy's own environment (the app passes `process.env`). Only PATH, HOME, USER, LANG and TERM are taken
   * from it for stdio upstreams; the server's `env` is laid over them. Libraries never read `process.env`.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Bound of connect + initialize + first tools/list when neither `connect(…, { timeoutMs })` nor the server's
   * `init_timeout` says otherwise; also the deadline of `listTools()` and `ping()` without a `timeoutMs`.
   * @default 30_000
   */
  defaultInitTimeoutMs?: number | undefined;
  /** Deadline of `callTool()` without a `timeoutMs` (the config's `call_tool_timeout`). @default 120_000 */
  defaultCallTimeoutMs?: number | undefined;
  /** Name and version sent as `clientInfo` in `initialize`. @default { name: 'mcpproxy', version: '0.1.0' } */
  clientInfo?: ClientInfo | undefined;
  /**
   * How long a closing stdio upstream's process group gets after SIGTERM before SIGKILL (and, after SIGKILL,
   * before the close gives up waiting for the reap).
   * @default 2_000
   */
  killGraceMs?: number | undefined;
  /** Lines of a stdio upstream's stderr kept for `stderrTail()` and error messages. @default 200 */
  stderrLines?: number | undefined;
  /**
   * The fetch under HTTP upstreams (a proxy-aware or instrumented one). Each request gets its own abort signal
   * either way; see the README on why.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch | undefined;
  /**
   * Largest JSON body or SSE event (in characters) of an answer on the lean Streamable HTTP POST path (used when
   * no `fetch` is given); past it the request fails with an error saying so.
   * @default 67_108_864 (64 MiB)
   */
  maxMessageSize?: number | undefined;
}

/** The connector of this package: the contract's {@link UpstreamConnector}, resolving to a {@link Connection}. */
export interface Connector extends UpstreamConnector {
  /**
   * Opens a connection to `server` and lists its tools. Rejects with an `UpstreamError`: `COMMAND_NOT_FOUND`,
   * `CONNECT_FAILED`, `AUTH_REQUIRED`, `INIT_TIMEOUT`, `ABORTED` or `PROTOCOL_ERROR`; nothing is left running then.
   */
  connect(server: ServerConfig, options?: ConnectOptions): Promise<Connection>;
}

const DEFAULT_CLIENT_INFO: ClientInfo = { name: 'mcpproxy', version: '0.1.0' };

/**
 * Creates the MCP SDK-backed {@link UpstreamConnector}: stdio (own process group, minimal environment, bounded
 * stderr ring), Streamable HTTP, legacy SSE, and `auto` (stdio when `command` is set, else Streamable HTTP falling
 * back to SSE).
 */
export function createConnector({
  clock = systemClock,
  logger = silentLogger,
  env = {},
  defaultInitTimeoutMs = 30_000,
  defaultCallTimeoutMs = 120_000,
  clientInfo = DEFAULT_CLIENT_INFO,
  killGraceMs = 2_000,
  stderrLines = 200,
  fetch,
  maxMessageSize,
}: ConnectorOptions = {}): Connector {
  const newClient = () => new Client({ ...clientInfo }, { capabilities: {} });
  const common = { clock, logger, callTimeoutMs: defaultCallTimeoutMs, requestTimeoutMs: defaultInitTimeoutMs };
  const transportOptions = { env, clock, logger, killGraceMs, stderrLines, fetch, maxMessageSize };

  async function connectStdio(server: ServerConfig, timeoutMs: number, signal?: AbortSignal): Promise<Connection> {
    const opened = openUpstream(server, 'stdio', transportOptions);
    const connection = new SdkConnection({
      ...common,
      name: server.name,
      protocol: 'stdio',
      client: newClient(),
      transport: opened.transport,
      opened,
      scrub: scrubberFor(server),
    });
    await connection.initialize(timeoutMs, signal);
    return connection;
  }

  async function connectHttp(
    server: ServerConfig,
    kind: HttpKind,
    url: URL,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Connection> {
    const opened = openUpstream(server, kind, transportOptions);
    const connection = new SdkConnection({
      ...common,
      name: server.name,
      protocol: kind,
      client: newClient(),
      transport: opened.transport,
      opened,
      url,
      scrub: scrubberFor(server, url),
    });
    await connection.initialize(timeoutMs, signal);
    return connection;
  }

  async function connectAuto(server: ServerConfig, url: URL, timeoutMs: number, signal?: AbortSignal) {
    const started = clock.now();
    try {
      return await connectHttp(server, 'streamable-http', url, timeoutMs, signal);
    } catch (error) {
      if (!(error instanceof UpstreamError) || error.code !== 'CONNECT_FAILED' || !shouldFallBackToSse(error.cause)) {
        throw error;
      }
      logger.debug('Streamable HTTP failed; falling back to SSE', { server: server.name, url: redactUrl(url) });
      const left = Math.max(0, timeoutMs - (clock.now() - started));
      try {
        return await connectHttp(server, 'sse', url, left, signal);
      } catch (sseError) {
        if (!(sseError instanceof UpstreamError) || sseError.code !== 'CONNECT_FAILED') throw sseError;
        throw new UpstreamError('CONNECT_FAILED', `${error.message}; SSE fallback: ${sseError.message}`, {
          cause: sseError,
        });
      }
    }
  }

  function scrubberFor(server: ServerConfig, url?: URL) {
    return secretScrubber([
      ...Object.values(server.headers),
      ...Object.values(server.env),
      ...(url ? urlSecrets(url) : []),
    ]);
  }

  async function connect(server: ServerConfig, { signal, timeoutMs }: ConnectOptions): Promise<Connection> {
    if (signal?.aborted) throw new UpstreamError('ABORTED', `connecting to "${server.name}" was aborted`);
    const initTimeoutMs = timeoutMs ?? server.init_timeout ?? defaultInitTimeoutMs;
    const started = clock.now();
    let connection: Connection;
    switch (server.protocol) {
      case 'stdio':
        connection = await connectStdio(server, initTimeoutMs, signal);
        break;
      case 'http':
      case 'streamable-http':
        connection = await connectHttp(server, 'streamable-http', parseServerUrl(server), initTimeoutMs, signal);
        break;
      case 'sse':
        connection = await connectHttp(server, 'sse', parseServerUrl(server), initTimeoutMs, signal);
        break;
      case 'auto':
        connection = server.command
          ? await connectStdio(server, initTimeoutMs, signal)
          : await connectAuto(server, parseServerUrl(server), initTimeoutMs, signal);
        break;
    }
    logger.info('upstream connected', {
      server: server.name,
      protocol: connection.protocol,
      tool_count: connection.tools.length,
      duration_ms: clock.now() - started,
    });
    return connection;
  }

  return {
    async connect(server, options = {}) {
      try {
        return await connect(server, options);
      } catch (error) {
        const upstreamError =
          error instanceof UpstreamError
            ? error
            : new UpstreamError('CONNECT_FAILED', `connecting to "${server.name}" failed: ${describeError(error)}`, {
                cause: error,
              });
        // Messages quote what the network and the upstream said; none of the server's secrets may ride along.
        const url = server.url && URL.canParse(server.url) ? new URL(server.url) : undefined;
        throw scrubError(upstreamError, scrubberFor(server, url));
      }
    },
  };
}
