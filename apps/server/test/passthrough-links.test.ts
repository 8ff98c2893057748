// Bounded upstream links on /mcp/servers/{name} (issue 16 item 3): sessions without client capabilities share the
// actor's connection (no process of their own), a session's own link is opened only when needed, at most
// max_session_links per server (503 beyond), and sessions that never made a request expire quickly.
import { readdirSync, readFileSync } from 'node:fs';
import { createFakeClock, type FakeClock } from '@mcpproxy/contracts';
import { ListRootsRequestSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  EVERYTHING,
  everythingEntry,
  startProxy,
  type TestProxy,
  textOf,
  waitFor,
  waitReady,
} from './fixtures/mcp-harness.js';

const PATH = '/mcp/servers/everything';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const UNUSED_MS = 5_000;
const IDLE_MS = 600_000;

function init(capabilities: Record<string, unknown> = {}) {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw', version: '1.0.0' } },
  };
}

/** Child processes of this test process running server-everything. */
function everythingProcesses(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(EVERYTHING)) {
        out.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe('/mcp/servers/{name}: bounded upstream links', () => {
  let proxy: TestProxy;
  let clock: FakeClock;

  async function post(sid: string | undefined, body: unknown): Promise<{ status: number; text: string; sid: string }> {
    const res = await fetch(proxy.url + PATH, {
      method: 'POST',
      headers: { ...HEADERS, ...(sid ? { 'mcp-session-id': sid } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text(), sid: res.headers.get('mcp-session-id') ?? '' };
  }

  async function rawSession(capabilities: Record<string, unknown> = {}): Promise<string> {
    const res = await post(undefined, init(capabilities));
    expect(res.status).toBe(200);
    expect(res.sid).toBeTruthy();
    expect((await post(res.sid, { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    return res.sid;
  }

  /** Opens the session's standalone GET stream (a connected client); returns what closes it. */
  async function openStream(sid: string): Promise<() => void> {
    const abort = new AbortController();
    const res = await fetch(proxy.url + PATH, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    return () => abort.abort();
  }

  const del = (sid: string) => fetch(proxy.url + PATH, { method: 'DELETE', headers: { 'mcp-session-id': sid } });

  beforeAll(async () => {
    clock = createFakeClock();
    proxy = await startProxy({
      config: { max_session_links: 2, mcpServers: [everythingEntry()] },
      endpoints: { clock, sessionIdleMs: IDLE_MS, sessionUnusedMs: UNUSED_MS },
    });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('starts no upstream process for 50 initializes without capabilities, and answers them from the shared connection', async () => {
    const before = everythingProcesses();
    expect(before).toHaveLength(1); // the actor's own
    const sids: string[] = [];
    for (let i = 0; i < 50; i++) sids.push(await rawSession());
    const tools = await post(sids[49], { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(tools.status).toBe(200);
    expect(tools.text).toContain('"echo"');
    const echo = await post(sids[0], {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'shared' } },
    });
    expect(echo.text).toContain('Echo: shared');
    expect(everythingProcesses()).toEqual(before);
    expect(proxy.endpoints.stats().links.held).toBe(0);
    for (const sid of sids) await del(sid);
  });

  it('gives capability-declaring sessions their own link up to max_session_links, and 503 beyond it', async () => {
    const before = everythingProcesses();
    const a = await rawSession({ roots: { listChanged: true } });
    const b = await rawSession({ sampling: {} });
    expect(everythingProcesses()).toHaveLength(before.length + 2);
    expect(proxy.endpoints.stats().links.held).toBe(2);
    // Both clients are connected (each holds its standalone stream open): nothing can make room.
    const streams = await Promise.all([openStream(a), openStream(b)]);
    const refused = await post(undefined, init({ elicitation: {} }));
    expect(refused.status).toBe(503);
    const error = (JSON.parse(refused.text) as { error: { message: string } }).error;
    expect(error.message).toMatch(/^UPSTREAM_UNAVAILABLE: .*max_session_links/);
    // A session without capabilities is still welcome: it shares.
    const shared = await rawSession();
    expect((await post(shared, { jsonrpc: '2.0', id: 2, method: 'ping' })).status).toBe(200);
    expect(everythingProcesses()).toHaveLength(before.length + 2);
    // Ending a session frees its slot and its process.
    streams[0]?.();
    expect((await del(a)).status).toBe(200);
    await waitFor(() => everythingProcesses().length === before.length + 1, 'the link process to end');
    const c = await rawSession({ elicitation: {} });
    expect(proxy.endpoints.stats().links.held).toBe(2);
    streams[1]?.();
    for (const sid of [b, c, shared]) await del(sid);
    await waitFor(() => everythingProcesses().length === before.length, 'every link process to end');
    expect(proxy.endpoints.stats().links.held).toBe(0);
  });

  it('makes room by evicting an idle link holder (a client gone without DELETE) rather than refusing', async () => {
    const { evicted } = proxy.endpoints.stats().links;
    const gone = [await rawSession({ roots: {} }), await rawSession({ roots: {} })];
    const fresh = await rawSession({ sampling: {} });
    expect(proxy.endpoints.stats().links).toMatchObject({ held: 2, evicted: evicted + 1 });
    const alive = [];
    for (const sid of gone) alive.push((await post(sid, { jsonrpc: '2.0', id: 2, method: 'ping' })).status);
    expect(alive.sort()).toEqual([200, 404]);
    for (const sid of [...gone, fresh]) await del(sid);
    await waitFor(() => proxy.endpoints.stats().links.held === 0, 'the slots to be free');
  });

  it('opens a link lazily when a shared session subscribes to a resource, and refuses it with the cap reached', async () => {
    const before = everythingProcesses();
    const c = await connectClient(proxy.url, PATH);
    try {
      expect((await c.client.listTools()).tools.length).toBeGreaterThan(0);
      expect(everythingProcesses()).toEqual(before);
      const uri = (await c.client.listResources()).resources[0]?.uri as string;
      const updated = new Promise<string>((resolve) =>
        c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
      );
      expect(await c.client.subscribeResource({ uri })).toEqual({});
      expect(everythingProcesses()).toHaveLength(before.length + 1);
      await c.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      expect(await updated).toBe(uri);

      // With both slots held, another shared session's subscribe is refused; its other requests still work.
      const holder = await rawSession({ roots: {} });
      const closeStream = await openStream(holder);
      const d = await connectClient(proxy.url, PATH);
      try {
        await expect(d.client.subscribeResource({ uri })).rejects.toThrow(/UPSTREAM_UNAVAILABLE: .*max_session_links/);
        expect(textOf(await d.client.callTool({ name: 'echo', arguments: { message: 'still' } }))).toBe('Echo: still');
      } finally {
        closeStream();
        await d.close();
        await del(holder);
      }
    } finally {
      await c.close();
    }
    await waitFor(() => everythingProcesses().length === before.length, 'the link processes to end');
  });

  it('expires sessions that never made a request after UNUSED_MS, their links with them; used ones stay', async () => {
    const base = proxy.endpoints.stats().servers.expired;
    const before = everythingProcesses();
    const unused = await rawSession();
    const unusedLink = await rawSession({ roots: {} });
    const used = await rawSession();
    expect((await post(used, { jsonrpc: '2.0', id: 2, method: 'ping' })).status).toBe(200);
    expect(everythingProcesses()).toHaveLength(before.length + 1);
    await clock.advanceAsync(UNUSED_MS + UNUSED_MS / 2);
    await waitFor(() => proxy.endpoints.stats().servers.expired === base + 2, 'two expiries');
    expect((await post(unused, { jsonrpc: '2.0', id: 3, method: 'ping' })).status).toBe(404);
    expect((await post(unusedLink, { jsonrpc: '2.0', id: 3, method: 'ping' })).status).toBe(404);
    expect((await post(used, { jsonrpc: '2.0', id: 3, method: 'ping' })).status).toBe(200);
    await waitFor(() => everythingProcesses().length === before.length, 'the unused link process to end');
    expect(proxy.endpoints.stats().links.held).toBe(0);
    await del(used);
  });

  it('passes server-to-client requests to a capability-declaring client on its own link (roots)', async () => {
    const c = await connectClient(proxy.url, PATH, { options: { capabilities: { roots: { listChanged: true } } } });
    let asked = false;
    c.client.setRequestHandler(ListRootsRequestSchema, () => {
      asked = true;
      return { roots: [{ uri: 'file:///tmp', name: 'tmp' }] };
    });
    try {
      await waitFor(() => asked, 'server-everything to ask for roots');
      expect(proxy.endpoints.stats().links.held).toBe(1);
    } finally {
      await c.close();
    }
  });
});
