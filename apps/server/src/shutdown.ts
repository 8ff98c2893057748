import type { Server } from 'node:http';
import type { Clock, Logger } from '@mcpproxy/contracts';
import type { DataDirLock } from './lock.js';
import type { ServerServices } from './serve.js';

export interface ShutdownOptions {
  services: Omit<ServerServices, 'app' | 'index' | 'security' | 'logger'>;
  httpServer: Server | undefined;
  lock: DataDirLock;
  clock: Clock;
  logger: Logger;
  /** The whole shutdown's bound. */
  timeoutMs: number;
  /** Runs first: stops readiness, timers and config follow-ups, and publishes `stopping`. */
  beforeStop: () => void;
}

/**
 * The graceful shutdown of a running server, in order: stop accepting HTTP; close live sockets (1001), MCP
 * sessions and actors (with their child processes) in parallel; cut the requests still open; then management,
 * approvals (flushed), config, metrics, read model, bus; release the lock last. A failed step is logged and the
 * next runs. Returns an idempotent `close()` that never rejects.
 */
export function createShutdown({
  services,
  httpServer,
  lock,
  clock,
  logger,
  timeoutMs,
  beforeStop,
}: ShutdownOptions): () => Promise<void> {
  const { broadcaster, mcp, supervisor, management, approvals, activity, config, metrics, view, bus } = services;

  const step = async (name: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (error) {
      logger.warn('shutdown step failed', { step: name, error: String(error) });
    }
  };

  const shutdown = async (): Promise<void> => {
    beforeStop();
    const started = clock.now();
    // Stop accepting; idle keep-alive connections go now, busy ones once their response is out.
    const serverClosed = httpServer
      ? new Promise<void>((done) => {
          httpServer.close(() => done());
          httpServer.closeIdleConnections();
        })
      : Promise.resolve();
    // Live clients get 1001 while actors stop their upstreams (and process groups) in parallel.
    await Promise.all([
      step('live', () => broadcaster.close()),
      step('mcp', () => mcp.close()),
      step('actors', () => supervisor.close({ deadlineMs: Math.max(500, timeoutMs - 1_000) })),
    ]);
    // Whatever request is still open (a tool call that just failed with STOPPED is on its way out) is cut now.
    httpServer?.closeAllConnections();
    await step('http', () => raceTimeout(serverClosed, 500));
    await step('management', () => management.close());
    await step('approvals', () => approvals.close());
    // After every call has settled (actors and sessions are closed), so the last records are flushed too.
    await step('activity', () => activity.close());
    await step('config', () => config.close());
    metrics.close();
    view.close();
    bus.close();
    await step('lock', () => lock.release());
    logger.info('mcpproxy stopped', { duration_ms: clock.now() - started });
    if ('flush' in logger && typeof logger.flush === 'function') logger.flush();
  };

  let closing: Promise<void> | undefined;
  return () => {
    closing ??= shutdown();
    return closing;
  };
}

/** Waits for `promise`, or `ms` at most (real time: the shutdown bound holds even under a fake clock). */
function raceTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
