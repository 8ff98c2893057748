import { OpenAPIHono } from '@hono/zod-openapi';
import { createFakeClock, type FakeClock } from '@mcpproxy/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  everythingEntry,
  nextEvent,
  startProxy,
  type TestProxy,
  waitFor,
  waitReady,
} from './fixtures/mcp-harness.js';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('MCP sessions: ids, DELETE, idle expiry, bounds, cancellation', () => {
  let proxy: TestProxy;
  let clock: FakeClock;
  const IDLE_MS = 10_000;

  /** Opens a session with plain fetch (no standalone GET stream, so it can go idle). */
  async function rawSession(path: string): Promise<string> {
    const res = await fetch(proxy.url + path, { method: 'POST', headers: HEADERS, body: JSON.stringify(INIT) });
    expect(res.status).toBe(200);
    const sid = res.headers.get('mcp-session-id');
    await res.text();
    expect(sid).toBeTruthy();
    const ack = await post(path, sid as string, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(ack).toBe(202);
    return sid as string;
  }

  async function post(path: string, sid: string | undefined, body: unknown): Promise<number> {
    const res = await fetch(proxy.url + path, {
      method: 'POST',
      headers: { ...HEADERS, ...(sid ? { 'mcp-session-id': sid } : {}) },
      body: JSON.stringify(body),
    });
    await res.text();
    return res.status;
  }

  const ping = (path: string, sid: string) => post(path, sid, { jsonrpc: '2.0', id: 7, method: 'ping' });

  beforeAll(async () => {
    clock = createFakeClock();
    proxy = await startProxy({
      config: { mcpServers: [everythingEntry()] },
      endpoints: { clock, sessionIdleMs: IDLE_MS, maxSessions: 2 },
    });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('answers 400 to a request without a session id that is not initialize, and 404 to an unknown session', async () => {
    for (const path of ['/mcp', '/mcp/all', '/mcp/servers/everything']) {
      expect(await post(path, undefined, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe(400);
      const get = await fetch(proxy.url + path, { headers: { accept: 'text/event-stream' } });
      expect(get.status).toBe(400);
      await get.text();
      expect(await ping(path, '00000000-0000-0000-0000-000000000000')).toBe(404);
    }
  });

  it('ends a session on DELETE: later requests with its id get 404; ids do not work across endpoints', async () => {
    const sid = await rawSession('/mcp');
    expect(await ping('/mcp', sid)).toBe(200);
    expect(await ping('/mcp/all', sid)).toBe(404);
    const del = await fetch(`${proxy.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    expect(del.status).toBe(200);
    expect(await ping('/mcp', sid)).toBe(404);
    expect(proxy.endpoints.stats().mcp.deleted).toBe(1);
  });

  it('expires a session idle for sessionIdleMs, but not one whose client holds its stream open', async () => {
    const idle = await rawSession('/mcp/all');
    const live = await connectClient(proxy.url, '/mcp/all');
    try {
      await live.client.listTools();
      // The SDK client opens its standalone GET stream right after initialize.
      await waitFor(() => proxy.endpoints.stats().all.sessions === 2, 'two sessions');
      await clock.advanceAsync(IDLE_MS + IDLE_MS / 2);
      await waitFor(() => proxy.endpoints.stats().all.expired === 1, 'one expiry');
      expect(await ping('/mcp/all', idle)).toBe(404);
      expect((await live.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await live.close();
    }
  });

  it('bounds sessions: the least recently active idle one is evicted, and with every session busy a new one gets 503', async () => {
    const first = await rawSession('/mcp/servers/everything');
    await clock.advanceAsync(5);
    const second = await rawSession('/mcp/servers/everything');
    await clock.advanceAsync(5);
    const third = await rawSession('/mcp/servers/everything');
    expect(await ping('/mcp/servers/everything', first)).toBe(404);
    expect(await ping('/mcp/servers/everything', second)).toBe(200);
    expect(proxy.endpoints.stats().servers.evicted).toBe(1);

    // Both remaining sessions hold a standalone stream open: nothing can be evicted.
    const aborts = [new AbortController(), new AbortController()];
    const streams = await Promise.all(
      [second, third].map((sid, i) =>
        fetch(`${proxy.url}/mcp/servers/everything`, {
          headers: { accept: 'text/event-stream', 'mcp-session-id': sid },
          signal: aborts[i]?.signal,
        }),
      ),
    );
    expect(streams.map((s) => s.status)).toEqual([200, 200]);
    const refused = await fetch(`${proxy.url}/mcp/servers/everything`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify(INIT),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    for (const a of aborts) a.abort();
    for (const sid of [second, third]) {
      await fetch(`${proxy.url}/mcp/servers/everything`, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    }
  });

  it('mounts into the app with app.route("/", routes), the way serve() wires it', async () => {
    const app = new OpenAPIHono();
    app.route('/', proxy.endpoints.routes);
    const res = await app.request('/mcp', {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
    const put = await app.request('/mcp/all', { method: 'PUT' });
    expect(put.status).toBe(405);
  });

  it("cancels a session's upstream calls when the session ends", async () => {
    const c = await connectClient(proxy.url, '/mcp');
    const actor = proxy.running.services.supervisor.getActor('everything');
    const done = nextEvent(
      proxy.bus,
      'tool_called',
      (e) => e.server === 'everything' && e.data.tool === 'trigger-long-running-operation',
    );
    const call = c.client
      .callTool({
        name: 'call_tool',
        arguments: { name: 'everything:trigger-long-running-operation', args: { duration: 30, steps: 3 } },
      })
      .catch(() => undefined);
    await waitFor(() => actor?.pendingCalls() === 1, 'the call to be in flight');
    await c.transport.terminateSession();
    const event = await done;
    expect(event.data.status).toBe('error');
    expect(event.data.duration_ms).toBeLessThan(10_000);
    expect(actor?.pendingCalls()).toBe(0);
    await c.client.close();
    void call;
  });
});
