/**
 * The two servers measured side by side, both fed by the same `@mcpproxy/events` bus:
 * - `ours`: `@mcpproxy/ws-broadcast` behind `@hono/node-server` (WebSocket and SSE), with the real stateview;
 * - `bare`: the practical ceiling, a `ws` server that frames each event once and writes it to every socket in a loop.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import type { EventsConfig } from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createStateView, makeSummary } from '@mcpproxy/stateview';
import * as wsModule from 'ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Broadcaster, createBroadcaster } from '../src/index.js';

export interface Target {
  name: string;
  bus: EventBus;
  /** WebSocket URL of the fan-out endpoint. */
  wsUrl: string;
  /** SSE URL, when the target serves SSE. */
  sseUrl?: string | undefined;
  broadcaster?: Broadcaster | undefined;
  close(): Promise<void>;
}

const now = () => performance.timeOrigin + performance.now();
/** Pads the envelope to ~200 bytes on the wire. */
const TOOL = `echo-${'x'.repeat(58)}`;

/** Publishes one ~200-byte event stamped with the send time (ms since the epoch, sub-ms precision). */
export function publish(bus: EventBus, at = now()): void {
  bus.publish({ type: 'tool_called', server: 'alpha', data: { tool: TOOL, duration_ms: at, status: 'ok' } });
}

async function listen(server: Server): Promise<number> {
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function startOurs(options: Partial<EventsConfig> = {}): Promise<Target> {
  const bus = createEventBus();
  const view = createStateView({
    bus,
    app: { state: 'running', version: 'bench', started_at: null },
    servers: ['alpha', 'beta', 'gamma'].map((name) => makeSummary(name)),
  });
  const broadcaster = createBroadcaster({ bus, view, options });
  const server = createAdaptorServer({
    fetch: (req: Request) =>
      new URL(req.url).pathname === '/events' ? broadcaster.sse(req) : new Response(null, { status: 404 }),
  }) as Server;
  server.on('upgrade', broadcaster.handleUpgrade);
  const port = await listen(server);
  return {
    name: 'ws-broadcast',
    bus,
    broadcaster,
    wsUrl: `ws://127.0.0.1:${port}/ws/events`,
    sseUrl: `http://127.0.0.1:${port}/events`,
    async close() {
      await broadcaster.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      view.close();
      bus.close();
    },
  };
}

type FrameFn = (data: Buffer, options: Record<string, unknown>) => Buffer[];
const { frame } = (wsModule as unknown as { Sender: { frame: FrameFn } }).Sender;

/**
 * The bare server. `write` frames each event once and writes it to every socket in a loop (the ceiling);
 * `cork` also corks every socket for the rest of the tick, as ws-broadcast does, so a burst costs one `writev` per
 * socket (the ceiling for the same write strategy); `send` serialises once and calls `ws.send()` per client (what
 * ws-broadcast would do without its own framing).
 */
export async function startBare({ mode = 'write' }: { mode?: 'write' | 'cork' | 'send' } = {}): Promise<Target> {
  const cork = mode === 'cork';
  const bus = createEventBus();
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
  const sockets = new Set<Duplex>();
  const clients = new Set<WebSocket>();
  const server = createAdaptorServer({ fetch: () => new Response(null, { status: 404 }) }) as Server;
  server.on('upgrade', (req, socket: Duplex, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(socket);
      clients.add(ws);
      ws.on('close', () => {
        sockets.delete(socket);
        clients.delete(ws);
      });
      ws.on('error', () => {});
    });
  });
  let corked = false;
  const uncorkAll = () => {
    corked = false;
    for (const socket of sockets) socket.uncork();
  };
  const unsubscribe = bus.subscribe('*', (event) => {
    if (mode === 'send') {
      const json = JSON.stringify(event);
      for (const ws of clients) ws.send(json);
      return;
    }
    const payload = Buffer.from(JSON.stringify(event));
    const framed = Buffer.concat(frame(payload, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
    if (cork && !corked) {
      corked = true;
      for (const socket of sockets) socket.cork();
      process.nextTick(uncorkAll);
    }
    for (const socket of sockets) socket.write(framed);
  });
  const port = await listen(server);
  return {
    name: `bare ws (${mode})`,
    bus,
    wsUrl: `ws://127.0.0.1:${port}/`,
    async close() {
      unsubscribe();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      bus.close();
    },
  };
}
