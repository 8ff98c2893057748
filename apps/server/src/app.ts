import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ActivityLog } from '@mcpproxy/activity';
import type { ConfigService } from '@mcpproxy/configsvc';
import {
  type Config,
  type FeaturesConfig,
  type Logger,
  maskServerConfig,
  parseConfig,
  type ServerConfigInput,
  secretValues,
  silentLogger,
  toValidationIssues,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { Caller, ManagementService } from '@mcpproxy/management';
import type { StateView } from '@mcpproxy/stateview';
import type { Broadcaster } from '@mcpproxy/ws-broadcast';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { failingCalls, restSurface } from './activity.js';
import { mountActivityRoutes } from './activity-routes.js';
import { bodySizeLimit, drainUnreadBody, setResponseHeader } from './body.js';
import type { PromptPins } from './mcp/prompt-pins.js';
import type { Metrics } from './metrics.js';
import { ApiError, createErrorHandler, sendProblem, toProblem } from './problems.js';
import {
  addServerRoute,
  approveToolsRoute,
  BULK_ACTIONS,
  bulkRoute,
  callToolRoute,
  deleteServerRoute,
  diagnosticsRoute,
  getConfigRoute,
  getServerRoute,
  listServersRoute,
  patchServerRoute,
  reloadConfigRoute,
  SERVER_ACTIONS,
  type ServerAction,
  searchToolsRoute,
  serverActionRoute,
  serverHealthRoute,
  serverToolsRoute,
  statusRoute,
  validateConfigRoute,
} from './routes.js';
import { maskApiKeyInUrl, type Security } from './security.js';
import { mountSecurityRoutes } from './security-routes.js';
import type { ToolScanService } from './tool-scanner.js';
import { createUiHandler, findWebDist } from './ui.js';

/** Hono env of the app: the request id every handler and log line carries. */
export type AppEnv = { Variables: { requestId: string } };

/** The Hono app `createHttpApp` returns (an `OpenAPIHono`, so later issues can add documented routes). */
export type HttpApp = OpenAPIHono<AppEnv>;

/** Largest request body accepted: 4 MiB; larger gets 413 `PAYLOAD_TOO_LARGE`. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpAppDeps {
  /** The service behind every /api/v1 route. */
  management: ManagementService;
  /** The read model: `GET /servers` answers with its cached serialisation. */
  view: Pick<StateView, 'snapshot' | 'serializedServers'>;
  /** For the `ETag` of `GET /servers` (epoch + version). */
  bus: Pick<EventBus, 'epoch'>;
  /** `GET /events` and `GET /api/v1/events` are its SSE streams. */
  broadcaster: Pick<Broadcaster, 'sse'>;
  /** The effective config (gates, features, keys are read per request) and `POST /config/reload`. */
  config: Pick<ConfigService, 'snapshot' | 'reload'>;
  /** Host, Origin and API-key checks. */
  security: Security;
  /** `/metrics` and the HTTP request series. @default none (no /metrics route) */
  metrics?: Metrics | undefined;
  /** Access log (debug) and unexpected errors (error). @default silentLogger */
  logger?: Logger | undefined;
  /** Whether `/readyz` answers 200: config loaded and the first reconcile done. @default always ready */
  ready?: (() => boolean) | undefined;
  /** Version for the OpenAPI document. @default '0.0.0' */
  version?: string | undefined;
  /**
   * Mount point of the MCP endpoints (`/mcp`, `/mcp/all`, `/mcp/servers/{name}`): called with the app after the
   * Host/Origin/API-key middleware is installed, so every route it adds is protected the same way.
   * @default none (the paths answer 404)
   */
  mcp?: ((app: HttpApp) => void) | undefined;
  /** Request body limit in bytes. @default 4 MiB */
  maxBodyBytes?: number | undefined;
  /**
   * The dashboard's static build served at `/ui/`; `null` serves a placeholder page instead.
   * @default the `dist/` of the installed `@mcpproxy/web` (the placeholder when it is missing)
   */
  webDist?: string | null | undefined;
  /** The tool scanner: findings on tool rows, `GET /security/findings`, `POST /servers/{name}/scan`. @default none */
  scanner?: Pick<ToolScanService, 'annotate' | 'findings' | 'rescan'> | undefined;
  /** Prompt pins of `/mcp/servers/{name}`: `GET /servers/{name}/prompts`, `POST …/prompts/approve`. @default none */
  prompts?: Pick<PromptPins, 'list' | 'approve'> | undefined;
  /** The activity log: `GET /activity*`; without one those routes answer 404. @default none */
  activity?: ActivityLog | undefined;
}

