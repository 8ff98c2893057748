import { request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  EVERYTHING,
  everythingEntry,
  nextEvent,
  startProxy,
  type TestProxy,
  textOf,
  waitFor,
  waitReady,
} from './fixtures/mcp-harness.js';

const BIDI = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mcp-bidi-server.mjs');

describe('/mcp/servers/{name}: one upstream, transparently', () => {
  let proxy: TestProxy;
  let direct: Client;

  beforeAll(async () => {
    proxy = await startProxy({
      config: {
        mcpServers: [
          everythingEntry(),
          everythingEntry('filtered', { disabled_tools: ['get-env'] }),
          { name: 'bidi', protocol: 'stdio', command: process.execPath, args: [BIDI], quarantined: false },
          { ...everythingEntry('held'), quarantined: true },
        ],
      },
    });
    direct = new Client({ name: 'direct', version: '1.0.0' }, { capabilities: {} });
    await direct.connect(
      new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }),
    );
    await waitReady(proxy, 'everything');
    await waitReady(proxy, 'filtered');
    await waitReady(proxy, 'bidi');
  });
  afterAll(async () => {
    await direct?.close();
    await proxy?.close();
  });

  it('passes tools, resources, templates and prompts through unchanged (the same answers as a direct connection)', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/everything');
    try {
      expect(c.client.getServerVersion()).toEqual(direct.getServerVersion());
      expect(c.client.getServerCapabilities()).toEqual(direct.getServerCapabilities());
      expect((await c.client.listTools()).tools).toEqual((await direct.listTools()).tools);
      const resources = await c.client.listResources();
      expect(resources).toEqual(await direct.listResources());
      expect(await c.client.listResourceTemplates()).toEqual(await direct.listResourceTemplates());
      const uri = resources.resources[0]?.uri as string;
      expect(await c.client.readResource({ uri })).toEqual(await direct.readResource({ uri }));
      expect(await c.client.listPrompts()).toEqual(await direct.listPrompts());
      expect(await c.client.getPrompt({ name: 'simple-prompt' })).toEqual(
        await direct.getPrompt({ name: 'simple-prompt' }),
      );
      const echo = await c.client.callTool({ name: 'echo', arguments: { message: 'through' } });
      expect(echo).toEqual(await direct.callTool({ name: 'echo', arguments: { message: 'through' } }));
      expect(await c.client.setLoggingLevel('debug')).toEqual({});
      expect(await c.client.ping()).toEqual({});
    } finally {
      await c.close();
    }
  });

  it('relays progress notifications of a long call to the caller, in order', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/everything');
    try {
      const progress: number[] = [];
      const result = await c.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } },
        undefined,
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(textOf(result)).toContain('Long running operation completed');
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await c.close();
    }
  });

  it('forwards sampling, elicitation and roots requests to the right client, and its logging back', async () => {
    const logs: string[] = [];
    const c = await connectClient(proxy.url, '/mcp/servers/bidi', {
      options: { capabilities: { roots: { listChanged: true }, sampling: {}, elicitation: {} } },
    });
    try {
      c.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        logs.push(String(n.params.data));
      });
      c.client.setRequestHandler(ListRootsRequestSchema, () => ({
        roots: [{ uri: 'file:///tmp/project', name: 'project' }],
      }));
      c.client.setRequestHandler(CreateMessageRequestSchema, (req) => ({
        role: 'assistant',
        content: { type: 'text', text: `echo of ${JSON.stringify(req.params.messages[0]?.content)}` },
        model: 'test-model',
        stopReason: 'endTurn',
      }));
      c.client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { name: 'Ada' } }));

      const sampled = await c.client.callTool({ name: 'ask_llm', arguments: { prompt: 'hi' } });
      expect(textOf(sampled)).toBe('llm said: echo of {"type":"text","text":"hi"} (test-model)');
      const elicited = await c.client.callTool({ name: 'ask_user', arguments: {} });
      expect(textOf(elicited)).toBe('user: accept {"name":"Ada"}');
      const roots = await c.client.callTool({ name: 'list_roots', arguments: {} });
      expect(textOf(roots)).toBe('roots: file:///tmp/project');
      await c.client.callTool({ name: 'chatty', arguments: {} });
      await waitFor(() => logs.length >= 3, 'three log messages');
      expect(logs).toEqual(['step one', 'step two', 'step three']);
    } finally {
      await c.close();
    }
  });

  it("gives the upstream the client's own capabilities: server-everything asks for roots and logs what it got", async () => {
    const logs: LoggingMessageNotification['params'][] = [];
    const c = await connectClient(proxy.url, '/mcp/servers/everything', {
      options: { capabilities: { roots: { listChanged: true } } },
    });
    try {
      c.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        logs.push(n.params);
      });
      c.client.setRequestHandler(ListRootsRequestSchema, () => ({
        roots: [{ uri: 'file:///tmp/project', name: 'project' }],
      }));
      await waitFor(() => logs.find((l) => String(l.data).includes('1 root(s)')), 'roots log message');
      // Tools that exist only for clients with such capabilities were never seen (so never approved) by the
      // actor, whose own connection declares none: pinning keeps them hidden.
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('get-roots-list');
    } finally {
      await c.close();
    }
  });

  it('passes resource subscriptions through: updates reach the subscribed session', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/everything');
    try {
      const uri = (await c.client.listResources()).resources[0]?.uri as string;
      const updated = new Promise<string>((resolve) =>
        c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
      );
      expect(await c.client.subscribeResource({ uri })).toEqual({});
      await c.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      expect(await updated).toBe(uri);
      expect(await c.client.unsubscribeResource({ uri })).toEqual({});
    } finally {
      await c.close();
    }
  });

  it('applies the config filters and pinning: a disabled tool is neither listed nor callable; calls are counted', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/filtered');
    try {
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('echo');
      expect(names).not.toContain('get-env');
      const rejected = nextEvent(proxy.bus, 'tool_called', (e) => e.server === 'filtered' && e.data.tool === 'get-env');
      const refused = await c.client.callTool({ name: 'get-env', arguments: {} });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^NOT_FOUND: /);
      expect((await rejected).data.status).toBe('rejected');
      const ok = nextEvent(proxy.bus, 'tool_called', (e) => e.server === 'filtered' && e.data.tool === 'echo');
      await c.client.callTool({ name: 'echo', arguments: { message: 'm' } });
      expect((await ok).data.status).toBe('ok');
    } finally {
      await c.close();
    }
  });

  it('cancels the upstream request when the client cancels a call', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/everything');
    try {
      const abort = new AbortController();
      const ended = nextEvent(
        proxy.bus,
        'tool_called',
        (e) => e.server === 'everything' && e.data.tool === 'trigger-long-running-operation',
      );
      const call = c.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } },
        undefined,
        { signal: abort.signal, onprogress: () => abort.abort() },
      );
      await expect(call).rejects.toThrow();
      const event = await ended;
      expect(event.data.status).toBe('error');
      expect(event.data.duration_ms).toBeLessThan(10_000);
    } finally {
      await c.close();
    }
  });

  it('refuses an unknown server (404) and a quarantined one (409) without contacting it', async () => {
    const init = (name: string) =>
      fetch(`${proxy.url}/mcp/servers/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
    const unknown = await init('nope');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/^NOT_FOUND/);
    const held = await init('held');
    expect(held.status).toBe(409);
    expect(((await held.json()) as { error: { message: string } }).error.message).toContain('quarantined');
    expect(proxy.running.services.supervisor.getActor('held')?.getState().state).toBe('quarantined');
  });

  it('rejects a foreign Host header before any session is made (DNS rebinding)', async () => {
    const { port } = new URL(proxy.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/mcp/servers/everything',
          method: 'POST',
          headers: { host: 'evil.example.com', 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(403);
  });

  it('ends the sessions of a server that is disabled, and tells approval changes to list again', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/filtered');
    try {
      await c.client.listTools();
      expect(proxy.endpoints.stats().servers.sessions).toBeGreaterThanOrEqual(1);
      const listChanged = new Promise<void>((resolve) =>
        c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
      );
      proxy.bus.publish({
        type: 'tool_quarantine_changed',
        server: 'filtered',
        data: {
          tool: 'echo',
          from: 'approved',
          to: 'approved',
          summary: proxy.running.services.supervisor.getActor('filtered')!.getState(),
        },
      });
      await listChanged;
      expect((await proxy.api('/api/v1/servers/filtered/disable', { method: 'POST' })).status).toBe(200);
      await waitFor(
        () =>
          ![...proxy.running.services.supervisor.actors()].some(
            (a) => a.name === 'filtered' && a.getState().state === 'ready',
          ),
        'filtered disabled',
      );
      await waitFor(async () => {
        const res = await fetch(`${proxy.url}/mcp/servers/filtered`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': c.transport.sessionId as string,
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
        });
        return res.status === 404;
      }, 'the session to end');
    } finally {
      await c.close();
    }
  });
});
