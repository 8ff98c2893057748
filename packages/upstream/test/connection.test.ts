// The connection core over the SDK's in-memory transport, with a fake clock: deadlines, aborts, close and
// listeners without any process or socket.
import { createFakeClock, type FakeClock, silentLogger, UpstreamError } from '@mcpproxy/contracts';
import { waitFor } from '@mcpproxy/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SdkConnection } from '../src/connection.js';
import { failure, nextCall } from './helpers.js';

interface Harness {
  clock: FakeClock;
  server: McpServer;
  connection: SdkConnection;
  /** Signals of `hang` invocations the server received, in order. */
  hangs: AbortSignal[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function newConnection(transport: InMemoryTransport, clock: FakeClock, callTimeoutMs = 120_000): SdkConnection {
  return new SdkConnection({
    name: 'mem',
    protocol: 'stdio',
    client: new Client({ name: 'test', version: '0' }),
    transport,
    clock,
    logger: silentLogger,
    callTimeoutMs,
    requestTimeoutMs: 30_000,
  });
}

async function harness({ callTimeoutMs = 120_000 } = {}): Promise<Harness> {
  const clock = createFakeClock();
  const server = new McpServer({ name: 'mem', version: '9.9.9' });
  const hangs: AbortSignal[] = [];
  server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => ({
    content: [{ type: 'text', text: message }],
  }));
  server.registerTool('hang', { description: 'never answers' }, (extra) => {
    hangs.push(extra.signal);
    return new Promise(() => {});
  });
  server.registerResource('readme', 'mem://readme', {}, async () => ({
    contents: [{ uri: 'mem://readme', text: 'hello' }],
  }));
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const connection = newConnection(clientSide, clock, callTimeoutMs);
  await connection.initialize(30_000, undefined);
  cleanups.push(async () => {
    await connection.close();
    await server.close();
  });
  return { clock, server, connection, hangs };
}

/** Whether `promise` has settled, checked after pending reactions ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await failure(promise)).code;
}

describe('SdkConnection (in-memory upstream, fake clock)', () => {
  it('lists the tools and reads serverInfo during initialize', async () => {
    const { connection } = await harness();
    expect(connection.tools.map((t) => t.name).sort()).toEqual(['echo', 'hang']);
    expect(connection.tools.find((t) => t.name === 'hang')?.description).toBe('never answers');
    expect(connection.serverInfo).toEqual({ name: 'mem', version: '9.9.9' });
    expect(connection.pid).toBeUndefined();
  });

  it('answers tool calls and pings and leaves nothing pending', async () => {
    const { connection, clock } = await harness();
    const result = await connection.callTool('echo', { message: 'hi' });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    await expect(connection.ping()).resolves.toBeUndefined();
    expect(connection.pendingCalls()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('fails a call past its deadline with CALL_TIMEOUT and cancels it upstream', async () => {
    const { connection, clock, hangs } = await harness();
    const call = connection.callTool('hang', {}, { timeoutMs: 5_000 });
    await waitFor(() => hangs.length === 1, { what: 'the upstream to receive the call' });
    expect(connection.pendingCalls()).toBe(1);
    clock.advance(4_999);
    expect(await settled(call)).toBe(false);
    clock.advance(1);
    expect(await codeOf(call)).toBe('CALL_TIMEOUT');
    expect(connection.pendingCalls()).toBe(0);
    await waitFor(() => hangs[0]?.aborted === true, { what: 'notifications/cancelled to reach the upstream' });
  });

  it('applies the default call deadline when the call gives none', async () => {
    const { connection, clock, hangs } = await harness({ callTimeoutMs: 60_000 });
    const call = connection.callTool('hang', {});
    await waitFor(() => hangs.length === 1);
    clock.advance(59_999);
    expect(await settled(call)).toBe(false);
    clock.advance(1);
    expect(await codeOf(call)).toBe('CALL_TIMEOUT');
  });

  it('rejects with ABORTED when the caller aborts, and cancels upstream', async () => {
    const { connection, hangs, clock } = await harness();
    const controller = new AbortController();
    const call = connection.callTool('hang', {}, { signal: controller.signal });
    await waitFor(() => hangs.length === 1);
    controller.abort();
    expect(await codeOf(call)).toBe('ABORTED');
    expect(connection.pendingCalls()).toBe(0);
    expect(clock.pending()).toBe(0);
    await waitFor(() => hangs[0]?.aborted === true, { what: 'the upstream to see the cancellation' });
  });

  it('rejects a call whose signal is already aborted without sending it', async () => {
    const { connection, hangs } = await harness();
    expect(await codeOf(connection.callTool('hang', {}, { signal: AbortSignal.abort() }))).toBe('ABORTED');
    await connection.callTool('echo', { message: 'after' });
    expect(hangs).toHaveLength(0);
  });

  it('rejects every pending call with CLOSED at once on close(), and later calls too', async () => {
    const { connection, hangs, clock } = await harness();
    const calls = [1, 2, 3].map(() => connection.callTool('hang', {}));
    await waitFor(() => hangs.length === 3);
    expect(connection.pendingCalls()).toBe(3);
    const closing = connection.close();
    // Rejected before the close finishes: nothing waits on the transport.
    for (const call of calls) expect(await codeOf(call)).toBe('CLOSED');
    expect(connection.pendingCalls()).toBe(0);
    await closing;
    expect(clock.pending()).toBe(0);
    await expect(connection.close()).resolves.toBeUndefined();
    expect(await codeOf(connection.callTool('echo', { message: 'x' }))).toBe('CLOSED');
    expect(await codeOf(connection.listTools())).toBe('CLOSED');
  });

  it('fires onClose once with an error when the upstream goes away, failing pending calls with CLOSED', async () => {
    const { connection, server, hangs } = await harness();
    const calls: Array<Error | undefined> = [];
    connection.onClose((error) => calls.push(error));
    const call = connection.callTool('hang', {});
    await waitFor(() => hangs.length === 1);
    await server.close();
    await waitFor(() => calls.length === 1, { what: 'onClose' });
    expect(calls[0]).toBeInstanceOf(UpstreamError);
    expect((calls[0] as UpstreamError).code).toBe('CLOSED');
    expect(await codeOf(call)).toBe('CLOSED');
    await connection.close();
    expect(calls).toHaveLength(1);
  });

  it('does not fire onClose for our own close()', async () => {
    const { connection } = await harness();
    const calls: Array<Error | undefined> = [];
    connection.onClose((error) => calls.push(error));
    await connection.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([]);
  });

  it('tells an onClose listener added after the upstream went away', async () => {
    const { connection, server } = await harness();
    const first = nextCall<Error | undefined>();
    connection.onClose(first.listener);
    await server.close();
    await first.called;
    const late = nextCall<Error | undefined>();
    connection.onClose(late.listener);
    expect(await late.called).toBeInstanceOf(UpstreamError);
  });

  it('calls onToolsChanged on tools/list_changed, and listTools picks up the new tool', async () => {
    const { connection, server } = await harness();
    const changed = nextCall<void>();
    connection.onToolsChanged(changed.listener);
    server.registerTool('late', { description: 'added later' }, async () => ({ content: [] }));
    await changed.called;
    const tools = await connection.listTools();
    expect(tools.map((t) => t.name)).toContain('late');
    expect(connection.tools.map((t) => t.name)).toContain('late');
  });

  it('keeps notifying other listeners when one throws, and unsubscribes', async () => {
    const { connection, server } = await harness();
    const seen: string[] = [];
    connection.onToolsChanged(() => {
      throw new Error('bad listener');
    });
    const off = connection.onToolsChanged(() => seen.push('off'));
    off();
    off();
    const good = nextCall<void>();
    connection.onToolsChanged(good.listener);
    server.registerTool('another', {}, async () => ({ content: [] }));
    await good.called;
    expect(seen).toEqual([]);
  });

  it('exposes the SDK client for requests it does not wrap', async () => {
    const { connection } = await harness();
    const { resources } = await connection.client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['mem://readme']);
  });

  it('fails a ping past its deadline with CALL_TIMEOUT', async () => {
    const clock = createFakeClock();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = new Server({ name: 'mute-after-init', version: '1' }, { capabilities: {} });
    await server.connect(serverSide);
    const connection = newConnection(clientSide, clock);
    await connection.initialize(1_000, undefined);
    cleanups.push(() => connection.close());
    // Drop every message from now on: the ping is never answered.
    serverSide.onmessage = () => {};
    const ping = connection.ping({ timeoutMs: 2_000 });
    clock.advance(2_000);
    expect(await codeOf(ping)).toBe('CALL_TIMEOUT');
  });
});

describe('SdkConnection protocol errors', () => {
  it('fails with PROTOCOL_ERROR when a tools/call result does not match the MCP schema', async () => {
    const clock = createFakeClock();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    // A hand-written upstream: correct handshake, malformed tools/call result.
    serverSide.onmessage = (message) => {
      if (!('id' in message) || !('method' in message)) return;
      const reply = (result: unknown) => void serverSide.send({ jsonrpc: '2.0', id: message.id, result } as never);
      if (message.method === 'initialize') {
        reply({
          protocolVersion: '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'odd', version: '1' },
        });
      } else if (message.method === 'tools/list') {
        reply({ tools: [{ name: 'odd', inputSchema: { type: 'object' } }] });
      } else if (message.method === 'tools/call') {
        reply({ content: 'not a list' });
      }
    };
    await serverSide.start();
    const connection = newConnection(clientSide, clock);
    await connection.initialize(1_000, undefined);
    cleanups.push(() => connection.close());
    expect(await codeOf(connection.callTool('odd', {}))).toBe('PROTOCOL_ERROR');
    expect(connection.pendingCalls()).toBe(0);
  });
});

describe('SdkConnection initialize', () => {
  it('fails with INIT_TIMEOUT when initialize is not answered in time and closes the transport', async () => {
    const clock = createFakeClock();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    let serverClosed = false;
    serverSide.onclose = () => {
      serverClosed = true;
    };
    await serverSide.start();
    const connection = newConnection(clientSide, clock);
    const init = connection.initialize(3_000, undefined);
    clock.advance(2_999);
    expect(await settled(init)).toBe(false);
    clock.advance(1);
    expect(await codeOf(init)).toBe('INIT_TIMEOUT');
    expect(serverClosed).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('fails with ABORTED when the connect signal aborts', async () => {
    const clock = createFakeClock();
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await serverSide.start();
    const connection = newConnection(clientSide, clock);
    const controller = new AbortController();
    const init = connection.initialize(3_000, controller.signal);
    controller.abort();
    expect(await codeOf(init)).toBe('ABORTED');
  });

  it('follows tools/list pagination and maps JSON-RPC errors of tools/call to CALL_FAILED', async () => {
    const clock = createFakeClock();
    const server = new Server({ name: 'paged', version: '1' }, { capabilities: { tools: {} } });
    const pages: Record<string, { names: string[]; next?: string }> = {
      first: { names: ['a', 'b'], next: 'p2' },
      p2: { names: ['c'], next: 'p3' },
      p3: { names: ['d'] },
    };
    server.setRequestHandler(ListToolsRequestSchema, async (request) => {
      const page = pages[request.params?.cursor ?? 'first'];
      if (!page) throw new McpError(ErrorCode.InvalidParams, 'bad cursor');
      return {
        tools: page.names.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
        ...(page.next ? { nextCursor: page.next } : {}),
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async () => {
      throw new McpError(ErrorCode.InvalidParams, 'missing argument "x"');
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const connection = newConnection(clientSide, clock);
    await connection.initialize(1_000, undefined);
    cleanups.push(() => connection.close());
    expect(connection.tools.map((t) => t.name)).toEqual(['a', 'b', 'c', 'd']);
    const error = await connection.callTool('a', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe('CALL_FAILED');
    expect((error as UpstreamError).message).toContain('missing argument "x"');
  });
});
