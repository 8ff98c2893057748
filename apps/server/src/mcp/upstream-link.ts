import type { Clock, ConnectedProtocol, Logger, ServerConfig } from '@mcpproxy/contracts';
import { openTransport, type UpstreamTransport } from '@mcpproxy/upstream';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * A raw upstream transport of one `/mcp/servers/{name}` session: `transport` (not started), `protocol`,
 * `setProtocolVersion(v)` and `close()` (ends the HTTP session or the whole stdio process group; idempotent), plus
 * what the session needs to order its traffic and to explain a loss.
 */
export interface UpstreamLink extends UpstreamTransport {
  /**
   * Settles once the upstream's standalone event stream (the GET a Streamable HTTP transport opens after
   * `notifications/initialized`) is established, was refused (405: the server offers none) or failed; resolves at
   * once for stdio and SSE, whose one stream is open from `start()`. Never rejects.
   */
  eventStreamReady(): Promise<void>;
  /** Why a stdio upstream's process went away ("was killed by SIGKILL"); `undefined` while it runs, and for HTTP. */
  exitDescription(): string | undefined;
}

export interface LinkOptions {
  /** The proxy's environment: only PATH, HOME, USER, LANG and TERM reach a stdio upstream (plus its own `env`). */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger;
  /** SIGTERM → SIGKILL grace for a stdio upstream's process group. */
  killGraceMs: number;
}

/** The private hook of the SDK's Streamable HTTP client transport that opens (or resumes) the standalone GET. */
interface SseOpener {
  _startOrAuthSse?: (options: { resumptionToken?: string | undefined }) => Promise<void>;
}

/**
 * Opens (but does not initialize) a raw transport to `server` over `protocol` (the actor's resolved one, so `auto`
 * is never guessed twice). Nothing is parsed beyond JSON-RPC framing: the session pipes messages through as they are.
 * The transport is `@mcpproxy/upstream`'s, the one under the actor's own connection (process group, minimal
 * environment, URL credentials as a Basic header, one abort signal per HTTP request).
 */
export function openUpstreamLink(
  server: ServerConfig,
  protocol: ConnectedProtocol,
  { env, clock, logger, killGraceMs }: LinkOptions,
): UpstreamLink {
  // stderr is drained but not kept: the actor's own connection holds the server's stderr tail.
  const opened = openTransport(server, protocol, { env, clock, logger, killGraceMs, stderrLines: 0 });
  const stream = watchEventStream(opened.transport);
  return Object.assign(opened, {
    eventStreamReady: () => stream(),
    exitDescription: () => {
      // `@mcpproxy/upstream`'s stdio transport exposes its process (with its exit) at runtime only.
      const proc = (opened.transport as { process?: { exited?: boolean; describeExit?: () => string } }).process;
      return proc?.exited ? proc.describeExit?.() : undefined;
    },
  });
}

/**
 * The SDK's Streamable HTTP client opens its standalone GET stream after `notifications/initialized` is accepted,
 * without waiting for it: a request sent right after may be answered by a server-to-client request that the server
 * puts on a stream that does not exist yet, and that is then never delivered (issue 16 item 7). The SDK offers no
 * public way to wait for that stream, so its opener is wrapped to keep the promise of the first fresh open.
 */
function watchEventStream(transport: unknown): () => Promise<void> {
  if (!(transport instanceof StreamableHTTPClientTransport)) return () => Promise.resolve();
  const opener = transport as unknown as SseOpener;
  const original = opener._startOrAuthSse;
  if (typeof original !== 'function') return () => Promise.resolve();
  let first: Promise<void> | undefined;
  opener._startOrAuthSse = function (this: unknown, options) {
    const started = original.call(this, options);
    if (first === undefined && !options.resumptionToken) first = started.catch(() => {});
    return started;
  };
  // Until the initialized notification went out there is nothing to wait for (the caller asks after sending it).
  return () => first ?? Promise.resolve();
}
