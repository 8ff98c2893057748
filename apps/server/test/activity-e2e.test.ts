import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES, ServeError, serve } from '../src/index.js';
import { everything, fixture, startServer, type TestServer, tempDir, writeConfig } from './helpers.js';

// The activity log wired into a real server with real upstreams (server-everything over stdio, and a fixture
// answering 10 MB): every surface's calls are recorded with their fields, secrets never reach the disk in clear,
// reads filter, page and count right, bad input answers 400 with the field, and records survive a restart.

const SECRET = 'sk-live-7f3c9a1e5b2d4f60';

async function mcpClient(url: string, path: string, name: string) {
  const client = new Client({ name, version: '9.8.7' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(url + path));
  await client.connect(transport);
  return { client, session: transport.sessionId, close: () => client.close() };
}

async function flushed(s: TestServer): Promise<void> {
  await s.running.services.activity.log?.flush();
}

async function waitReady(s: TestServer, name: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (s.running.services.supervisor.getActor(name)?.getState().state !== 'ready') {
    if (Date.now() > until) throw new Error(`${name} not ready`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('activity log in the server', () => {
  const dir = tempDir('mcpproxy-activity-');
  let s: TestServer;

  beforeAll(async () => {
    s = await startServer({
      dataDir: dir.path,
      config: {
        mcpServers: [
          everything('everything', { quarantined: false, env: { UPSTREAM_TOKEN: SECRET } }),
          fixture('big', 'big-result-server.mjs', { quarantined: false }),
        ],
      },
    });
    await waitReady(s, 'everything');
    await waitReady(s, 'big');
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    dir.cleanup();
  });

  it('records a call from each surface with its surface, session, client, status, duration, sizes and payloads', async () => {
    const rest = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'everything:echo', arguments: { message: `rest ${SECRET}` } },
    });
    expect(rest.status).toBe(200);
    const cli = await s.api('/api/v1/tools/call', {
      method: 'POST',
      headers: { 'x-mcpproxy-client': 'cli' },
      json: { name: 'everything:echo', arguments: { message: 'from the cli' } },
    });
    expect(cli.status).toBe(200);

    const search = await mcpClient(s.url, '/mcp', 'search-agent');
    const all = await mcpClient(s.url, '/mcp/all', 'all-agent');
    const one = await mcpClient(s.url, '/mcp/servers/everything', 'pass-agent');
    try {
      await search.client.callTool({
        name: 'call_tool',
        arguments: { name: 'everything:echo', args: { message: 'via mcp' } },
      });
      await all.client.callTool({ name: 'everything__echo', arguments: { message: 'via all' } });
      await one.client.callTool({ name: 'echo', arguments: { message: 'via passthrough' } });
      await one.client.callTool({ name: 'no-such-tool', arguments: {} });
      await flushed(s);

      const page = await s.api('/api/v1/activity?server=everything&kind=tool_call&limit=100');
      expect(page.status).toBe(200);
      const bySurface = new Map<string, Record<string, unknown>>();
      for (const r of page.body.records) if (r.status === 'ok') bySurface.set(r.surface, r);
      expect([...bySurface.keys()].sort()).toEqual(['cli', 'mcp', 'mcp_all', 'mcp_server', 'rest']);

      const restRow = bySurface.get('rest') as Record<string, unknown>;
      expect(restRow).toMatchObject({ kind: 'tool_call', server: 'everything', tool: 'echo', status: 'ok' });
      expect(restRow.session).toBeNull();
      expect(JSON.parse(String(restRow.arguments))).toEqual({ message: 'rest ***' });
      expect(String(restRow.result)).toContain('rest ***');
      expect(String(restRow.result)).not.toContain(SECRET);
      expect(restRow.request_bytes).toBeGreaterThan(0);
      expect(restRow.response_bytes).toBeGreaterThan(0);
      expect(typeof restRow.duration_ms).toBe('number');

      expect(bySurface.get('mcp')).toMatchObject({
        session: search.session,
        client_name: 'search-agent',
        client_version: '9.8.7',
      });
      expect(bySurface.get('mcp_all')).toMatchObject({ session: all.session, client_name: 'all-agent' });
      expect(bySurface.get('mcp_server')).toMatchObject({ session: one.session, client_name: 'pass-agent' });
      expect(String(bySurface.get('mcp_server')?.result)).toContain('via passthrough');

      const refused = page.body.records.find((r: { tool: string }) => r.tool === 'no-such-tool');
      expect(refused).toMatchObject({ surface: 'mcp_server', status: 'rejected' });
      expect(refused.error_message).toBeTruthy();
    } finally {
      await Promise.all([search.close(), all.close(), one.close()]);
    }
  });

  it('records a failed call with its status and error code', async () => {
    const res = await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'nowhere:echo', arguments: {} } });
    expect(res.status).toBe(404);
    await flushed(s);
    const page = await s.api('/api/v1/activity?server=nowhere');
    expect(page.body.records).toHaveLength(1);
    expect(page.body.records[0]).toMatchObject({ status: 'rejected', error_code: 'NOT_FOUND', surface: 'rest' });
  });

  it('records management actions with who made them, and lifecycle steps from the bus', async () => {
    const res = await s.api('/api/v1/servers/big/disable', { method: 'POST', headers: { 'x-mcpproxy-client': 'cli' } });
    expect(res.status).toBe(200);
    expect((await s.api('/api/v1/servers/big/enable', { method: 'POST' })).status).toBe(200);
    await flushed(s);
    const mgmt = await s.api('/api/v1/activity?kind=management&server=big');
    const actions = mgmt.body.records.map((r: { action: string; actor: string }) => `${r.action}:${r.actor}`);
    expect(actions).toEqual(['enableServer:api', 'disableServer:cli']);
    const life = await s.api('/api/v1/activity?kind=lifecycle&server=big&limit=200');
    const tos = life.body.records.map((r: { detail: string }) => JSON.parse(r.detail).to);
    expect(tos).toContain('disabled');
    expect(tos).toContain('ready');
    await waitReady(s, 'big');
  });

  it('records a config reload with who asked for it', async () => {
    expect((await s.api('/api/v1/config/reload', { method: 'POST' })).status).toBe(200);
    await flushed(s);
    const page = await s.api('/api/v1/activity?kind=management');
    expect(page.body.records[0]).toMatchObject({ action: 'config_reloaded', actor: 'api', status: 'ok' });
  });

  it('records a hand edit of the config file as made by "file"', async () => {
    const reloaded = new Promise<void>((resolve) => {
      const off = s.bus.subscribe('config_reloaded', (e) => {
        if (e.data.source !== 'file') return;
        off();
        resolve();
      });
    });
    const current = JSON.parse(readFileSync(s.configPath, 'utf8')) as Record<string, unknown>;
    writeConfig(s.configPath, { ...current, tools_limit: 7 });
    await reloaded;
    await flushed(s);
    const page = await s.api('/api/v1/activity?kind=management&limit=5');
    expect(page.body.records[0]).toMatchObject({ action: 'config_reloaded', actor: 'file', status: 'ok' });
  });

  it('keeps only max_payload of a 10 MB result, flagged, with the whole size', async () => {
    // 10 MB (decimal): the MCP SDK's stdio reader caps one message at 10 MiB, JSON framing included.
    const res = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'big:big', arguments: { bytes: 10_000_000 } },
    });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    await flushed(s);
    const page = await s.api('/api/v1/activity?server=big&tool=big');
    const row = page.body.records[0];
    expect(row.response_bytes).toBeGreaterThanOrEqual(10_000_000);
    expect(row.result_truncated).toBe(true);
    expect(Buffer.byteLength(row.result)).toBeLessThanOrEqual(16 * 1024);
    const full = await s.api(`/api/v1/activity/${row.id}`);
    expect(full.body.id).toBe(row.id);
    expect(Buffer.byteLength(full.body.result)).toBeLessThanOrEqual(16 * 1024);
  });

  it('a second instance on the same data dir exits 3 before touching activity.db', async () => {
    // serve() itself, so the running instance's config file is left as it is.
    const error = await serve({ dataDir: dir.path, logLevel: 'silent' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).exitCode).toBe(EXIT_CODES.DATA_DIR_LOCKED);
    // The first instance still records and reads.
    expect((await s.api('/api/v1/activity?limit=1')).status).toBe(200);
  });

  it('never writes a secret of the config in clear to the database files', async () => {
    await flushed(s);
    const files = readdirSync(dir.path).filter((f) => f.startsWith('activity.db'));
    expect(files).toContain('activity.db');
    for (const f of files) expect(readFileSync(join(dir.path, f)).includes(SECRET)).toBe(false);
  });

  it('answers malformed filters, ids and cursors with 400 BAD_REQUEST naming the field', async () => {
    const cases: [string, string][] = [
      ['/api/v1/activity?status=great', 'status'],
      ['/api/v1/activity?limit=0', 'limit'],
      ['/api/v1/activity?limit=abc', 'limit'],
      ['/api/v1/activity?since=yesterday-ish', 'since'],
      ['/api/v1/activity?cursor=not-a-cursor', 'cursor'],
      ['/api/v1/activity?bogus=1', 'bogus'],
      ['/api/v1/activity/stats?group_by=planet', 'group_by'],
      ['/api/v1/activity/stats?window=forever', 'window'],
      ['/api/v1/activity/export?format=xml', 'format'],
      ['/api/v1/activity/abc', 'id'],
    ];
    for (const [path, field] of cases) {
      const res = await s.api(path);
      expect(res.status, path).toBe(400);
      expect(res.body.code, path).toBe('BAD_REQUEST');
      expect(res.body.issues?.[0]?.path, path).toBe(field);
    }
    expect((await s.api('/api/v1/activity/999999999')).status).toBe(404);
  });

  it('filters, pages and counts right over a few thousand records', async () => {
    const log = s.running.services.activity.log;
    if (!log) throw new Error('activity log off');
    const now = Date.now();
    const N = 3000;
    for (let i = 0; i < N; i++) {
      log.record({
        server: `bulk${i % 3}`,
        tool: i % 2 === 0 ? 'even' : 'odd',
        surface: 'rest',
        status: i % 10 === 0 ? 'error' : 'ok',
        duration_ms: i % 100,
        time: now - (N - i) * 10,
        arguments: { i },
      });
    }
    await flushed(s);
    // Every record of bulk1 through keyset pages of 97, each once, newest first.
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/activity?server=bulk1&limit=97${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await s.api(q);
      expect(page.status).toBe(200);
      for (const r of page.body.records) seen.push(JSON.parse(r.arguments).i);
      cursor = page.body.next_cursor;
    } while (cursor);
    const expected = [...Array(N).keys()].filter((i) => i % 3 === 1).reverse();
    expect(seen).toEqual(expected);

    const errors = await s.api('/api/v1/activity?server=bulk0&status=error&tool=even&limit=1000');
    expect(errors.body.records.length).toBe([...Array(N).keys()].filter((i) => i % 3 === 0 && i % 10 === 0).length);

    const stats = await s.api('/api/v1/activity/stats?group_by=server&window=1h');
    expect(stats.status).toBe(200);
    const bulk2 = stats.body.groups.find((g: { key: string }) => g.key === 'bulk2');
    expect(bulk2.calls).toBe(1000);
    expect(bulk2.errors).toBe([...Array(N).keys()].filter((i) => i % 3 === 2 && i % 10 === 0).length);
    expect(bulk2.buckets.reduce((n: number, b: { calls: number }) => n + b.calls, 0)).toBe(1000);

    const byTool = await s.api('/api/v1/activity/stats?group_by=tool&window=1h');
    expect(byTool.body.groups.find((g: { key: string }) => g.key === 'bulk0:even').calls).toBe(500);

    const ndjson = await s.api('/api/v1/activity/export?server=bulk0&format=ndjson');
    expect(ndjson.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = ndjson.text.trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[0] as string).server).toBe('bulk0');
    const csv = await s.api('/api/v1/activity/export?server=bulk0&format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text.trim().split('\n')).toHaveLength(1001);
  });

  it('diagnostics flag a server whose recent calls mostly fail, from the log', async () => {
    const log = s.running.services.activity.log;
    if (!log) throw new Error('activity log off');
    for (let i = 0; i < 6; i++) {
      log.record({ server: 'flaky', tool: 't', surface: 'mcp', status: i < 4 ? 'timeout' : 'ok', duration_ms: 5 });
    }
    await flushed(s);
    const res = await s.api('/api/v1/diagnostics');
    expect(res.status).toBe(200);
    const found = res.body.diagnostics.filter((d: { code: string }) => d.code === 'FAILING_CALLS');
    expect(found).toEqual([
      expect.objectContaining({ server: 'flaky', severity: 'warning', message: expect.stringContaining('4 of 6') }),
    ]);
  });

  it('reports recorded, dropped and queue depth on /metrics', async () => {
    const res = await fetch(`${s.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/^mcpproxy_activity_recorded_total \d+/m);
    expect(text).toMatch(/^mcpproxy_activity_dropped_total 0$/m);
    expect(text).toMatch(/^mcpproxy_activity_queue_depth \d+/m);
  });

  it('tools_stat adds the last 24 hours from the log', async () => {
    const c = await mcpClient(s.url, '/mcp', 'stats-agent');
    try {
      const res = await c.client.callTool({ name: 'tools_stat', arguments: {} });
      const body = JSON.parse((res.content as { text: string }[])[0]?.text ?? '{}');
      const echo = body.last_24h.find((g: { key: string }) => g.key === 'everything:echo');
      expect(echo.calls).toBeGreaterThanOrEqual(5);
    } finally {
      await c.close();
    }
  });

  it('keeps its records across a restart (same data dir)', async () => {
    await s.close();
    s = await startServer({ dataDir: dir.path, config: { mcpServers: [] } });
    const page = await s.api('/api/v1/activity?server=everything&tool=echo&surface=rest&limit=100');
    expect(page.status).toBe(400); // `surface` is not a filter: the field is named
    expect(page.body.issues[0].path).toBe('surface');
    const kept = await s.api('/api/v1/activity?server=everything&tool=echo&limit=100');
    expect(kept.body.records.some((r: { surface: string }) => r.surface === 'mcp_all')).toBe(true);
  });
});

describe('activity log off', () => {
  it('answers 404 on /api/v1/activity and creates no database', async () => {
    await using s = await startServer({ config: { activity: { enabled: false } } });
    const res = await s.api('/api/v1/activity');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('NOT_FOUND');
    expect(readdirSync(s.dataDir).some((f) => f.startsWith('activity.db'))).toBe(false);
  });
});
