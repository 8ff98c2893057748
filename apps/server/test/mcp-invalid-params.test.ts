import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { plainToolCall } from '../src/mcp/invalid-params.js';
import { connectClient, everythingEntry, startProxy, type TestProxy, waitReady } from './fixtures/mcp-harness.js';

/** The JSON-RPC error a request gets (fails the test when it is answered with a result). */
async function errorOf(promise: Promise<unknown>): Promise<McpError> {
  const outcome = await promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(outcome.result)}`);
  expect(outcome.error).toBeInstanceOf(McpError);
  return outcome.error as McpError;
}

/** A tools/call without a string name, with a number name, and with non-object arguments: each answered −32602. */
async function expectMalformedCallsRefused(client: Client, tool: string): Promise<void> {
  const any = z.unknown();
  const noName = await errorOf(client.request({ method: 'tools/call', params: {} }, any));
  expect(noName.code).toBe(-32602);
  expect(noName.message).toMatch(/Invalid tools\/call request: params\.name: .*expected string/);

  const numberName = await errorOf(client.request({ method: 'tools/call', params: { name: 5 } }, any));
  expect(numberName.code).toBe(-32602);
  expect(numberName.message).toMatch(/params\.name: .*received number/);

  const badArgs = await errorOf(
    client.request({ method: 'tools/call', params: { name: tool, arguments: 'text' } }, any),
  );
  expect(badArgs.code).toBe(-32602);
  expect(badArgs.message).toMatch(/params\.arguments: /);
}

describe('malformed request params on /mcp, /mcp/all and /mcp/servers/{name} answer −32602 (Invalid params), naming the field', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ config: { mcpServers: [everythingEntry()] } });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  for (const path of ['/mcp', '/mcp/all']) {
    it(`${path}: tools/call without a string name, or with non-object arguments`, async () => {
      const c = await connectClient(proxy.url, path);
      try {
        const any = z.unknown();
        await expectMalformedCallsRefused(c.client, 'x');

        const badCursor = await errorOf(c.client.request({ method: 'tools/list', params: { cursor: 7 } }, any));
        expect(badCursor.code).toBe(-32602);
        expect(badCursor.message).toMatch(/Invalid tools\/list request: params\.cursor: /);

        // The tool handlers are installed lazily now (see search-tools.ts): the capability must still be declared.
        expect(c.client.getServerCapabilities()?.tools?.listChanged).toBe(true);
        // The session is still good: a well-formed call goes through afterwards.
        const { tools } = await c.client.listTools();
        expect(tools.length).toBeGreaterThan(0);
      } finally {
        await c.close();
      }
    });
  }

  it('/mcp/servers/{name}: a malformed tools/call answers −32602 too, and the session goes on', async () => {
    const c = await connectClient(proxy.url, '/mcp/servers/everything');
    try {
      await expectMalformedCallsRefused(c.client, 'echo');
      const any = z.unknown();

      // A call with `_meta` (left to the schema by the hand check) is well-formed and goes through.
      const withMeta = await c.client.request(
        { method: 'tools/call', params: { name: 'echo', arguments: { message: 'meta' }, _meta: { trace: 'x' } } },
        any,
      );
      expect(JSON.stringify(withMeta)).toContain('Echo: meta');
      const ok = await c.client.callTool({ name: 'echo', arguments: { message: 'ok' } });
      expect(ok.content).toEqual([{ type: 'text', text: 'Echo: ok' }]);
    } finally {
      await c.close();
    }
  });

  it('a well-formed call still works through both (the result is passed on unchanged)', async () => {
    const mcp = await connectClient(proxy.url, '/mcp');
    const all = await connectClient(proxy.url, '/mcp/all');
    try {
      const viaAll = await all.client.callTool({ name: 'everything__echo', arguments: { message: 'ok' } });
      expect(viaAll.content).toEqual([{ type: 'text', text: 'Echo: ok' }]);
      const viaMcp = await mcp.client.callTool({
        name: 'call_tool',
        arguments: { name: 'everything:echo', args: { message: 'ok' } },
      });
      expect(JSON.stringify(viaMcp.content)).toContain('Echo: ok');
    } finally {
      await mcp.close();
      await all.close();
    }
  });
});

describe('issue 15: the hand check of a common tools/call gives what CallToolRequestSchema gives', () => {
  const base = { jsonrpc: '2.0', id: 1, method: 'tools/call' };
  const taken = [
    { ...base, params: { name: 'a' } },
    { ...base, params: { name: '', arguments: {} } },
    { ...base, params: { name: 's:t', arguments: { a: 1, b: [1, { c: null }], d: 'x', e: { f: true } } } },
    { method: 'tools/call', params: { arguments: { x: 1 }, name: 'order' } },
  ];
  const left = [
    { ...base },
    { ...base, params: null },
    { ...base, params: [] },
    { ...base, params: { name: 5 } },
    { ...base, params: { name: 'a', arguments: [] } },
    { ...base, params: { name: 'a', arguments: null } },
    { ...base, params: { name: 'a', arguments: 'text' } },
    { ...base, params: { name: 'a', arguments: undefined } },
    { ...base, params: { name: 'a', _meta: { progressToken: 1 } } },
    { ...base, params: { name: 'a', task: { ttl: 5 } } },
    { ...base, params: { name: 'a', extra: 1 } },
    { ...base, params: { name: 'a', arguments: JSON.parse('{"__proto__": {"x": 1}}') } },
    { ...base, method: 'tools/list', params: { name: 'a' } },
    'tools/call',
    null,
  ];

  it('takes a plain call and returns the parsed request, with the arguments copied', () => {
    for (const request of taken) {
      const plain = plainToolCall(request);
      expect(plain, JSON.stringify(request)).toEqual(CallToolRequestSchema.parse(request));
      if (plain?.params.arguments) expect(plain.params.arguments).not.toBe(request.params.arguments);
    }
  });

  it('leaves everything else to the schema', () => {
    for (const request of left) expect(plainToolCall(request), JSON.stringify(request)).toBeUndefined();
  });
});
