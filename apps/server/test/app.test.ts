import { defaultConfig, type LogFields, type Logger, ProblemSchema } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import type { ManagementService } from '@mcpproxy/management';
import { ManagementError } from '@mcpproxy/management';
import { createStateView, makeSummary } from '@mcpproxy/stateview';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, createSecurity, type HttpAppDeps } from '../src/index.js';

const resources: { close(): void }[] = [];
afterEach(() => {
  for (const r of resources.splice(0)) r.close();
});

/** The app on fakes, without a port: a management service whose operations the test scripts. */
function appWith(management: Partial<ManagementService>, extra: Partial<HttpAppDeps> = {}) {
  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, servers: [makeSummary('alpha')] });
  resources.push(view, bus);
  const errors: { msg: string; fields?: LogFields | undefined }[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (msg, fields) => errors.push({ msg, fields }),
  };
  const config = { ...defaultConfig(), mcpServers: [] };
  const app = createHttpApp({
    management: management as ManagementService,
    view,
    bus,
    broadcaster: { sse: async () => new Response('') },
    config: { snapshot: () => config, reload: async () => config },
    security: createSecurity({ address: () => ({ host: '127.0.0.1', port: 8080 }), apiKey: () => undefined }),
    logger,
    ...extra,
  });
  const request = (path: string, init?: RequestInit) => app.request(`http://127.0.0.1:8080${path}`, init);
  return { app, request, errors, view };
}

describe('createHttpApp (app.request, no port)', () => {
  it('maps an unexpected error to 500 INTERNAL with a generic detail, and logs it with the request id', async () => {
    const { request, errors } = appWith({
      status: () => {
        throw new TypeError('secret internals at line 42');
      },
    });
    const res = await request('/api/v1/status', { headers: { 'x-request-id': 'req-1' } });
    expect(res.status).toBe(500);
    const problem = ProblemSchema.parse(await res.json());
    expect(problem).toMatchObject({ code: 'INTERNAL', detail: 'internal error', request_id: 'req-1' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({ request_id: 'req-1', path: '/api/v1/status' });
  });

  it('passes a ManagementError code through with its issues', async () => {
    const { request } = appWith({
      addServer: async () => {
        throw new ManagementError('INVALID_CONFIG', 'bad entry', {
          issues: [{ path: 'url', rule: 'custom', message: 'is required' }],
        });
      },
    });
    const res = await request('/api/v1/servers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', command: 'y' }),
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ code: 'INVALID_CONFIG', issues: [{ path: 'url' }] });
  });

  it('hands every operation the REST caller with the request id', async () => {
    const seen: unknown[] = [];
    const { request } = appWith({
      disableServer: async (name, caller) => {
        seen.push(caller);
        return makeSummary(name, { enabled: false });
      },
    });
    const res = await request('/api/v1/servers/alpha/disable', { method: 'POST', headers: { 'x-request-id': 'r-9' } });
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ source: 'rest', requestId: 'r-9' }]);
  });

  it('answers /readyz 503 until ready, and GET /api/v1/servers with the view bytes', async () => {
    let ready = false;
    const { request, view } = appWith({}, { ready: () => ready });
    expect((await request('/readyz')).status).toBe(503);
    ready = true;
    expect((await request('/readyz')).status).toBe(200);
    const res = await request('/api/v1/servers');
    expect(await res.text()).toBe(view.serializedServers());
  });

  it('mounts MCP routes behind the same Host, Origin and key checks', async () => {
    const { app } = appWith(
      {},
      {
        security: createSecurity({ address: () => ({ host: '127.0.0.1', port: 8080 }), apiKey: () => 'k' }),
        mcp: (a) => {
          a.post('/mcp', (c) => c.json({ mounted: true }));
        },
      },
    );
    const url = 'http://127.0.0.1:8080/mcp';
    expect((await app.request(url, { method: 'POST' })).status).toBe(401);
    expect((await app.request(url, { method: 'POST', headers: { authorization: 'Bearer k' } })).status).toBe(200);
    expect(
      (await app.request('http://evil.com/mcp', { method: 'POST', headers: { authorization: 'Bearer k' } })).status,
    ).toBe(403);
    expect(
      (
        await app.request(url, {
          method: 'POST',
          headers: { authorization: 'Bearer k', origin: 'http://evil.com' },
        })
      ).status,
    ).toBe(403);
  });
});
