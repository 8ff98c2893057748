/**
 * The composition of the libraries into one server: bus → read model → approvals → connector → supervisor →
 * search index → management → security → live broadcaster → metrics → MCP endpoints → HTTP app. Each part gets
 * its collaborators here and nowhere else; `serve()` runs the checks around it, listens and starts.
 */
import { join } from 'node:path';
import { type ApprovalsStore, createSupervisor } from '@mcpproxy/actor';
import type { ConfigService } from '@mcpproxy/configsvc';
import { type Clock, type Config, type EventInput, type Logger, secretValues } from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createManagementService } from '@mcpproxy/management';
import { createToolIndex } from '@mcpproxy/search';
import { createStateView } from '@mcpproxy/stateview';
import { createConnector } from '@mcpproxy/upstream';
import { createBroadcaster } from '@mcpproxy/ws-broadcast';
import { createServerActivity } from './activity.js';
import { createHttpApp } from './app.js';
import { openApprovalsStore } from './approvals-store.js';
import { type AppLogger, createLogger, type LogLevel } from './logger.js';
import { createMcpEndpoints } from './mcp/index.js';
import { PromptPins } from './mcp/prompt-pins.js';
import { createMetrics } from './metrics.js';
import type { BoundAddress } from './security.js';
import { createSecurity } from './security.js';
import type { ServeOptions, ServerServices } from './serve.js';
import { createToolScanService } from './tool-scanner.js';
import { VERSION } from './version.js';

const LOG_LEVELS = new Set<string>(['debug', 'info', 'warn', 'error', 'silent']);

/**
 * The server's logger: `options.logger`, or pino JSON lines that scrub every secret of the current config (and
 * the `apiKey` flag) from each line. `config` is read per line, so it may be set after the logger exists.
 */
export function createServeLogger(
  options: Pick<ServeOptions, 'logger' | 'logLevel' | 'logDestination' | 'apiKey'>,
  env: Readonly<Record<string, string | undefined>>,
  config: () => ConfigService | undefined,
): Logger | AppLogger {
  if (options.logger) return options.logger;
  let secretsFrom: Config | undefined;
  let secrets: readonly string[] = [];
  const currentSecrets = (): readonly string[] => {
    const snap = config()?.snapshot();
    if (snap && snap !== secretsFrom) {
      secretsFrom = snap;
      secrets = secretValues(snap);
    }
    const extra = options.apiKey;
    return extra && !secrets.includes(extra) ? [...secrets, extra] : secrets;
  };
  const envLevel = env.MCPPROXY_LOG_LEVEL;
  return createLogger({
    level: options.logLevel ?? (envLevel && LOG_LEVELS.has(envLevel) ? (envLevel as LogLevel) : 'info'),
    destination: options.logDestination,
    secrets: currentSecrets,
  });
}

/** A child logger per component, when the logger has children. */
export const childLogger =
  (logger: Logger | AppLogger) =>
  (component: string): Logger =>
    'child' in logger && typeof logger.child === 'function' ? logger.child({ component }) : logger;

/**
 * The config service is created before the bus (the bus takes `events.replay_buffer` from the config), so it
 * publishes through this forwarder until `attach`; it publishes nothing while loading.
 */
export function busForwarder(): { bus: EventBus; attach(bus: EventBus): void } {
  let target: EventBus | undefined;
  const bus = {
    publish: (event: EventInput) => target?.publish(event as Parameters<EventBus['publish']>[0]),
  } as unknown as EventBus;
  return {
    bus,
    attach: (b) => {
      target = b;
    },
  };
}

export interface WireOptions {
  config: ConfigService;
  /** Receives the bus as soon as it exists (see {@link busForwarder}). */
  attachBus: (bus: EventBus) => void;
  dataDir: string;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger | AppLogger;
  /** Where the server listens, once it does; before that, what the config asks for. */
  address: () => BoundAddress;
  /** Whether `/readyz` answers 200. */
  ready: () => boolean;
  /** Each part's close, in creation order: run in reverse if start-up fails part-way. */
  cleanups: (() => Promise<void> | void)[];
  options: Pick<ServeOptions, 'connector' | 'mcp' | 'shutdownTimeoutMs' | 'stringify' | 'processMetrics'>;
}

/** Creates every service of one server from the loaded config. Nothing is started and nothing listens yet. */
export async function wireServices({
  config: cfgService,
  attachBus,
  dataDir,
  env,
  clock,
  logger,
  address,
  ready,
  cleanups,
  options: { connector: givenConnector, mcp, shutdownTimeoutMs = 4_000, stringify, processMetrics = true },
}: WireOptions): Promise<ServerServices> {
  const child = childLogger(logger);
  const initial = cfgService.snapshot();

  const eventBus = createEventBus({
    clock,
    replayBuffer: initial.events.replay_buffer,
    onListenerError: (error, event) =>
      logger.error('event listener failed', { type: event.type, seq: event.seq, error: String(error) }),
  });
  attachBus(eventBus);
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

  // Opened here, after serve() took the data-dir lock: only one process ever writes activity.db.
  const activity = createServerActivity({
    dataDir,
    config: cfgService,
    bus: eventBus,
    clock,
    logger: child('activity'),
  });
  cleanups.push(() => activity.close());

  const scanner = createToolScanService({
    config: cfgService,
    bus: eventBus,
    overrides: approvals,
    clock,
    logger: child('scanner'),
  });
  cleanups.push(() => scanner.close());

  const connector = givenConnector ?? createConnector({ env, clock, logger: child('upstream') });
  const supervisor = createSupervisor({
    config: cfgService,
    bus: eventBus,
    connector,
    clock,
    logger: child('actor'),
    approvals: approvals as ApprovalsStore,
    assess: scanner.assess,
  });
  scanner.attach(supervisor);
  // Prompt pins of /mcp/servers/{name}, kept in the same approvals file as the tool pins.
  const prompts = new PromptPins(approvals);
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
    onToolCall: activity.toolCall,
    onAction: activity.action,
  });
  cleanups.push(() => management.close());

  const security = createSecurity({
    address,
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
    scanner: () => scanner.stats(),
    activity: activity.log ? () => activity.log?.metrics() : undefined,
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
    scanner,
    prompts,
    activity,
  });
  cleanups.push(() => mcpEndpoints.close());

  const app = createHttpApp({
    management,
    view,
    bus: eventBus,
    broadcaster,
    config: cfgService,
    security,
    metrics,
    logger: child('http'),
    ready,
    version: VERSION,
    scanner,
    prompts,
    activity: activity.log,
    mcp: mcp ?? ((a) => void a.route('/', mcpEndpoints.routes)),
  });

  return {
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
    activity,
    mcp: mcpEndpoints,
    app,
    logger,
  };
}
