import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { type Client, type Endpoint, Mode } from './client.js';
import { frameText } from './codec.js';
import type { EndpointContext } from './context.js';
import { BroadcastError } from './errors.js';
import { rawToString, rejectSocket } from './http.js';
import { isOmni2Ping, omni2Pong } from './omni2.js';
import { parseClientOp } from './ops.js';
import { type LiveQuery, parseLiveQuery } from './query.js';

const ROUTES: Readonly<Record<string, Endpoint>> = {
  '/ws/events': 'events',
  '/ws/servers': 'servers',
  '/ws/mcp-status': 'mcp_status',
};

const TEXT_PONG = frameText('pong');
const JSON_PONG = '{"type":"pong"}';
const FRAME_JSON_PONG = frameText(JSON_PONG);
const OMNI2_QUERY: LiveQuery = { types: null, servers: null, since: undefined, epoch: undefined, legacy: false };

/**
 * The WebSocket endpoints: the upgrade (route, origin, auth, query), then each connection's events (messages,
 * pongs, close). Frames are handed to the client's queue; nothing here writes to a socket directly.
 */
export function createWebSocketEndpoint(
  ctx: EndpointContext,
  wss: WebSocketServer,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { registry, resume, liveness, logger, authorize, checkOrigin } = ctx;
  const nowIso = () => new Date(ctx.clock.now()).toISOString();

  const onMessage = (c: Client, data: RawData): void => {
    const text = rawToString(data);
    if (c.endpoint === 'mcp_status') {
      if (isOmni2Ping(text)) c.sendControl(omni2Pong(nowIso()), 'pong');
      return;
    }
    const op = parseClientOp(text, c.endpoint);
    switch (op.kind) {
      case 'text-pong':
        if (c.mode === Mode.Deflate) c.out.offerControl('pong', 4, 'pong');
        else c.out.offerControl(TEXT_PONG, TEXT_PONG.length, 'pong');
        return;
      case 'pong':
        c.sendControl(JSON_PONG, 'pong', FRAME_JSON_PONG);
        return;
      case 'error':
        c.sendControl(JSON.stringify({ type: 'error', code: op.code, message: op.message }), 'error');
        return;
      case 'subscribe':
        if (op.types !== undefined) c.types = op.types;
        if (op.servers !== undefined) c.servers = op.servers;
        c.sendControl(
          JSON.stringify({
            type: 'subscribed',
            types: c.types ? [...c.types] : null,
            servers: c.servers ? [...c.servers] : null,
          }),
          'subscribed',
        );
    }
  };

  const onOpen = (ws: WebSocket, socket: Duplex, endpoint: Endpoint, query: LiveQuery): void => {
    if (ctx.isClosed()) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const deflate = ws.extensions.includes('permessage-deflate');
    const c = ctx.newClient(endpoint, deflate ? Mode.Deflate : Mode.Raw, query, { ws, socket });
    ws.on('error', (error) => logger.debug('ws-broadcast: client error', { id: c.id, error: String(error) }));
    ws.on('close', () => registry.remove(c));
    ws.on('pong', () => {
      c.awaitingPongSince = undefined;
    });
    ws.on('message', (data) => onMessage(c, data));
    if (!deflate) {
      const onDrain = () => c.out.flush();
      socket.on('drain', onDrain);
      registry.onRemove(c, () => socket.off('drain', onDrain));
    }
    registry.add(c);
    liveness.armPing();
    if (endpoint === 'mcp_status') resume.greetOmni(c);
    else resume.greet(c, query);
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Until ws owns the socket, a reset by the peer must not crash the process.
    socket.on('error', () => {});
    if (ctx.isClosed()) return rejectSocket(socket, 503, 'INTERNAL', 'the server is shutting down');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const endpoint = ROUTES[url.pathname];
    if (!endpoint) return rejectSocket(socket, 404, 'NOT_FOUND', `no live endpoint at ${url.pathname}`);
    if (checkOrigin && !checkOrigin(req)) {
      return rejectSocket(socket, 403, 'FORBIDDEN_ORIGIN', 'this Origin may not open live connections');
    }
    if (authorize && !(await authorize(req))) {
      return rejectSocket(socket, 401, 'UNAUTHORIZED', 'a valid API key is required');
    }
    if (ctx.isClosed()) return rejectSocket(socket, 503, 'INTERNAL', 'the server is shutting down');
    if (socket.destroyed) return;
    let query: LiveQuery;
    try {
      query =
        endpoint === 'mcp_status'
          ? OMNI2_QUERY
          : parseLiveQuery(url.searchParams, { requireServer: endpoint === 'servers' });
    } catch (error) {
      if (error instanceof BroadcastError) return rejectSocket(socket, 400, 'BAD_REQUEST', error.message);
      throw error;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, socket, endpoint, query));
  };

  return (req, socket, head) => {
    upgrade(req, socket, head).catch((error: unknown) => {
      logger.error('ws-broadcast: upgrade failed', { error: String(error) });
      rejectSocket(socket, 500, 'INTERNAL', 'the upgrade failed');
    });
  };
}
