// The connection's own request path of callTool and ping (own-requests.ts): over the SDK's in-memory transport with
// a fake clock (ids, answers, late answers, errors, notifications, leaks), and against a real Streamable HTTP server
// (cancellation upstream) and server-everything (the same answers as the SDK Client's request()).
import { getEventListeners } from 'node:events';
import { createFakeClock, type FakeClock, type Logger, silentLogger, systemClock } from '@mcpproxy/contracts';
import { startEverythingHttp, waitFor } from '@mcpproxy/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  EmptyResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  LoggingMessageNotificationSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SdkConnection } from '../src/connection.js';
import { createConnector } from '../src/index.js';
import { openUpstream } from '../src/transport.js';
import { failure, serverConfig } from './helpers.js';
import { startSdkHttpServer } from './sdk-http-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Options {
  clock?: FakeClock;
  logger?: Logger;
  ownRequests?: boolean;
}

/** An initialized connection over `transport`, closed after the test. */
async function connect(
  transport: Transport,
  { clock = createFakeClock(), logger = silentLogger, ownRequests }: Options,
) {
  const connection = new SdkConnection({
    name: 'mem',
    protocol: 'stdio',
    client: new Client({ name: 'test', version: '0' }),
    transport,
    clock,
    logger,
    callTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    ownRequests,
  });
  await connection.initialize(30_000, undefined);
  cleanups.push(() => connection.close());
  return connection;
}

/** Requests (with their ids) and notifications the server side received from the client, in order. */
function recordInbound(serverSide: InMemoryTransport): JSONRPCMessage[] {
  const seen: JSONRPCMessage[] = [];
  const handler = serverSide.onmessage;
  serverSide.onmessage = (message, extra) => {
    seen.push(message);
    handler?.(message, extra);
  };
  return seen;
}

/** A hand-written upstream: correct handshake, then `onCall` decides what each tools/call gets (or nothing). */
async function handWritten(onCall: (message: { id: number; name: string }, reply: (body: object) => void) => void) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const inbound: JSONRPCMessage[] = [];
  serverSide.onmessage = (message) => {
    inbound.push(message);
    if (!('id' in message) || !('method' in message)) return;
    const id = message.id as number;
    const reply = (body: object) => void serverSide.send({ jsonrpc: '2.0', id, ...body } as JSONRPCMessage);
    if (message.method === 'initialize') {
      reply({
        result: {
          protocolVersion: '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'hw', version: '1' },
        },
      });
    } else if (message.method === 'tools/list') {
      reply({ result: { tools: [{ name: 'any', inputSchema: { type: 'object' } }] } });
    } else if (message.method === 'ping') {
      reply({ result: {} });
    } else if (message.method === 'tools/call') {
      onCall({ id, name: String((message.params as { name: unknown }).name) }, reply);
    }
  };
  await serverSide.start();
  return { clientSide, serverSide, inbound };
}

const textOf = (result: unknown) => (result as { content: Array<{ text?: string }> }).content[0]?.text;
/** Request ids of the notifications/cancelled the upstream received. */
const cancellations = (inbound: JSONRPCMessage[]) =>
  inbound.flatMap((m) =>
    'method' in m && m.method === 'notifications/cancelled' ? [(m.params as { requestId: unknown }).requestId] : [],
  );

/** The SDK Client's own bookkeeping of requests in flight (pinned SDK; what the own path must never touch). */
function sdkBookkeeping(connection: SdkConnection): number {
  const client = connection.client as unknown as {
    _responseHandlers: Map<unknown, unknown>;
    _timeoutInfo: Map<unknown, unknown>;
  };
  return client._responseHandlers.size + client._timeoutInfo.size;
}

