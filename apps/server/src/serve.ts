import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { type ApprovalsStore, createSupervisor, type Supervisor } from '@mcpproxy/actor';
import { ConfigError, type ConfigService, createConfigService } from '@mcpproxy/configsvc';
import {
  type AppState,
  type Clock,
  type Config,
  type EventInput,
  isLoopbackHost,
  type Logger,
  parseListen,
  secretValues,
  systemClock,
  type TimerHandle,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createManagementService, type ManagementService } from '@mcpproxy/management';
import { createToolIndex, type ToolIndex } from '@mcpproxy/search';
import { createStateView, type StateView } from '@mcpproxy/stateview';
import { createConnector } from '@mcpproxy/upstream';
import { type Broadcaster, createBroadcaster } from '@mcpproxy/ws-broadcast';
import { createHttpApp, type HttpApp, REQUEST_ID_RE } from './app.js';
import { type FileApprovalsStore, openApprovalsStore } from './approvals-store.js';
import { errnoOf, isPermissionError, ServeError } from './exit-codes.js';
import { acquireLock, type DataDirLock } from './lock.js';
import { type AppLogger, createLogger, type LogLevel } from './logger.js';
import { createMcpEndpoints, type McpEndpoints } from './mcp/index.js';
import { createMetrics, type Metrics } from './metrics.js';
import { problemBody } from './problems.js';
import { type BoundAddress, createSecurity, type Security } from './security.js';
import { VERSION } from './version.js';

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

const LOG_LEVELS = new Set<string>(['debug', 'info', 'warn', 'error', 'silent']);

/** Maps a config service failure to a start-up failure with its exit code. */
function configStartError(error: unknown, path: string): ServeError {
  if (error instanceof ConfigError) {
    if (error.code === 'INVALID_CONFIG') {
      return new ServeError('CONFIG_INVALID', `invalid config ${path}: ${error.message}`, {
        cause: error,
        issues: error.issues,
      });
    }
    if (isPermissionError(error)) {
      return new ServeError('PERMISSION_DENIED', `cannot access the config ${path}: permission denied`, {
        cause: error,
      });
    }
    return new ServeError('CONFIG_INVALID', `cannot use the config ${path}: ${error.message}`, { cause: error });
  }
  if (isPermissionError(error)) {
    return new ServeError('PERMISSION_DENIED', `cannot access ${path}: permission denied`, { cause: error });
  }
  return new ServeError('START_FAILED', `cannot load the config ${path}: ${String(error)}`, { cause: error });
}

function listenError(error: unknown, listen: string): ServeError {
  const code = errnoOf(error);
  if (code === 'EADDRINUSE') return new ServeError('PORT_IN_USE', `${listen} is already in use`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM') {
    return new ServeError('PERMISSION_DENIED', `not allowed to listen on ${listen}`, { cause: error });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ServeError('CONFIG_INVALID', `cannot listen on ${listen}: no such local address`, { cause: error });
  }
  return new ServeError('START_FAILED', `cannot listen on ${listen}: ${String(error)}`, { cause: error });
}

