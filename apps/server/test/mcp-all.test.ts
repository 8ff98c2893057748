import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitAllName } from '../src/mcp/index.js';
import {
  connectClient,
  everythingEntry,
  startProxy,
  type TestProxy,
  textOf,
  waitReady,
} from './fixtures/mcp-harness.js';

describe('/mcp/all: every callable upstream tool as server__tool', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy({ config: { mcpServers: [everythingEntry(), everythingEntry('second')] } });
    await waitReady(proxy, 'everything');
    await waitReady(proxy, 'second');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('lists everything__echo (with its schema) and calls it through the management service', async () => {
    const c = await connectClient(proxy.url, '/mcp/all');
    try {
      const { tools } = await c.client.listTools();
      const echo = tools.find((t) => t.name === 'everything__echo');
      expect(echo?.inputSchema).toMatchObject({ type: 'object', properties: { message: { type: 'string' } } });
      expect(tools.some((t) => t.name === 'second__echo')).toBe(true);
      const result = await c.client.callTool({ name: 'everything__echo', arguments: { message: 'all' } });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: all' }]);
      const bad = await c.client.callTool({ name: 'nope', arguments: {} });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/^NOT_FOUND: /);
    } finally {
      await c.close();
    }
  });

  it('sends tools/list_changed to connected clients when a server is disabled, and again when it is back', async () => {
    const a = await connectClient(proxy.url, '/mcp/all');
    const b = await connectClient(proxy.url, '/mcp/all');
    try {
      await a.client.listTools();
      const changes = (c: typeof a) => {
        let n = 0;
        let wake: (() => void) | undefined;
        c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
          n++;
          wake?.();
        });
        return {
          next: (count: number) =>
            new Promise<void>((resolve) => {
              if (n >= count) resolve();
              else wake = () => n >= count && resolve();
            }),
        };
      };
      const ca = changes(a);
      const cb = changes(b);
      expect((await proxy.api('/api/v1/servers/second/disable', { method: 'POST' })).status).toBe(200);
      await Promise.all([ca.next(1), cb.next(1)]);
      const names = (await a.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('everything__echo');
      expect(names.some((n) => n.startsWith('second__'))).toBe(false);

      expect((await proxy.api('/api/v1/servers/second/enable', { method: 'POST' })).status).toBe(200);
      await waitReady(proxy, 'second');
      await ca.next(2);
      expect((await a.client.listTools()).tools.map((t) => t.name)).toContain('second__echo');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('splits names at the first "__" (server names cannot contain it)', () => {
    expect(splitAllName('srv__tool__with__underscores')).toEqual({ server: 'srv', tool: 'tool__with__underscores' });
    expect(splitAllName('__x')).toBeUndefined();
    expect(splitAllName('x__')).toBeUndefined();
  });
});
