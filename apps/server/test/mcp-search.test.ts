import { writeFileSync } from 'node:fs';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  everythingEntry,
  nextEvent,
  startProxy,
  type TestProxy,
  textOf,
  waitReady,
} from './fixtures/mcp-harness.js';

const KEY = 'test-key-123';

describe('/mcp search-then-call over Streamable HTTP (server-everything behind the proxy)', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy({ apiKey: KEY, config: { mcpServers: [everythingEntry()] } });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('refuses an MCP client without the API key (401) and one with a foreign Host (403)', async () => {
    const noKey = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(noKey.status).toBe(401);
    const foreign = await fetch(`${proxy.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: 'http://evil.example.com',
        authorization: `Bearer ${KEY}`,
      },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
  });

  it('lists the five tools, each with a description that tells an agent how to use it', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        'call_tool',
        'quarantine_security',
        'retrieve_tools',
        'tools_stat',
        'upstream_servers',
      ]);
      for (const t of tools) expect((t.description ?? '').length).toBeGreaterThan(80);
    } finally {
      await c.close();
    }
  });

  it('retrieve_tools finds everything:echo for "echo a message back" and call_tool returns the echo', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      const found = await c.client.callTool({ name: 'retrieve_tools', arguments: { query: 'echo a message back' } });
      const hits = (found.structuredContent as { tools: { name: string; score: number; inputSchema: unknown }[] })
        .tools;
      expect(hits[0]?.name).toBe('everything:echo');
      expect(hits[0]?.score).toBeGreaterThan(0);
      expect(hits[0]?.inputSchema).toMatchObject({ type: 'object' });
      const called = nextEvent(proxy.bus, 'tool_called', (e) => e.server === 'everything' && e.data.tool === 'echo');
      const result = await c.client.callTool({
        name: 'call_tool',
        arguments: { name: 'everything:echo', args: { message: 'hello proxy' } },
      });
      expect(result.isError).toBeFalsy();
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello proxy' }]);
      expect((await called).data.status).toBe('ok');
    } finally {
      await c.close();
    }
  });

  it('call_tool reports failures as isError results whose message starts with the code', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      const unknown = await c.client.callTool({ name: 'call_tool', arguments: { name: 'nowhere:echo', args: {} } });
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toMatch(/^NOT_FOUND: /);
      const malformed = await c.client.callTool({ name: 'call_tool', arguments: { name: 'no-colon', args: {} } });
      expect(textOf(malformed)).toMatch(/^BAD_REQUEST: /);
    } finally {
      await c.close();
    }
  });

  it('upstream_servers add is quarantined and not callable until a person unquarantines it over REST', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      const entry = everythingEntry('agent-added');
      delete entry.quarantined;
      const added = await c.client.callTool({
        name: 'upstream_servers',
        arguments: { operation: 'add', name: 'agent-added', command: entry.command, args: entry.args },
      });
      expect(added.isError).toBeFalsy();
      const summary = (added.structuredContent as { server: { quarantined: boolean; state: string } }).server;
      expect(summary.quarantined).toBe(true);
      expect(summary.state).toBe('quarantined');

      const refused = await c.client.callTool({
        name: 'call_tool',
        arguments: { name: 'agent-added:echo', args: { message: 'x' } },
      });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^(UPSTREAM_UNAVAILABLE|NOT_FOUND|CONFLICT): /);

      // The agent cannot approve it: no such operation exists on either tool.
      const sneaky = await c.client.callTool({
        name: 'quarantine_security',
        arguments: { operation: 'unquarantine', name: 'agent-added' },
      });
      expect(sneaky.isError).toBe(true);
      const listed = await c.client.callTool({
        name: 'quarantine_security',
        arguments: { operation: 'list_quarantined' },
      });
      expect(textOf(listed)).toContain('agent-added');

      const ready = nextEvent(proxy.bus, 'connection_established', (e) => e.server === 'agent-added');
      const approve = await proxy.api('/api/v1/servers/agent-added/unquarantine', { method: 'POST' });
      expect(approve.status).toBe(200);
      await ready;
      const ok = await c.client.callTool({
        name: 'call_tool',
        arguments: { name: 'agent-added:echo', args: { message: 'approved' } },
      });
      expect(ok.content).toEqual([{ type: 'text', text: 'Echo: approved' }]);

      const removed = await c.client.callTool({
        name: 'upstream_servers',
        arguments: { operation: 'remove', name: 'agent-added' },
      });
      expect(removed.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it('tools_stat counts calls made through call_tool', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      await c.client.callTool({ name: 'call_tool', arguments: { name: 'everything:get-sum', args: { a: 1, b: 2 } } });
      const stat = await c.client.callTool({ name: 'tools_stat', arguments: {} });
      const rows = (stat.structuredContent as { tools: { name: string; calls: number }[] }).tools;
      expect(rows.find((r) => r.name === 'everything:get-sum')?.calls).toBeGreaterThanOrEqual(1);
    } finally {
      await c.close();
    }
  });

  it('hides the management tools when a gate forbids them, and tells connected clients (tools/list_changed)', async () => {
    const c = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
    try {
      const changed = new Promise<void>((resolve) =>
        c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
      );
      const current = (await proxy.api('/api/v1/config')).body;
      writeFileSync(
        proxy.configPath,
        JSON.stringify({
          listen: '127.0.0.1:0',
          api_key: KEY,
          disable_management: true,
          mcpServers: [everythingEntry()],
        }),
      );
      expect(current.disable_management).toBe(false);
      expect((await proxy.api('/api/v1/config/reload', { method: 'POST' })).status).toBe(200);
      await changed;
      const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['call_tool', 'retrieve_tools', 'tools_stat']);

      // A session opened under the gate never sees them either.
      const later = await connectClient(proxy.url, '/mcp', { apiKey: KEY });
      expect((await later.client.listTools()).tools.map((t) => t.name)).not.toContain('upstream_servers');
      await later.close();

      writeFileSync(
        proxy.configPath,
        JSON.stringify({ listen: '127.0.0.1:0', api_key: KEY, mcpServers: [everythingEntry()] }),
      );
      await proxy.api('/api/v1/config/reload', { method: 'POST' });
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('upstream_servers');
    } finally {
      await c.close();
    }
  });
});