/** `host:port` as a URL authority (IPv6 in brackets). */
function authority({ host, port }: BoundAddress): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Starts mcpproxy: takes the data dir's lock, loads the config, composes bus, read model, approvals, connector,
 * supervisor, search index, management service, live broadcaster, metrics and the HTTP app, listens, reconciles the
 * config into actors and reports `running`. Never waits on an upstream.
 * @throws {ServeError} with `exitCode` 2 (port in use), 3 (data dir locked), 4 (invalid config, or a non-loopback
 *   listen without `api_key`), 5 (permission denied), 1 (anything else).
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const {
    env = {},
    clock = systemClock,
    watchConfig = true,
    mcp,
    systemMetricsIntervalMs = 10_000,
    shutdownTimeoutMs = 4_000,
    stringify,
    processMetrics = true,
  } = options;
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
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      if (isPermissionError(error)) {
        throw new ServeError('PERMISSION_DENIED', `cannot create the data dir ${dataDir}: permission denied`, {
          cause: error,
        });
      }
      throw new ServeError('START_FAILED', `cannot create the data dir ${dataDir}: ${String(error)}`, { cause: error });
    }
    const lock: DataDirLock = await acquireLock(dataDir);
    cleanups.push(() => lock.release());

    // The config service is created before the bus (the bus takes `events.replay_buffer` from the config), so it
    // publishes through this forwarder; it publishes nothing while loading.
    let bus: EventBus | undefined;
    const busForConfig = {
      publish: (event: EventInput) => bus?.publish(event as Parameters<EventBus['publish']>[0]),
    } as unknown as EventBus;

    let config: ConfigService | undefined;
    let secretsFrom: Config | undefined;
    let secrets: readonly string[] = [];
    const currentSecrets = (): readonly string[] => {
      const snap = config?.snapshot();
      if (snap && snap !== secretsFrom) {
        secretsFrom = snap;
        secrets = secretValues(snap);
      }
      const extra = options.apiKey;
      return extra && !secrets.includes(extra) ? [...secrets, extra] : secrets;
    };
    const envLevel = env.MCPPROXY_LOG_LEVEL;
    const logger: Logger | AppLogger =
      options.logger ??
      createLogger({
        level: options.logLevel ?? (envLevel && LOG_LEVELS.has(envLevel) ? (envLevel as LogLevel) : 'info'),
        destination: options.logDestination,
        secrets: currentSecrets,
      });
    const child = (component: string): Logger =>
      'child' in logger && typeof logger.child === 'function' ? logger.child({ component }) : logger;

    try {
      config = await createConfigService({
        path: configPath,
        bus: busForConfig,
        env,
        overrides: {
          ...(options.listen !== undefined ? { listen: options.listen } : {}),
          ...(options.apiKey !== undefined ? { api_key: options.apiKey } : {}),
        },
        watch: watchConfig,
        clock,
        logger: child('config'),
      });
    } catch (error) {
      throw configStartError(error, configPath);
    }
    const cfgService = config;
    cleanups.push(() => cfgService.close());
    const initial = cfgService.snapshot();

    const listenSpec = initial.listen;
    const parsedListen = listenSpec === '' ? undefined : parseListen(listenSpec);
    if (listenSpec !== '' && !parsedListen) {
      throw new ServeError('CONFIG_INVALID', `invalid listen address "${listenSpec}"`);
    }
    if (parsedListen && !isLoopbackHost(parsedListen.host) && !initial.api_key) {
      throw new ServeError(
        'CONFIG_INVALID',
        `refusing to listen on ${listenSpec} without an api_key: set "api_key" in the config or MCPPROXY_API_KEY, ` +
          'or listen on 127.0.0.1',
        {
          issues: [
            { path: 'api_key', rule: 'required_off_loopback', message: 'is required when listen is not loopback' },
          ],
        },
      );
    }

    const eventBus = createEventBus({
      clock,
      replayBuffer: initial.events.replay_buffer,
      onListenerError: (error, event) =>
        logger.error('event listener failed', { type: event.type, seq: event.seq, error: String(error) }),
    });
    bus = eventBus;
    cleanups.push(() => eventBus.close());

    const view = createStateView({
      bus: eventBus,
      app: { state: 'starting', started_at: new Date(clock.now()).toISOString(), version: VERSION },
      stringify,
      onListenerError: (error, event) =>
        logger.error('read model listener failed', { type: event.type, error: String(error) }),
    });
    cleanups.push(() => view.close());

    const approvals = await openApprovalsStore({
      path: join(dataDir, 'approvals.json'),
      clock,
      logger: child('approvals'),
    });
    cleanups.push(() => approvals.close());

    const connector = options.connector ?? createConnector({ env, clock, logger: child('upstream') });
    const supervisor = createSupervisor({
      config: cfgService,
      bus: eventBus,
      connector,
      clock,
      logger: child('actor'),
      approvals: approvals as ApprovalsStore,
    });
    cleanups.push(() => supervisor.close({ deadlineMs: 2_000 }));

    const index = createToolIndex({ logger: child('search') });
    const management = createManagementService({
      config: cfgService,
      supervisor,
      view,
      bus: eventBus,
      index,
      clock,
      logger: child('management'),
    });
    cleanups.push(() => management.close());

    let bound: BoundAddress | undefined;
    const security = createSecurity({
      address: () => bound ?? { host: parsedListen?.host ?? '127.0.0.1', port: parsedListen?.port ?? 0 },
      apiKey: () => cfgService.snapshot().api_key,
      allowedOrigins: () => cfgService.snapshot().allowed_origins,
    });

    const { replay_buffer: _replay, ...liveSettings } = initial.events;
    const broadcaster = createBroadcaster({
      bus: eventBus,
      view,
      authorize: (req) => security.authorizeLive(req),
      checkOrigin: (req) => security.checkLiveOrigin(req),
      options: liveSettings,
      clock,
      logger: child('live'),
      closeTimeoutMs: Math.min(1_500, shutdownTimeoutMs / 2),
    });
    cleanups.push(() => broadcaster.close());

    const metrics = createMetrics({
      bus: eventBus,
      view,
      broadcaster: () => broadcaster.stats(),
      processMetrics,
      version: VERSION,
    });
    cleanups.push(() => metrics.close());

    const mcpEndpoints = createMcpEndpoints({
      management,
      supervisor,
      bus: eventBus,
      config: cfgService,
      clock,
      env,
      logger: child('mcp'),
      version: VERSION,
    });
    cleanups.push(() => mcpEndpoints.close());

    let ready = false;
    const app = createHttpApp({
      management,
      view,
      bus: eventBus,
      broadcaster,
      config: cfgService,
      security,
      metrics,
      logger: child('http'),
      ready: () => ready,
      version: VERSION,
      mcp: mcp ?? ((a) => void a.route('/', mcpEndpoints.routes)),
    });

    // ------------------------------------------------------------ listen

    let httpServer: Server | undefined;
    if (parsedListen) {
      const listener = getRequestListener(app.fetch, { hostname: parsedListen.host });
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
          server.listen(parsedListen.port, parsedListen.host, () => {
            server.off('error', rejectListen);
            resolveListen();
          });
        });
      } catch (error) {
        throw listenError(error, listenSpec);
      }
      server.on('error', (error) => logger.error('http server error', { error: String(error) }));
      const info = server.address() as AddressInfo;
      bound = { host: parsedListen.host, port: info.port };
      httpServer = server;
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
      if (from !== to) eventBus.publish({ type: 'app_state_changed', data: { from, to } });
    };
    setAppState('running');

    let metricsTimer: TimerHandle | undefined;
    let lastSeq = eventBus.seq;
    let lastAt = clock.now();
    const tick = () => {
      const snap = view.snapshot();
      const counts = { total: snap.servers.length, ready: 0, error: 0, disabled: 0, quarantined: 0 };
      for (const s of snap.servers) {
        if (s.state === 'ready') counts.ready++;
        else if (s.state === 'error') counts.error++;
        else if (s.state === 'disabled') counts.disabled++;
        else if (s.state === 'quarantined') counts.quarantined++;
      }
      const c = broadcaster.stats().connections;
      const now = clock.now();
      const seconds = Math.max(0.001, (now - lastAt) / 1000);
      const events_per_s = Math.round(((eventBus.seq - lastSeq) / seconds) * 100) / 100;
      eventBus.publish({
        type: 'system_metrics',
        data: { ...counts, ws_clients: c.events + c.servers + c.mcp_status + c.sse, events_per_s },
      });
      // Measured after publishing, so the metrics event itself is not counted in the next rate.
      lastSeq = eventBus.seq;
      lastAt = now;
      metricsTimer = clock.setTimeout(tick, systemMetricsIntervalMs);
    };
    if (systemMetricsIntervalMs > 0) metricsTimer = clock.setTimeout(tick, systemMetricsIntervalMs);

    // A wildcard bind is reached through loopback (that is also a Host the server accepts).
    const url = bound
      ? `http://${authority(bound.host === '0.0.0.0' ? { ...bound, host: '127.0.0.1' } : bound.host === '::' ? { ...bound, host: '::1' } : bound)}`
      : undefined;
    logger.info('mcpproxy started', {
      version: VERSION,
      url: url ?? null,
      config: configPath,
      data_dir: dataDir,
      servers: initial.mcpServers.length,
    });

    // ------------------------------------------------------------ shutdown

    let closing: Promise<void> | undefined;
    const shutdown = async (): Promise<void> => {
      ready = false;
      clock.clearTimeout(metricsTimer);
      offReconcile();
      setAppState('stopping');
      const started = clock.now();
      // Stop accepting; idle keep-alive connections go now, busy ones once their response is out.
      const serverClosed = httpServer
        ? new Promise<void>((done) => {
            httpServer?.close(() => done());
            httpServer?.closeIdleConnections();
          })
        : Promise.resolve();
      const step = async (name: string, fn: () => Promise<void> | void) => {
        try {
          await fn();
        } catch (error) {
          logger.warn('shutdown step failed', { step: name, error: String(error) });
        }
      };
      // Live clients get 1001 while actors stop their upstreams (and process groups) in parallel.
      await Promise.all([
        step('live', () => broadcaster.close()),
        step('mcp', () => mcpEndpoints.close()),
        step('actors', () => supervisor.close({ deadlineMs: Math.max(500, shutdownTimeoutMs - 1_000) })),
      ]);
      // Whatever request is still open (a tool call that just failed with STOPPED is on its way out) is cut now.
      httpServer?.closeAllConnections();
      await step('http', () => raceTimeout(serverClosed, 500));
      await step('management', () => management.close());
      await step('approvals', () => approvals.close());
      await step('config', () => cfgService.close());
      metrics.close();
      view.close();
      eventBus.close();
      await step('lock', () => lock.release());
      logger.info('mcpproxy stopped', { duration_ms: clock.now() - started });
      if ('flush' in logger && typeof logger.flush === 'function') logger.flush();
    };
    const close = (): Promise<void> => {
      closing ??= shutdown();
      return closing;
    };

    return {
      url,
      address: bound,
      dataDir,
      configPath,
      services: {
        config: cfgService,
        bus: eventBus,
        view,
        supervisor,
        management,
        index,
        broadcaster,
        metrics,
        security,
        approvals,
        mcp: mcpEndpoints,
        app,
        logger,
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

function raceTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<void>((done) => {
      timer = setTimeout(done, ms);
    }),
  ]).finally(() => clearTimeout(timer));
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