describe('own request path (in-memory upstream, fake clock)', () => {
  it('is the path callTool and ping take on the pinned SDK, and can be turned off', async () => {
    const server = new McpServer({ name: 'mem', version: '1' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const own = await connect(clientSide, {});
    expect(own.ownRequests).toBeDefined();
    const [c2, s2] = InMemoryTransport.createLinkedPair();
    await new McpServer({ name: 'mem', version: '1' }).connect(s2);
    expect((await connect(c2, { ownRequests: false })).ownRequests).toBeUndefined();
  });

  it('never reuses an id of the SDK Client, with listings, resources and pings in flight at the same time', async () => {
    const server = new McpServer({ name: 'mem', version: '1' });
    server.registerTool('echo', { inputSchema: { message: z.string() } }, async ({ message }) => {
      // Answer out of order: later calls overtake earlier ones.
      await new Promise((resolve) => setImmediate(resolve));
      return { content: [{ type: 'text', text: message }] };
    });
    server.registerResource('readme', 'mem://readme', {}, async () => ({
      contents: [{ uri: 'mem://readme', text: 'r' }],
    }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const inbound = recordInbound(serverSide);
    const connection = await connect(clientSide, {});
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      work.push(connection.callTool('echo', { message: `m${i}` }).then((r) => expect(textOf(r)).toBe(`m${i}`)));
      if (i % 3 === 0)
        work.push(connection.listTools().then((tools) => expect(tools.map((t) => t.name)).toEqual(['echo'])));
      if (i % 3 === 1) work.push(connection.client.listResources().then((r) => expect(r.resources).toHaveLength(1)));
      if (i % 3 === 2) work.push(connection.ping());
    }
    await Promise.all(work);
    const ids = inbound.filter((m) => 'id' in m && 'method' in m).map((m) => (m as { id: unknown }).id);
    expect(ids).toHaveLength(62); // initialize and the first tools/list, then the 60 above
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(Number.isSafeInteger(id) && (id as number) >= 0).toBe(true);
    expect(connection.ownRequests?.inFlight()).toBe(0);
    expect(sdkBookkeeping(connection)).toBe(0);
  });

  it('matches an answer whose id comes back as a string, as the SDK Client does', async () => {
    for (const ownRequests of [true, false]) {
      const { clientSide } = await handWritten((call, reply) =>
        reply({ id: String(call.id), result: { content: [{ type: 'text', text: 'string id' }] } }),
      );
      const connection = await connect(clientSide, { ownRequests });
      expect(textOf(await connection.callTool('any', {}))).toBe('string id');
    }
  });

  it('drops an answer that arrives after the deadline, and cancelled the request upstream', async () => {
    const held: Array<{ id: number; reply: (body: object) => void }> = [];
    const { clientSide, inbound } = await handWritten((call, reply) => {
      if (call.name === 'slow') held.push({ id: call.id, reply });
      else reply({ result: { content: [{ type: 'text', text: 'fast' }] } });
    });
    const clock = createFakeClock();
    const debug: string[] = [];
    const logger: Logger = { ...silentLogger, debug: (_msg, fields) => debug.push(String(fields?.error)) };
    const connection = await connect(clientSide, { clock, logger });
    const slow = connection.callTool('slow', {}, { timeoutMs: 1_000 });
    await waitFor(() => held.length === 1, { what: 'the upstream to receive the call' });
    clock.advance(1_000);
    expect((await failure(slow)).code).toBe('CALL_TIMEOUT');
    await waitFor(() => cancellations(inbound).length === 1, { what: 'notifications/cancelled' });
    expect(cancellations(inbound)).toEqual([held[0]?.id]);
    // The late answer goes to the SDK Client, which knows no such request and reports it, as it always did.
    held[0]?.reply({ result: { content: [{ type: 'text', text: 'late' }] } });
    await waitFor(() => debug.some((e) => e.includes('unknown message ID')), { what: 'the late answer to be dropped' });
    expect(textOf(await connection.callTool('fast', {}))).toBe('fast');
    expect(connection.pendingCalls()).toBe(0);
    expect(connection.ownRequests?.inFlight()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('fails a malformed result with PROTOCOL_ERROR and sends no cancellation for an answered request', async () => {
    const bodies: Record<string, unknown> = {
      list: { content: 'not a list' },
      flag: { content: [], isError: 'yes' },
      block: { content: [{ type: 'text' }] },
      structured: { content: [], structuredContent: [1] },
    };
    const { clientSide, inbound } = await handWritten((call, reply) => reply({ result: bodies[call.name] }));
    const connection = await connect(clientSide, {});
    for (const name of Object.keys(bodies)) {
      const error = await failure(connection.callTool(name, {}));
      expect(error.code).toBe('PROTOCOL_ERROR');
      expect(error.message).toBe(`tools/call "${name}": the upstream sent a malformed result`);
      expect(Array.isArray((error.cause as { issues?: unknown }).issues)).toBe(true);
    }
    // Messages are delivered in order: once the ping is answered, any cancellation would have arrived.
    await connection.ping();
    expect(cancellations(inbound)).toEqual([]);
    expect(connection.ownRequests?.inFlight()).toBe(0);
  });

  it('gives back what the schema gives for results outside the common shape', async () => {
    const result = {
      zz: 'kept',
      content: [
        { type: 'text', text: 'a', extra: 'stripped' },
        { type: 'image', data: 'aGk=', mimeType: 'image/png' },
      ],
      structuredContent: { n: 1 },
      _meta: { note: 'kept' },
    };
    const { clientSide } = await handWritten((_call, reply) => reply({ result }));
    const own = await connect(clientSide, {});
    const { clientSide: other } = await handWritten((_call, reply) => reply({ result }));
    const sdk = await connect(other, { ownRequests: false });
    const [a, b] = await Promise.all([own.callTool('any', {}), sdk.callTool('any', {})]);
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('turns an error answer into CALL_FAILED with the same message as the SDK path', async () => {
    const messages: string[] = [];
    for (const ownRequests of [true, false]) {
      const { clientSide } = await handWritten((_call, reply) =>
        reply({ error: { code: ErrorCode.InvalidParams, message: 'missing argument "x"', data: { field: 'x' } } }),
      );
      const connection = await connect(clientSide, { ownRequests });
      expect(connection.ownRequests !== undefined).toBe(ownRequests);
      const error = await failure(connection.callTool('a', {}));
      expect(error.code).toBe('CALL_FAILED');
      expect(error.cause).toBeInstanceOf(McpError);
      expect((error.cause as McpError).code).toBe(ErrorCode.InvalidParams);
      expect((error.cause as McpError).data).toEqual({ field: 'x' });
      messages.push(error.message);
    }
    expect(messages).toEqual([
      'tools/call "a" failed: MCP error -32602: missing argument "x"',
      'tools/call "a" failed: MCP error -32602: missing argument "x"',
    ]);
  });

  it('hands notifications and server-to-client requests that arrive during a call to the SDK Client', async () => {
    const server = new McpServer({ name: 'chatty', version: '1' }, { capabilities: { logging: {} } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.registerTool('chatty', {}, async (extra) => {
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'working' } });
      server.registerTool('added', {}, async () => ({ content: [] })); // tools/list_changed
      await extra.sendRequest({ method: 'ping' }, EmptyResultSchema); // answered by the SDK Client
      await gate;
      return { content: [{ type: 'text', text: 'done' }] };
    });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const inbound = recordInbound(serverSide);
    const connection = await connect(clientSide, {});
    const logged: unknown[] = [];
    connection.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(n.params.data));
    let toolsChanged = 0;
    connection.onToolsChanged(() => toolsChanged++);
    const call = connection.callTool('chatty', {});
    await waitFor(() => logged.length === 1 && toolsChanged === 1, { what: 'the notifications' });
    // The server's ping was answered by the Client: an answer (no method) went upstream.
    await waitFor(() => inbound.some((m) => 'result' in m), { what: 'the answer to the server ping' });
    expect(connection.pendingCalls()).toBe(1);
    release();
    expect(textOf(await call)).toBe('done');
    expect(logged).toEqual(['working']);
  });

  it('holds one timer and one listener per call and leaves nothing behind, whatever ends it', async () => {
    const bodies: Record<string, object | undefined> = {
      ok: { result: { content: [{ type: 'text', text: 'ok' }] } },
      error: { error: { code: -32602, message: 'bad' } },
      malformed: { result: { content: 1 } },
      silent: undefined,
    };
    const { clientSide } = await handWritten((call, reply) => {
      const body = bodies[call.name];
      if (body) reply(body);
    });
    const clock = createFakeClock();
    const connection = await connect(clientSide, { clock });
    const longLived = new AbortController().signal;
    const listeners = () => getEventListeners(longLived, 'abort').length;
    const clean = () => {
      expect(connection.pendingCalls()).toBe(0);
      expect(connection.ownRequests?.inFlight()).toBe(0);
      expect(clock.pending()).toBe(0);
      expect(listeners()).toBe(0);
      expect(sdkBookkeeping(connection)).toBe(0);
    };
    for (let round = 0; round < 20; round++) {
      await connection.callTool('ok', {}, { signal: longLived });
      clean();
      await failure(connection.callTool('error', {}, { signal: longLived }));
      await failure(connection.callTool('malformed', {}, { signal: longLived }));
      clean();
      const silent = connection.callTool('silent', {}, { signal: longLived, timeoutMs: 10 });
      expect([clock.pending(), listeners(), connection.ownRequests?.inFlight()]).toEqual([1, 1, 1]);
      clock.advance(10);
      expect((await failure(silent)).code).toBe('CALL_TIMEOUT');
      clean();
      const aborting = new AbortController();
      const aborted = connection.callTool('silent', {}, { signal: aborting.signal });
      aborting.abort();
      expect((await failure(aborted)).code).toBe('ABORTED');
      expect(getEventListeners(aborting.signal, 'abort')).toHaveLength(0);
      clean();
      await connection.ping({ signal: longLived });
      clean();
    }
    const closing = [1, 2].map(() => connection.callTool('silent', {}, { signal: longLived }));
    expect([clock.pending(), listeners(), connection.ownRequests?.inFlight()]).toEqual([2, 2, 2]);
    await connection.close();
    for (const call of closing) expect((await failure(call)).code).toBe('CLOSED');
    clean();
  });
});

describe('own request path (real servers)', () => {
  it('cancels a call upstream on its deadline and on the caller abort, over Streamable HTTP', async () => {
    const server = await startSdkHttpServer();
    cleanups.push(() => server.close());
    const connector = createConnector({ defaultInitTimeoutMs: 10_000 });
    const connection = (await connector.connect(
      serverConfig({ protocol: 'streamable-http', url: server.url }),
    )) as SdkConnection;
    cleanups.push(() => connection.close());
    expect(connection.ownRequests).toBeDefined();
    expect((await failure(connection.callTool('hang', {}, { timeoutMs: 100 }))).code).toBe('CALL_TIMEOUT');
    await waitFor(() => server.hangs.cancelled.length === 1, { what: 'the server to see the cancellation' });
    const controller = new AbortController();
    const call = connection.callTool('hang', {}, { signal: controller.signal });
    await waitFor(() => server.hangs.started.length === 2, { what: 'the second call to start' });
    controller.abort();
    expect((await failure(call)).code).toBe('ABORTED');
    await waitFor(() => server.hangs.cancelled.length === 2, { what: 'the server to see the abort' });
    expect(server.hangs.cancelled).toEqual(server.hangs.started);
    expect(textOf(await connection.callTool('echo', { message: 'after' }))).toBe('Echo: after');
    expect(connection.ownRequests?.inFlight()).toBe(0);
  });

  it('answers as the SDK Client request() does, from server-everything over Streamable HTTP', async () => {
    const everything = await startEverythingHttp({ mode: 'streamableHttp' });
    cleanups.push(async () => everything.stop());
    const config = serverConfig({ protocol: 'streamable-http', url: everything.url('/mcp') });
    const run = async (ownRequests: boolean) => {
      const opened = openUpstream(config, 'streamable-http', {});
      const connection = new SdkConnection({
        name: 'everything',
        protocol: 'streamable-http',
        client: new Client({ name: 'test', version: '0' }),
        transport: opened.transport,
        opened,
        clock: systemClock,
        logger: silentLogger,
        callTimeoutMs: 30_000,
        requestTimeoutMs: 30_000,
        ownRequests,
      });
      await connection.initialize(10_000, undefined);
      cleanups.push(() => connection.close());
      expect(connection.ownRequests !== undefined).toBe(ownRequests);
      const calls = [
        await connection.callTool('echo', { message: 'same' }),
        await connection.callTool('get-sum', { a: 2, b: 3 }),
        await connection.callTool('get-tiny-image', {}),
        await connection.callTool('no-such-tool', {}).catch((error: Error) => error.message),
      ];
      await connection.ping();
      return calls;
    };
    const [own, sdk] = [await run(true), await run(false)];
    expect(textOf(own[1])).toMatch(/5/);
    expect(own).toEqual(sdk);
    expect(JSON.stringify(own)).toBe(JSON.stringify(sdk));
  });
});
