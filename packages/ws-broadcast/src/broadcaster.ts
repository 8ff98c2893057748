import { silentLogger, systemClock, type TimerHandle } from '@mcpproxy/contracts';
import { WebSocketServer } from 'ws';
import { Client } from './client.js';
import { EncodingCache } from './codec.js';
import type { EndpointContext } from './context.js';
import { BroadcastError } from './errors.js';
import { createFanout } from './fanout.js';
import { createLiveness } from './liveness.js';
import { newCounters } from './queue.js';
import { ClientRegistry } from './registry.js';
import { createResume } from './resume.js';
import { checkSettings, DEFAULTS } from './settings.js';
import { createSseEndpoint } from './sse.js';
import { TickCoalescer } from './transport.js';
import type { Broadcaster, BroadcasterOptions, BroadcastSettings, BroadcastStats } from './types.js';
import { createWebSocketEndpoint } from './websocket.js';

/**
 * Creates the hub. Every event is serialised once (and, without compression, framed once) for all clients; each
 * client has a queue bounded by `send_buffer` messages and `max_buffered_bytes` bytes, and a client that overflows
 * loses its queued events and gets a `resync` snapshot once its socket drains, so no client slows another.
 *
 * This file is the wiring; the parts read alone: `registry.ts` (who is connected), `fanout.ts` (bus event →
 * client queues), `queue.ts` (per-client queue and backpressure), `transport.ts` (socket/stream writes and
 * end-of-tick coalescing), `codec.ts` (framing), `resume.ts` (hello, replay, resync), `liveness.ts` (pings),
 * `websocket.ts` and `sse.ts` (the endpoints), `omni2.ts` (the OMNI2 dialect).
 * @throws {BroadcastError} `INVALID_OPTIONS`
 */
export function createBroadcaster({
  bus,
  view,
  authorize,
  checkOrigin,
  options = {},
  clock = systemClock,
  logger = silentLogger,
  sseKeepaliveMs = 15_000,
  closeTimeoutMs = 5_000,
}: BroadcasterOptions): Broadcaster {
  const settings: BroadcastSettings = { ...DEFAULTS, ...options };
  checkSettings(settings, sseKeepaliveMs, closeTimeoutMs);
  // The epoch goes into every SSE `id:` line: a line break would split the field, a NUL makes browsers drop the id.
  if (/[\r\n\0]/.test(bus.epoch)) {
    throw new BroadcastError('INVALID_OPTIONS', 'bus.epoch must not contain CR, LF or NUL (it is part of SSE ids)');
  }
  const limits = { sendBuffer: settings.send_buffer, maxBufferedBytes: settings.max_buffered_bytes };
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: settings.max_message_size,
    perMessageDeflate: settings.permessage_deflate,
  });

  let closed = false;
  let closing: Promise<void> | undefined;
  const counters = newCounters();
  const registry = new ClientRegistry();
  const coalescer = new TickCoalescer();
  const fanout = createFanout({ registry, cache: new EncodingCache(), clock, batchWindow: settings.batch_window });
  const resume = createResume({ bus, view, fanout, counters, clock, logger });
  const liveness = createLiveness({
    registry,
    clock,
    logger,
    pingInterval: settings.ping_interval,
    pongTimeout: settings.pong_timeout,
    sseKeepaliveMs,
  });
  const ctx: EndpointContext = {
    registry,
    resume,
    liveness,
    clock,
    logger,
    authorize,
    checkOrigin,
    isClosed: () => closed,
    newClient: (endpoint, mode, query, transport) =>
      new Client({
        id: registry.nextId(),
        endpoint,
        mode,
        types: query.types,
        servers: query.servers,
        legacy: query.legacy,
        limits,
        counters,
        onResync: resume.resync,
        coalescer,
        transport,
      }),
  };
  const handleUpgrade = createWebSocketEndpoint(ctx, wss);
  const sse = createSseEndpoint(ctx);
  const unsubscribe = bus.subscribe('*', fanout.onEvent);

  const stats = (): BroadcastStats => ({
    connections: registry.connections(),
    delivered: counters.delivered,
    dropped: { total: counters.droppedTotal, by_type: Object.fromEntries(counters.droppedByType) },
    resyncs: counters.resyncs,
    replays: counters.replays,
  });

  /** Ends SSE streams at once; closes WebSockets with 1001 and waits up to `closeTimeoutMs` before terminating. */
  const shutdown = async (): Promise<void> => {
    closed = true;
    unsubscribe();
    liveness.close();
    fanout.close();
    sse.endAll();
    const wsClients = [...registry.live, ...registry.omni];
    const sockets = wsClients.flatMap((c) => (c.ws ? [c.ws] : []));
    const waits: Promise<void>[] = [];
    for (const ws of sockets) {
      if (ws.readyState === ws.CLOSED) continue;
      waits.push(new Promise<void>((resolve) => ws.once('close', () => resolve())));
      try {
        ws.close(1001, 'server shutting down');
      } catch {
        ws.terminate();
      }
    }
    for (const c of wsClients) c.out.closed = true;
    wss.close();
    if (waits.length > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(waits),
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, closeTimeoutMs);
        }),
      ]);
      clock.clearTimeout(timer);
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
    }
    for (const c of [...registry.live, ...registry.omni]) registry.remove(c);
  };

  const close = (): Promise<void> => {
    closing ??= shutdown();
    return closing;
  };

  return {
    handleUpgrade,
    sse: sse.handle,
    stats,
    inspect: () => registry.inspect(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