/** Routes open without the API key (probes and the static dashboard shell). */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/', '/ui', '/ui/']);
const isProtected = (path: string): boolean =>
  path.startsWith('/api/') ||
  path === '/events' ||
  path === '/metrics' ||
  path === '/mcp' ||
  path.startsWith('/mcp/') ||
  !(OPEN_PATHS.has(path) || path.startsWith('/ui/'));

/** An `X-Request-Id` we echo; anything else is replaced by a fresh UUID. */
export const REQUEST_ID_RE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

type FeatureKey = keyof FeaturesConfig;

/**
 * Builds the HTTP app: every route of docs/rest.md plus probes, metrics, SSE and the dashboard shell, behind
 * request ids, Host/Origin validation, CORS for `allowed_origins`, the 4 MiB body limit and the API key. Errors
 * from any layer become problem+json in one `onError`. Testable without a port through `app.request()`.
 */
export function createHttpApp(deps: HttpAppDeps): HttpApp {
  const {
    management,
    view,
    bus,
    broadcaster,
    config,
    security,
    metrics,
    logger = silentLogger,
    ready = () => true,
    version = '0.0.0',
    mcp,
    maxBodyBytes = MAX_BODY_BYTES,
    webDist,
    scanner,
    prompts,
    activity,
  } = deps;

  let secretsFrom: Config | undefined;
  let secrets: readonly string[] = [];
  const currentSecrets = (): readonly string[] => {
    const snap = config.snapshot();
    if (snap !== secretsFrom) {
      secretsFrom = snap;
      secrets = secretValues(snap);
    }
    return secrets;
  };

  const app: HttpApp = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError('BAD_REQUEST', `invalid request ${result.target}`, {
          issues: toValidationIssues(result.error),
        });
      }
    },
  });
  const onError = createErrorHandler({ logger, secrets: currentSecrets });
  app.onError((error, c) => {
    // A `{name}` no server has is only request input (a key pasted into the URL, say): its 404 does not echo it.
    const name = c.req.param('name');
    if (
      name !== undefined &&
      toProblem(error).code === 'NOT_FOUND' &&
      !config.snapshot().mcpServers.some((s) => s.name === name)
    ) {
      return onError(new ApiError('NOT_FOUND', 'no server with the name given in the path is configured'), c);
    }
    return onError(error, c);
  });
  // The path is not echoed: its segments are request input, and a key pasted into a URL would come back.
  app.notFound((c) => sendProblem(c, 'NOT_FOUND', 'no route matches this method and path'));

  // Request id, access log and HTTP metrics: outermost, so they see the final status of every response.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID_RE.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
    setResponseHeader(c, 'x-request-id', requestId);
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    // The matched pattern, never the raw path (bounded label values); a request no route matched has only '*'.
    const pattern = routePath(c);
    const route = pattern === '*' || pattern.endsWith('/*') ? 'unmatched' : pattern;
    metrics?.observeHttp(c.req.method, route, status, seconds);
    const fields = {
      request_id: requestId,
      method: c.req.method,
      path: maskApiKeyInUrl(c.req.path),
      status,
      duration_ms: Math.round(seconds * 1e4) / 10,
    };
    if (status >= 500) logger.warn('http request', fields);
    else logger.debug('http request', fields);
  });

  // A body no route read is drained after the answer (or the connection is closed), so keep-alive survives it.
  app.use('*', drainUnreadBody(maxBodyBytes));

  // Host and Origin on every route (DNS rebinding, foreign pages); CORS only for `allowed_origins`.
  app.use('*', async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!security.hostAllowed(host)) {
      return sendProblem(c, 'FORBIDDEN_ORIGIN', 'the Host header does not name this server');
    }
    const origin = c.req.header('origin');
    if (!security.originAllowed(origin)) {
      return sendProblem(c, 'FORBIDDEN_ORIGIN', 'this Origin may not use the API');
    }
    if (origin && security.isCorsOrigin(origin)) {
      c.header('access-control-allow-origin', origin);
      c.header('vary', 'Origin');
      c.header('access-control-expose-headers', 'X-Request-Id, ETag');
      if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
        c.header('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS');
        c.header(
          'access-control-allow-headers',
          'Authorization, Content-Type, X-API-Key, X-Request-Id, Last-Event-ID, Mcp-Session-Id, Mcp-Protocol-Version',
        );
        c.header('access-control-max-age', '600');
        return c.body(null, 204);
      }
    }
    return next();
  });

  app.use(
    '*',
    bodySizeLimit(maxBodyBytes, (c) => {
      // The rest of the body is not read: the client learns that this connection ends here.
      c.header('connection', 'close');
      return sendProblem(c, 'PAYLOAD_TOO_LARGE', `the request body is over ${maxBodyBytes} bytes`);
    }),
  );

  app.use('*', async (c, next) => {
    if (isProtected(c.req.path) && !security.keyAllowed(c.req.raw.headers, c.req.url)) {
      c.header('www-authenticate', 'Bearer realm="mcpproxy"');
      return sendProblem(
        c,
        'UNAUTHORIZED',
        'a valid API key is required (Authorization: Bearer, X-API-Key or ?apikey=)',
      );
    }
    return next();
  });

  /** A feature that is off removes its routes: they answer 404 as if they did not exist (follows hot reloads). */
  const feature =
    (key: FeatureKey): MiddlewareHandler<AppEnv> =>
    async (c, next) => {
      const f = config.snapshot().features;
      if (!f[key] || (key !== 'enable_observability' && isObservabilityChild(key) && !f.enable_observability)) {
        return sendProblem(c, 'NOT_FOUND', `no route: this route is off (features.${key})`);
      }
      return next();
    };

  const caller = (c: Context<AppEnv>): Caller => ({
    source: restSurface(c.req.raw.headers) === 'cli' ? 'cli' : 'rest',
    requestId: c.get('requestId'),
  });

  // ---------------------------------------------------------------- probes, metrics, UI, SSE

  app.get('/healthz', feature('enable_health_checks'), (c) => c.json({ status: 'ok' }, 200));
  app.get('/readyz', feature('enable_health_checks'), (c) => {
    const state = view.snapshot().app.state;
    const ok = ready() && state !== 'stopping';
    return c.json({ ready: ok, state }, ok ? 200 : 503);
  });
  if (metrics) {
    app.get('/metrics', feature('enable_metrics'), async (c) =>
      c.body(await metrics.render(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }),
    );
  }
  const toUi = (c: Context<AppEnv>) => {
    const q = c.req.url.indexOf('?');
    return c.redirect(`/ui/${q >= 0 ? c.req.url.slice(q) : ''}`, 302);
  };
  app.get('/', feature('enable_web_ui'), toUi);
  app.get('/ui', feature('enable_web_ui'), toUi);
  app.get(
    '/ui/*',
    feature('enable_web_ui'),
    createUiHandler({ dist: webDist === undefined ? findWebDist() : (webDist ?? undefined) }),
  );
  app.get('/events', (c) => broadcaster.sse(c.req.raw));
  app.get('/api/v1/events', (c) => broadcaster.sse(c.req.raw));

  // ---------------------------------------------------------------- MCP mount point (next issue)

  mcp?.(app);

  // ---------------------------------------------------------------- /api/v1

  const api = new OpenAPIHono<AppEnv>({ defaultHook: app.defaultHook });

  api.openapi(statusRoute, (c) => c.json(management.status(), 200));

  // The cached serialisation, byte for byte: no JSON.stringify per request, and its UTF-8 bytes are encoded once per
  // version too (a 1,000-server body is ~300 KiB; encoding it on every request would cost more than routing it).
  let encodedFrom: string | undefined;
  let encoded: Uint8Array = new Uint8Array(0);
  api.openapi(listServersRoute, (c) => {
    const etag = `W/"${bus.epoch}-${view.snapshot().version}"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag }) as never;
    const json = view.serializedServers();
    if (json !== encodedFrom) {
      encodedFrom = json;
      encoded = Buffer.from(json, 'utf8');
    }
    return c.body(encoded as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/json',
      'cache-control': 'no-cache',
      etag,
    }) as never;
  });

  api.openapi(addServerRoute, async (c) => {
    c.req.valid('json');
    // Validated above; the service gets the body as sent, without the schema's defaults, so that an entry that says
    // nothing about `quarantined` is quarantined (quarantine_enabled) while an explicit `false` from a person is not.
    const input = (await c.req.json()) as ServerConfigInput;
    return c.json(await management.addServer(input, caller(c)), 201);
  });

  api.openapi(getServerRoute, (c) => {
    const detail = management.getServer(c.req.valid('param').name);
    return c.json({ summary: detail.summary, config: maskServerConfig(detail.config) }, 200);
  });

  api.openapi(patchServerRoute, async (c) => {
    const { name } = c.req.valid('param');
    c.req.valid('json');
    const patch = (await c.req.json()) as Partial<ServerConfigInput>;
    if (patch.name !== undefined && patch.name !== name) {
      throw new ApiError('BAD_REQUEST', 'a server cannot be renamed', {
        issues: [{ path: 'name', rule: 'immutable', message: `must be "${name}" or left out` }],
      });
    }
    const { name: _same, ...fields } = patch;
    return c.json(await management.updateServer(name, fields, caller(c)), 200);
  });

  api.openapi(deleteServerRoute, async (c) => {
    await management.removeServer(c.req.valid('param').name, caller(c));
    return c.body(null, 204);
  });

  const actions: Record<ServerAction, ManagementService['enableServer']> = {
    enable: (n, who) => management.enableServer(n, who),
    disable: (n, who) => management.disableServer(n, who),
    restart: (n, who) => management.restartServer(n, who),
    quarantine: (n, who) => management.quarantineServer(n, who),
    unquarantine: (n, who) => management.unquarantineServer(n, who),
  };
  for (const action of SERVER_ACTIONS) {
    api.openapi(serverActionRoute(action), async (c) =>
      c.json(await actions[action](c.req.valid('param').name, caller(c)), 200),
    );
  }

  const bulk = {
    enable_all: (o: { group?: string | undefined }, who: Caller) => management.enableAll(o, who),
    disable_all: (o: { group?: string | undefined }, who: Caller) => management.disableAll(o, who),
    restart_all: (o: { group?: string | undefined }, who: Caller) => management.restartAll(o, who),
  };
  for (const action of BULK_ACTIONS) {
    api.openapi(bulkRoute(action), async (c) => {
      const body = (c.req.valid('json') as { group?: string } | undefined) ?? {};
      return c.json(await bulk[action]({ group: body.group }, caller(c)), 200);
    });
  }

  api.openapi(serverToolsRoute, (c) => {
    const tools = management.getServerTools(c.req.valid('param').name);
    return c.json({ tools: scanner ? scanner.annotate(tools) : [...tools] }, 200);
  });

  mountSecurityRoutes(api, { scanner, prompts, management, config });
  mountActivityRoutes(api, { log: activity });

  api.openapi(approveToolsRoute, async (c) => {
    const body = (c.req.valid('json') as { tools?: string[] } | undefined) ?? {};
    const approved = await management.approveTools(c.req.valid('param').name, body.tools, caller(c));
    return c.json({ approved }, 200);
  });

  api.openapi(serverHealthRoute, (c) => c.json(management.getServerHealth(c.req.valid('param').name), 200));

  api.openapi(diagnosticsRoute, async (c) => {
    const recent = activity ? await failingCalls(activity, logger) : [];
    return c.json({ diagnostics: [...management.runDiagnostics(), ...recent] }, 200);
  });

  api.use('/tools', feature('enable_search'));
  api.openapi(searchToolsRoute, (c) => {
    const { q = '', limit } = c.req.valid('query');
    const tools = q.trim() ? management.searchTools(q, { limit: limit ?? config.snapshot().tools_limit }) : [];
    return c.json({ tools }, 200);
  });

  api.openapi(callToolRoute, async (c) => {
    const { name, arguments: args } = c.req.valid('json');
    const result = await management.callTool(name, args, {
      signal: c.req.raw.signal,
      origin: { surface: restSurface(c.req.raw.headers) },
    });
    return c.json(result, 200);
  });

  api.openapi(getConfigRoute, (c) => c.json(management.maskedConfig() as unknown as Record<string, unknown>, 200));

  api.openapi(validateConfigRoute, (c) => {
    const parsed = parseConfig(c.req.valid('json'));
    return c.json({ ok: parsed.ok, issues: parsed.ok ? [] : parsed.issues }, 200);
  });

  api.openapi(reloadConfigRoute, async (c) => {
    await config.reload();
    return c.json({ ok: true as const, config: management.maskedConfig() as unknown as Record<string, unknown> }, 200);
  });

  api.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'mcpproxy API',
      version,
      description:
        'REST API of mcpproxy. Errors are RFC 9457 problem+json with a `code`. Authenticate with ' +
        '`Authorization: Bearer KEY`, `X-API-Key: KEY` or `?apikey=KEY` when an api_key is configured.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { apiKeyHeader: [] }, { apiKeyQuery: [] }],
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  api.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyHeader', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyQuery', {
    type: 'apiKey',
    in: 'query',
    name: 'apikey',
  });
  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/events',
    tags: ['live'],
    summary:
      'Server-sent events (alias of /events): hello, then one event per message; `id:` is `EPOCH:SEQ`, so `Last-Event-ID` resumes',
    responses: {
      200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
    },
  });

  app.route('/api/v1', api);
  return app;
}

function isObservabilityChild(key: FeatureKey): boolean {
  return key === 'enable_health_checks' || key === 'enable_metrics' || key === 'enable_tracing';
}
