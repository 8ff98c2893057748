import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { Supervisor } from '@mcpproxy/actor';
import { type ConfigService, createConfigService } from '@mcpproxy/configsvc';
import { type AppState, type Clock, type Logger, systemClock, type UpstreamConnector } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ManagementService } from '@mcpproxy/management';
import type { ToolIndex } from '@mcpproxy/search';
import type { StateView } from '@mcpproxy/stateview';
import type { Broadcaster } from '@mcpproxy/ws-broadcast';
import type { ServerActivity } from './activity.js';
import type { HttpApp } from './app.js';
import type { FileApprovalsStore } from './approvals-store.js';
import { listenHttp, urlOf } from './http-server.js';
import { acquireLock, type DataDirLock } from './lock.js';
import type { LogLevel } from './logger.js';
import type { McpEndpoints } from './mcp/index.js';
import type { Metrics } from './metrics.js';
import type { BoundAddress, Security } from './security.js';
import { createShutdown } from './shutdown.js';
import { checkListen, configStartError, makeDataDir } from './startup.js';
import { startSystemMetrics } from './system-metrics.js';
import { VERSION } from './version.js';
import { busForwarder, childLogger, createServeLogger, wireServices } from './wiring.js';

export interface ServeOptions {
  /** The data dir: lock file, approvals, and the default config. Created (mode 0700) if missing. */
  dataDir: string;
  /** The config file. @default `<dataDir>/mcp_config.json` (created with defaults on first run) */
  configPath?: string | undefined;
  /** `listen` override (the `-l` flag): beats the file and `MCPPROXY_LISTEN`. `""` serves no HTTP. @default none */
  listen?: string | undefined;
  /** `api_key` override (a flag). @default none */
  apiKey?: string | undefined;
  /**
   * The process environment (the app passes `process.env`): `MCPPROXY_LISTEN`, `MCPPROXY_API_KEY` (config
   * overrides), `MCPPROXY_LOG_LEVEL`; stdio upstreams inherit PATH, HOME, USER, LANG and TERM from it.
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The logger for everything. @default pino JSON lines on stderr with secrets scrubbed (see `logDestination`) */
  logger?: Logger | undefined;
  /** Where the default logger writes (ignored with `logger`). @default stderr */
  logDestination?: { write(line: string): unknown } | undefined;
  /** Level of the default logger. @default `MCPPROXY_LOG_LEVEL` or 'info' */
  logLevel?: LogLevel | undefined;
  /** Opens upstream connections. @default `createConnector({env})` of @mcpproxy/upstream */
  connector?: UpstreamConnector | undefined;
  /** Time source for every library and the `system_metrics` timer. @default systemClock */
  clock?: Clock | undefined;
  /** Watch the config file for hand edits. @default true */
  watchConfig?: boolean | undefined;
  /**
   * Mounts MCP endpoints in place of the built-in ones (`/mcp`, `/mcp/all`, `/mcp/servers/{name}`); called with the
   * app after the Host/Origin/key middleware. @default the built-in endpoints
   */
  mcp?: ((app: HttpApp) => void) | undefined;
  /** Period of the `system_metrics` event; `0` turns it off. @default 10000 */
  systemMetricsIntervalMs?: number | undefined;
  /** Bound of `close()`: sockets, actors and child processes are given this long in total. @default 4000 */
  shutdownTimeoutMs?: number | undefined;
  /** Serialiser of the read model (benchmarks count its calls). @default JSON.stringify */
  stringify?: ((value: unknown) => string) | undefined;
  /** Export Node process metrics under `mcpproxy_`. @default true */
  processMetrics?: boolean | undefined;
}

/** Everything `serve()` composed, for tests, benchmarks and the next issue's MCP endpoints. */
export interface ServerServices {
  config: ConfigService;
  bus: EventBus;
  view: StateView;
  supervisor: Supervisor;
  management: ManagementService;
  index: ToolIndex;
  broadcaster: Broadcaster;
  metrics: Metrics;
  security: Security;
  approvals: FileApprovalsStore;
  /** The activity log (its `log` is undefined when `activity.enabled` is false). */
  activity: ServerActivity;
  mcp: McpEndpoints;
  app: HttpApp;
  logger: Logger;
}

