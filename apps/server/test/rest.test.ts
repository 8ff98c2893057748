import { writeFileSync } from 'node:fs';
import {
  BulkResultSchema,
  DiagnosticSchema,
  ProblemSchema,
  ServerHealthSchema,
  ServerSummarySchema,
  ServersResponseSchema,
  StatusResponseSchema,
  ToolInfoSchema,
  ToolSearchHitSchema,
  UpstreamError,
} from '@mcpproxy/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ApiResponse,
  everything,
  never,
  scriptedConnector,
  startServer,
  type TestServer,
  waitForState,
  writeConfig,
} from './helpers.js';

/** Asserts an RFC 9457 problem with a documented code (docs/rest.md), the request id, and the status of the code. */
function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const problem = ProblemSchema.parse(res.body);
  expect(problem.code).toBe(code);
  expect(problem.status).toBe(status);
  expect(problem.request_id).toBe(res.headers.get('x-request-id'));
  expect(problem.request_id).toBeTruthy();
}

describe('REST API against a real server with a real upstream (server-everything over stdio)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({
      env: process.env,
      config: { mcpServers: [everything('everything', { groups: ['demo'] })] },
    });
    await waitForState(s.view, 'everything', 'ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('GET /api/v1/status answers the app state, listen address and server counts', async () => {
    const res = await s.api('/api/v1/status');
    expect(res.status).toBe(200);
    const status = StatusResponseSchema.parse(res.body);
    expect(status.app.state).toBe('running');
    expect(status.servers.total).toBe(1);
    expect(status.servers.ready).toBe(1);
    expect(status.epoch).toBe(s.bus.epoch);
  });

  it('GET /api/v1/servers answers the cached serialisation byte for byte, with an ETag', async () => {
    const res = await s.api('/api/v1/servers');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.text).toBe(s.view.serializedServers());
    const body = ServersResponseSchema.parse(res.body);
    expect(body.servers.map((r) => r.name)).toEqual(['everything']);
    const etag = res.headers.get('etag');
    expect(etag).toMatch(/^W\/"/);
    const again = await s.api('/api/v1/servers', { headers: { 'if-none-match': etag as string } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('GET /api/v1/servers/{name} answers the summary and the config entry, 404 for an unknown name', async () => {
    const res = await s.api('/api/v1/servers/everything');
    expect(res.status).toBe(200);
    expect(ServerSummarySchema.parse(res.body.summary).state).toBe('ready');
    expect(res.body.config.command).toBe(process.execPath);
    expectProblem(await s.api('/api/v1/servers/nope'), 404, 'NOT_FOUND');
  });

  it('GET /api/v1/servers/{name}/tools lists tools with hashes and approval; 404 for an unknown server', async () => {
    const res = await s.api('/api/v1/servers/everything/tools');
    expect(res.status).toBe(200);
    const tools = z.array(ToolInfoSchema).parse(res.body.tools);
    expect(tools.map((t) => t.name)).toContain('echo');
    expect(tools.every((t) => t.approval === 'approved' && /^[0-9a-f]{64}$/.test(t.hash))).toBe(true);
    expectProblem(await s.api('/api/v1/servers/nope/tools'), 404, 'NOT_FOUND');
  });

  it('GET /api/v1/servers/{name}/health answers the health; 404 for an unknown server', async () => {
    const res = await s.api('/api/v1/servers/everything/health');
    expect(res.status).toBe(200);
    const health = ServerHealthSchema.parse(res.body);
    expect(health.healthy).toBe(true);
    expect(health.state).toBe('ready');
    expectProblem(await s.api('/api/v1/servers/nope/health'), 404, 'NOT_FOUND');
  });

  it('GET /api/v1/diagnostics answers a list of findings', async () => {
    const res = await s.api('/api/v1/diagnostics');
    expect(res.status).toBe(200);
    z.array(DiagnosticSchema).parse(res.body.diagnostics);
  });

  it('GET /api/v1/tools?q= finds callable tools; a blank query finds nothing; a bad limit is 400', async () => {
    const res = await s.api('/api/v1/tools?q=echo&limit=3');
    expect(res.status).toBe(200);
    const hits = z.array(ToolSearchHitSchema).parse(res.body.tools);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.length).toBeLessThanOrEqual(3);
    expect(hits[0]?.name).toBe('everything:echo');
    expect((await s.api('/api/v1/tools?q=')).body).toEqual({ tools: [] });
    expectProblem(await s.api('/api/v1/tools?q=echo&limit=0'), 400, 'BAD_REQUEST');
    expectProblem(await s.api('/api/v1/tools?q=echo&limit=abc'), 400, 'BAD_REQUEST');
  });

  it('POST /api/v1/tools/call calls the upstream tool; 400 for a bad name; 404 for an unknown server or tool', async () => {
    const res = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'everything:echo', arguments: { message: 'hello' } },
    });
    expect(res.status).toBe(200);
    expect(res.body.content[0].text).toContain('hello');
    const bad = await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'no-colon', arguments: {} } });
    expectProblem(bad, 400, 'BAD_REQUEST');
    expect(bad.body.issues[0].path).toBe('name');
    expectProblem(
      await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'nope:echo', arguments: {} } }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'everything:no_such_tool', arguments: {} } }),
      404,
      'NOT_FOUND',
    );
  });

  it('POST /api/v1/servers adds a server (201, quarantined by default); 409 on a taken name; 400 on a bad entry', async () => {
    const added = await s.api('/api/v1/servers', {
      method: 'POST',
      json: { name: 'added', command: process.execPath, args: ['-e', ''], groups: ['extra'] },
    });
    expect(added.status, added.text).toBe(201);
    const summary = ServerSummarySchema.parse(added.body);
    expect(summary.name).toBe('added');
    expect(summary.quarantined).toBe(true);
    expect(summary.state).toBe('quarantined');

    expectProblem(
      await s.api('/api/v1/servers', { method: 'POST', json: { name: 'added', command: 'x' } }),
      409,
      'CONFLICT',
    );
    const invalid = await s.api('/api/v1/servers', { method: 'POST', json: { name: 'bad:name', command: 'x' } });
    expectProblem(invalid, 400, 'BAD_REQUEST');
    expect(invalid.body.issues.map((i: { path: string }) => i.path)).toContain('name');
    expectProblem(await s.api('/api/v1/servers', { method: 'POST', json: { name: 'nocommand' } }), 400, 'BAD_REQUEST');
    expectProblem(
      await s.api('/api/v1/servers', { method: 'POST', json: { name: 'typo', command: 'x', enabeld: true } }),
      400,
      'BAD_REQUEST',
    );
  });

  it('answers 400 for malformed JSON and 413 for a body over 4 MiB', async () => {
    const malformed = await s.api('/api/v1/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    expectProblem(malformed, 400, 'BAD_REQUEST');
    const huge = await s.api('/api/v1/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"name":"big","command":"x","args":["${'a'.repeat(4 * 1024 * 1024)}"]}`,
    });
    expectProblem(huge, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('PATCH /api/v1/servers/{name} changes fields; 400 for a rename; 404 unknown; 422 when the result is invalid', async () => {
    const res = await s.api('/api/v1/servers/added', { method: 'PATCH', json: { groups: ['one', 'two'] } });
    expect(res.status, res.text).toBe(200);
    expect(ServerSummarySchema.parse(res.body).groups).toEqual(['one', 'two']);
    expectProblem(
      await s.api('/api/v1/servers/added', { method: 'PATCH', json: { name: 'renamed' } }),
      400,
      'BAD_REQUEST',
    );
    expectProblem(
      await s.api('/api/v1/servers/added', { method: 'PATCH', json: { enabled: 'yes' } }),
      400,
      'BAD_REQUEST',
    );
    expectProblem(await s.api('/api/v1/servers/nope', { method: 'PATCH', json: { groups: [] } }), 404, 'NOT_FOUND');
    const invalid = await s.api('/api/v1/servers/added', { method: 'PATCH', json: { protocol: 'sse' } });
    expectProblem(invalid, 422, 'INVALID_CONFIG');
    expect(invalid.body.issues.length).toBeGreaterThan(0);
  });

  it('POST /api/v1/servers/{name}/quarantine|unquarantine|disable|enable|restart change a server; 404 unknown; 409 when not allowed', async () => {
    // `added` runs `node -e ""`, which exits at once: what matters here is the answer of each operation.
    const restartQuarantined = await s.api('/api/v1/servers/added/restart', { method: 'POST' });
    expectProblem(restartQuarantined, 409, 'CONFLICT');

    const unq = await s.api('/api/v1/servers/added/unquarantine', { method: 'POST' });
    expect(unq.status, unq.text).toBe(200);
    expect(ServerSummarySchema.parse(unq.body).quarantined).toBe(false);

    const disabled = await s.api('/api/v1/servers/added/disable', { method: 'POST' });
    expect(disabled.status, disabled.text).toBe(200);
    expect(ServerSummarySchema.parse(disabled.body).enabled).toBe(false);
    expectProblem(await s.api('/api/v1/servers/added/restart', { method: 'POST' }), 409, 'CONFLICT');

    const enabled = await s.api('/api/v1/servers/added/enable', { method: 'POST' });
    expect(enabled.status, enabled.text).toBe(200);
    expect(ServerSummarySchema.parse(enabled.body).enabled).toBe(true);

    const q = await s.api('/api/v1/servers/added/quarantine', { method: 'POST' });
    expect(q.status, q.text).toBe(200);
    expect(ServerSummarySchema.parse(q.body).quarantined).toBe(true);

    const restarted = await s.api('/api/v1/servers/everything/restart', { method: 'POST' });
    expect(restarted.status, restarted.text).toBe(200);
    ServerSummarySchema.parse(restarted.body);
    await waitForState(s.view, 'everything', 'ready');

    for (const action of ['enable', 'disable', 'restart', 'quarantine', 'unquarantine']) {
      expectProblem(await s.api(`/api/v1/servers/nope/${action}`, { method: 'POST' }), 404, 'NOT_FOUND');
    }
  });

  it('POST /api/v1/servers/enable_all|disable_all|restart_all answer per-server results; 400 for a bad body', async () => {
    const dis = await s.api('/api/v1/servers/disable_all', { method: 'POST', json: { group: 'one' } });
    expect(dis.status, dis.text).toBe(200);
    const result = BulkResultSchema.parse(dis.body);
    expect(result.total).toBe(1);
    expect(Object.keys(result.results)).toEqual(['added']);

    const en = await s.api('/api/v1/servers/enable_all', { method: 'POST', json: { group: 'one' } });
    expect(en.status, en.text).toBe(200);
    expect(BulkResultSchema.parse(en.body).total).toBe(1);

    const rs = await s.api('/api/v1/servers/restart_all', { method: 'POST', json: { group: 'demo' } });
    expect(rs.status, rs.text).toBe(200);
    expect(BulkResultSchema.parse(rs.body).results.everything?.ok).toBe(true);
    await waitForState(s.view, 'everything', 'ready');

    const noBody = await s.api('/api/v1/servers/enable_all', { method: 'POST' });
    expect(noBody.status, noBody.text).toBe(200);
    expect(BulkResultSchema.parse(noBody.body).total).toBe(2);

    expectProblem(
      await s.api('/api/v1/servers/enable_all', { method: 'POST', json: { group: 7 } }),
      400,
      'BAD_REQUEST',
    );
    expectProblem(
      await s.api('/api/v1/servers/disable_all', { method: 'POST', json: { groups: ['x'] } }),
      400,
      'BAD_REQUEST',
    );
  });

  it('POST /api/v1/servers/{name}/tools/approve approves; 404 for an unknown server or tool; 400 for a bad body', async () => {
    const res = await s.api('/api/v1/servers/everything/tools/approve', { method: 'POST', json: {} });
    expect(res.status, res.text).toBe(200);
    expect(res.body.approved).toEqual([]);
    expectProblem(await s.api('/api/v1/servers/nope/tools/approve', { method: 'POST', json: {} }), 404, 'NOT_FOUND');
    expectProblem(
      await s.api('/api/v1/servers/everything/tools/approve', { method: 'POST', json: { tools: ['no_such_tool'] } }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await s.api('/api/v1/servers/everything/tools/approve', { method: 'POST', json: { tools: 'echo' } }),
      400,
      'BAD_REQUEST',
    );
  });

  it('DELETE /api/v1/servers/{name} removes a server (204), then 404', async () => {
    const res = await s.api('/api/v1/servers/added', { method: 'DELETE' });
    expect(res.status, res.text).toBe(204);
    expect(s.view.server('added')).toBeUndefined();
    expectProblem(await s.api('/api/v1/servers/added', { method: 'DELETE' }), 404, 'NOT_FOUND');
  });

  it('GET /api/v1/config answers the effective config; POST /config/validate reports issues without applying', async () => {
    const cfg = await s.api('/api/v1/config');
    expect(cfg.status).toBe(200);
    expect(cfg.body.listen).toBe('127.0.0.1:0');
    expect(cfg.body.mcpServers.map((x: { name: string }) => x.name)).toEqual(['everything']);

    const ok = await s.api('/api/v1/config/validate', { method: 'POST', json: { tools_limit: 20 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, issues: [] });
    const bad = await s.api('/api/v1/config/validate', {
      method: 'POST',
      json: { tools_limit: 500, mcpServers: [{ name: 'a:b', command: 'x' }] },
    });
    expect(bad.status).toBe(200);
    expect(bad.body.ok).toBe(false);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['mcpServers[0].name', 'tools_limit']);
    expectProblem(
      await s.api('/api/v1/config/validate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'nope',
      }),
      400,
      'BAD_REQUEST',
    );
  });

  it('GET /api/v1/openapi.json is generated from the routes and documents every route', async () => {
    const res = await s.api('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths);
    for (const p of [
      '/status',
      '/servers',
      '/servers/{name}',
      '/servers/{name}/enable',
      '/servers/{name}/disable',
      '/servers/{name}/restart',
      '/servers/{name}/quarantine',
      '/servers/{name}/unquarantine',
      '/servers/enable_all',
      '/servers/disable_all',
      '/servers/restart_all',
      '/servers/{name}/tools',
      '/servers/{name}/tools/approve',
      '/servers/{name}/health',
      '/diagnostics',
      '/tools',
      '/tools/call',
      '/config',
      '/config/validate',
      '/config/reload',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(Object.keys(res.body.paths['/servers/{name}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(res.body.components.schemas.ServerSummary).toBeDefined();
    expect(res.body.paths['/servers'].post.responses['201']).toBeDefined();
  });

  it('answers 404 problem+json for an unknown route, with a request id; echoes a sane X-Request-Id', async () => {
    expectProblem(await s.api('/api/v1/nothing'), 404, 'NOT_FOUND');
    const echoed = await s.api('/api/v1/status', { headers: { 'x-request-id': 'trace-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
    const replaced = await s.api('/api/v1/status', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves /healthz, /readyz, /metrics, and redirects / to /ui/', async () => {
    expect((await s.api('/healthz')).status).toBe(200);
    const ready = await s.api('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true, state: 'running' });
    const metrics = await s.api('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('mcpproxy_servers{state="ready"} 1');
    const root = await s.api('/', { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const ui = await s.api('/ui/');
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
  });
});

describe('REST API: gates, reload and the API key', () => {
  it('refuses writes with READ_ONLY / MANAGEMENT_DISABLED (403) after a reload, and 422 for an invalid file', async () => {
    await using s = await startServer({
      connector: scriptedConnector({}),
      config: { mcpServers: [{ name: 'one', command: 'scripted' }] },
    });
    await waitForState(s.view, 'one', 'ready');

    writeConfig(s.configPath, {
      listen: '127.0.0.1:0',
      read_only_mode: true,
      mcpServers: [{ name: 'one', command: 'scripted' }],
    });
    const reloaded = await s.api('/api/v1/config/reload', { method: 'POST' });
    expect(reloaded.status, reloaded.text).toBe(200);
    expect(reloaded.body.config.read_only_mode).toBe(true);
    expectProblem(await s.api('/api/v1/servers/one/disable', { method: 'POST' }), 403, 'READ_ONLY');
    expectProblem(
      await s.api('/api/v1/servers', { method: 'POST', json: { name: 'two', command: 'scripted' } }),
      403,
      'READ_ONLY',
    );

    writeConfig(s.configPath, {
      listen: '127.0.0.1:0',
      disable_management: true,
      mcpServers: [{ name: 'one', command: 'scripted' }],
    });
    expect((await s.api('/api/v1/config/reload', { method: 'POST' })).status).toBe(200);
    expectProblem(await s.api('/api/v1/servers/one', { method: 'DELETE' }), 403, 'MANAGEMENT_DISABLED');
    expectProblem(await s.api('/api/v1/servers/enable_all', { method: 'POST', json: {} }), 403, 'MANAGEMENT_DISABLED');

    writeFileSync(s.configPath, '{"listen": "127.0.0.1:0", "tools_limit": 1000}');
    const invalid = await s.api('/api/v1/config/reload', { method: 'POST' });
    expectProblem(invalid, 422, 'INVALID_CONFIG');
    expect(invalid.body.issues[0].path).toBe('tools_limit');
    // The last good config stays.
    expect((await s.api('/api/v1/config')).body.disable_management).toBe(true);
  });

  it('requires the API key on REST, SSE and /metrics (401) but not on /healthz and /readyz', async () => {
    await using s = await startServer({ connector: scriptedConnector({}), config: { api_key: 'k3y-for-tests' } });
    for (const path of [
      '/api/v1/servers',
      '/api/v1/status',
      '/api/v1/openapi.json',
      '/events',
      '/api/v1/events',
      '/metrics',
      '/mcp',
    ]) {
      const res = await s.api(path, { key: false });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    expectProblem(await s.api('/api/v1/servers', { key: 'wrong' }), 401, 'UNAUTHORIZED');
    expect((await s.api('/api/v1/servers', { key: 'k3y-for-tests' })).status).toBe(200);
    expect((await s.api('/api/v1/servers', { key: false, headers: { 'x-api-key': 'k3y-for-tests' } })).status).toBe(
      200,
    );
    expect((await s.api('/api/v1/servers?apikey=k3y-for-tests', { key: false })).status).toBe(200);
    expect((await s.api('/metrics', { key: 'k3y-for-tests' })).status).toBe(200);
    expect((await s.api('/healthz', { key: false })).status).toBe(200);
    expect((await s.api('/readyz', { key: false })).status).toBe(200);
  });

  it('a feature that is off removes its routes (404): web UI, metrics, health checks, search', async () => {
    await using s = await startServer({
      connector: scriptedConnector({}),
      config: {
        features: {
          enable_observability: false,
          enable_health_checks: false,
          enable_metrics: false,
          enable_web_ui: false,
          enable_search: false,
        },
      },
    });
    for (const path of ['/', '/ui/', '/metrics', '/healthz', '/readyz', '/api/v1/tools?q=echo']) {
      expectProblem(await s.api(path, { redirect: 'manual' }), 404, 'NOT_FOUND');
    }
    expect((await s.api('/api/v1/servers')).status).toBe(200);
  });
});

describe('REST API: upstream failures map to the documented codes (scripted upstreams)', () => {
  let s: TestServer;
  let failNext = true;
  beforeAll(async () => {
    s = await startServer({
      connector: scriptedConnector({
        flaky: {
          call: async () => {
            if (failNext) throw new UpstreamError('CALL_FAILED', 'boom');
            return { content: [{ type: 'text', text: 'ok' }] };
          },
        },
        slow: { call: () => never() },
        down: { connect: 'fail' },
      }),
      config: {
        call_tool_timeout: '300ms',
        circuit_breaker: { failure_threshold: 2, reset_timeout: '10m' },
        retry: { initial_delay: '10m', max_delay: '10m' },
        mcpServers: [
          { name: 'flaky', command: 'scripted' },
          { name: 'slow', command: 'scripted' },
          { name: 'down', command: 'scripted' },
        ],
      },
    });
    await Promise.all([
      waitForState(s.view, 'flaky', 'ready'),
      waitForState(s.view, 'slow', 'ready'),
      waitForState(s.view, 'down', 'error'),
    ]);
  });
  afterAll(async () => {
    await s?.close();
  });

  const call = (name: string) => s.api('/api/v1/tools/call', { method: 'POST', json: { name, arguments: {} } });

  it('a failing upstream call is 503 UPSTREAM_UNAVAILABLE, then CIRCUIT_OPEN (503) once the breaker opens', async () => {
    failNext = true;
    expectProblem(await call('flaky:echo'), 503, 'UPSTREAM_UNAVAILABLE');
    expectProblem(await call('flaky:echo'), 503, 'UPSTREAM_UNAVAILABLE');
    expect(s.view.server('flaky')?.circuit).toBe('open');
    failNext = false;
    expectProblem(await call('flaky:echo'), 503, 'CIRCUIT_OPEN');
  });

  it('a call past call_tool_timeout is 504 UPSTREAM_TIMEOUT', async () => {
    expectProblem(await call('slow:echo'), 504, 'UPSTREAM_TIMEOUT');
  });

  it('a call to a server that is not ready is 503 UPSTREAM_UNAVAILABLE', async () => {
    expectProblem(await call('down:echo'), 503, 'UPSTREAM_UNAVAILABLE');
  });
});
