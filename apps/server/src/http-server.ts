import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '@mcpproxy/contracts';
import type { Broadcaster } from '@mcpproxy/ws-broadcast';
import { type HttpApp, REQUEST_ID_RE } from './app.js';
import type { Metrics } from './metrics.js';
import { problemBody } from './problems.js';
import type { BoundAddress, Security } from './security.js';
import { type ListenAddress, listenError } from './startup.js';

export interface ListenOptions {
  address: ListenAddress;
  /** The `listen` string as configured, for error messages. */
  spec: string;
  app: HttpApp;
  security: Security;
  broadcaster: Broadcaster;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The node HTTP server in front of the Hono app: a Host guard before routing, WebSocket upgrades to the
 * broadcaster, a bare 400 for requests the parser rejects. Resolves once it listens.
 * @throws {ServeError} as {@link listenError} maps a failed `listen()`
 */
export async function listenHttp({
  address,
  spec,
  app,
  security,
  broadcaster,
  metrics,
  logger,
}: ListenOptions): Promise<{ server: Server; bound: BoundAddress }> {
  const listener = getRequestListener(app.fetch, { hostname: address.host });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A Host that does not name this server is refused before routing (some, like "a b", would not even parse
    // into a URL): the same rule as the Hono middleware and the WebSocket upgrade.
    if (!security.hostAllowed(req.headers.host)) {
      refuseHost(req, res, metrics, logger);
      return;
    }
    void listener(req, res);
  });
  server.on('upgrade', broadcaster.handleUpgrade);
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(address.port, address.host, () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    });
  } catch (error) {
    throw listenError(error, spec);
  }
  server.on('error', (error) => logger.error('http server error', { error: String(error) }));
  const info = server.address() as AddressInfo;
  return { server, bound: { host: address.host, port: info.port } };
}

/** `http://HOST:PORT` of a bound address; a wildcard bind is reached through loopback (a Host the server accepts). */
export function urlOf(bound: BoundAddress): string {
  const host = bound.host === '0.0.0.0' ? '127.0.0.1' : bound.host === '::' ? '::1' : bound.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
}

/** Answers a request whose Host does not name this server: 403 problem+json, before any routing. */
function refuseHost(req: IncomingMessage, res: ServerResponse, metrics: Metrics, logger: Logger): void {
  const started = performance.now();
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
  // No `instance`: the path is request input, and nothing was routed. The body (if any) is not read, so the
  // connection is not kept for another request.
  const body = JSON.stringify(
    problemBody('FORBIDDEN_ORIGIN', 'the Host header does not name this server', { requestId }),
  );
  res.writeHead(403, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    connection: 'close',
  });
  res.end(body);
  metrics.observeHttp(req.method ?? 'GET', 'unmatched', 403, (performance.now() - started) / 1000);
  logger.debug('http request refused: foreign Host', { request_id: requestId, method: req.method, status: 403 });
}
