import type { Clock, ConnectedProtocol, Logger, ServerConfig } from '@mcpproxy/contracts';
import { openTransport, type UpstreamTransport } from '@mcpproxy/upstream';

/**
 * A raw upstream transport of one `/mcp/servers/{name}` session: `transport` (not started), `protocol`,
 * `setProtocolVersion(v)` and `close()` (ends the HTTP session or the whole stdio process group; idempotent).
 */
export type UpstreamLink = UpstreamTransport;

export interface LinkOptions {
  /** The proxy's environment: only PATH, HOME, USER, LANG and TERM reach a stdio upstream (plus its own `env`). */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger;
  /** SIGTERM → SIGKILL grace for a stdio upstream's process group. */
  killGraceMs: number;
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
  return openTransport(server, protocol, { env, clock, logger, killGraceMs, stderrLines: 0 });
}
