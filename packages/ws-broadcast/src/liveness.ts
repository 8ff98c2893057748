import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';
import { frameText } from './codec.js';
import { omni2Ping } from './omni2.js';
import type { ClientRegistry } from './registry.js';

const SSE_PING = Buffer.from(': ping\n\n');

export interface LivenessOptions {
  registry: ClientRegistry;
  clock: Clock;
  logger: Logger;
  /** `events.ping_interval` in ms; 0 sends no pings. */
  pingInterval: number;
  /** `events.pong_timeout` in ms: a WebSocket that has not answered a ping by then is terminated. */
  pongTimeout: number;
  /** SSE comment keepalive interval in ms; 0 sends none. */
  sseKeepaliveMs: number;
}

/** The timers that keep connections alive and find dead ones. They run only while there are clients to serve. */
export interface Liveness {
  /** Starts the WebSocket ping round, if it is not running. */
  armPing(): void;
  /** Starts the SSE keepalive, if it is not running. */
  armKeepalive(): void;
  /** Clears every timer; nothing is armed again. */
  close(): void;
}

/**
 * Creates the liveness timers. WebSocket clients get a protocol ping every `pingInterval` (OMNI2 clients also the
 * dialect's own `ping` message) and are terminated when no pong comes within `pongTimeout`; SSE streams get a
 * comment line every `sseKeepaliveMs` so proxies do not close them as idle.
 */
export function createLiveness({
  registry,
  clock,
  logger,
  pingInterval,
  pongTimeout,
  sseKeepaliveMs,
}: LivenessOptions): Liveness {
  const { live, omni, sse } = registry;
  let closed = false;
  let pingTimer: TimerHandle | undefined;
  let keepaliveTimer: TimerHandle | undefined;
  const pongChecks = new Set<TimerHandle>();

  const armPing = (): void => {
    if (closed || pingTimer !== undefined || pingInterval <= 0) return;
    pingTimer = clock.setTimeout(pingRound, pingInterval);
  };

  const checkPongs = (sentAt: number): void => {
    for (const set of [live, omni]) {
      for (const c of set) {
        if (c.awaitingPongSince !== undefined && c.awaitingPongSince <= sentAt) {
          logger.debug('ws-broadcast: no pong in time, terminating', { id: c.id, endpoint: c.endpoint });
          c.ws?.terminate();
        }
      }
    }
  };

  const pingRound = (): void => {
    pingTimer = undefined;
    if (closed) return;
    const now = clock.now();
    let awaiting = false;
    let omniPing: Buffer | undefined;
    let omniPingJson: string | undefined;
    for (const set of [live, omni]) {
      for (const c of set) {
        if (c.out.gone) continue;
        if (c.awaitingPongSince === undefined) {
          c.awaitingPongSince = now;
          c.ws?.ping();
        }
        awaiting = true;
        if (c.endpoint === 'mcp_status') {
          omniPingJson ??= omni2Ping(new Date(now).toISOString());
          omniPing ??= frameText(omniPingJson);
          c.sendControl(omniPingJson, 'ping', omniPing);
        }
      }
    }
    if (awaiting) {
      const check = clock.setTimeout(() => {
        pongChecks.delete(check);
        checkPongs(now);
      }, pongTimeout);
      pongChecks.add(check);
    }
    if (live.size + omni.size > 0) armPing();
  };

  const armKeepalive = (): void => {
    if (closed || keepaliveTimer !== undefined || sseKeepaliveMs <= 0) return;
    keepaliveTimer = clock.setTimeout(() => {
      keepaliveTimer = undefined;
      if (closed) return;
      for (const c of sse) c.out.keepalive(SSE_PING);
      if (sse.size > 0) armKeepalive();
    }, sseKeepaliveMs);
  };

  const close = (): void => {
    closed = true;
    clock.clearTimeout(pingTimer);
    clock.clearTimeout(keepaliveTimer);
    for (const t of pongChecks) clock.clearTimeout(t);
    pongChecks.clear();
    pingTimer = keepaliveTimer = undefined;
  };

  return { armPing, armKeepalive, close };
}