/** A running mcpproxy. */
export interface RunningServer {
  /**
   * `http://HOST:PORT` (the real port after `:0`; loopback when bound to every interface); `undefined` when `listen`
   * is `""`.
   */
  readonly url: string | undefined;
  /** The bound address; `undefined` without a listener. */
  readonly address: BoundAddress | undefined;
  readonly dataDir: string;
  readonly configPath: string;
  readonly services: ServerServices;
  /**
   * Graceful shutdown: app → `stopping`, stop accepting, close live sockets with 1001, stop actors and their child
   * processes, flush approvals, release the lock. Bounded by `shutdownTimeoutMs`. Idempotent; never rejects.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts mcpproxy: takes the data dir's lock, loads the config, checks it (`startup.ts`), composes bus, read model,
 * approvals, connector, supervisor, search index, management service, live broadcaster, metrics and the HTTP app
 * (`wiring.ts`), listens (`http-server.ts`), reconciles the config into actors and reports `running`. Never waits
 * on an upstream. `close()` is `shutdown.ts`.
 * @throws {ServeError} with `exitCode` 2 (port in use), 3 (data dir locked), 4 (invalid config, or a non-loopback
 *   listen without `api_key`), 5 (permission denied), 1 (anything else).
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { env = {}, clock = systemClock, watchConfig = true, systemMetricsIntervalMs = 10_000 } = options;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 4_000;
  const dataDir = resolve(options.dataDir);
  const configPath = resolve(options.configPath ?? join(dataDir, 'mcp_config.json'));

  // Undone in reverse order if start-up fails part-way.
  const cleanups: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the start-up error is what matters
      }
    }
  };

  try {
    await makeDataDir(dataDir);
    const lock: DataDirLock = await acquireLock(dataDir);
    cleanups.push(() => lock.release());

    const forwarder = busForwarder();
    let config: ConfigService | undefined;
    const logger = createServeLogger(options, env, () => config);
    try {
      config = await createConfigService({
        path: configPath,
        bus: forwarder.bus,
        env,
        overrides: {
          ...(options.listen !== undefined ? { listen: options.listen } : {}),
          ...(options.apiKey !== undefined ? { api_key: options.apiKey } : {}),
        },
        watch: watchConfig,
        clock,
        logger: childLogger(logger)('config'),
      });
    } catch (error) {
      throw configStartError(error, configPath);
    }
    const cfgService = config;
    cleanups.push(() => cfgService.close());
    const initial = cfgService.snapshot();
    const listen = checkListen(initial);

    let bound: BoundAddress | undefined;
    let ready = false;
    const services = await wireServices({
      config: cfgService,
      attachBus: forwarder.attach,
      dataDir,
      env,
      clock,
      logger,
      address: () => bound ?? { host: listen?.host ?? '127.0.0.1', port: listen?.port ?? 0 },
      ready: () => ready,
      cleanups,
      options: { ...options, shutdownTimeoutMs },
    });
    const { bus, view, supervisor, broadcaster, metrics } = services;

    let httpServer: Server | undefined;
    if (listen) {
      const { app, security } = services;
      const http = await listenHttp({
        address: listen,
        spec: initial.listen,
        app,
        security,
        broadcaster,
        metrics,
        logger,
      });
      httpServer = http.server;
      bound = http.bound;
      const server = http.server;
      cleanups.push(
        () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      );
    }

    // ------------------------------------------------------------ start

    metrics.reconciled();
    const offReconcile = cfgService.subscribe(() => metrics.reconciled());
    supervisor.start();
    ready = true;
    const setAppState = (to: AppState) => {
      const from = view.snapshot().app.state;
      if (from !== to) bus.publish({ type: 'app_state_changed', data: { from, to } });
    };
    setAppState('running');
    const stopSystemMetrics = startSystemMetrics({
      bus,
      view,
      broadcaster,
      clock,
      intervalMs: systemMetricsIntervalMs,
    });

    const url = bound ? urlOf(bound) : undefined;
    logger.info('mcpproxy started', {
      version: VERSION,
      url: url ?? null,
      config: configPath,
      data_dir: dataDir,
      servers: initial.mcpServers.length,
    });

    const close = createShutdown({
      services,
      httpServer,
      lock,
      clock,
      logger,
      timeoutMs: shutdownTimeoutMs,
      beforeStop: () => {
        ready = false;
        stopSystemMetrics();
        offReconcile();
        setAppState('stopping');
      },
    });
    return { url, address: bound, dataDir, configPath, services, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await unwind();
    throw error;
  }
}
