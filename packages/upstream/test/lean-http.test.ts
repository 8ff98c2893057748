// The lean Streamable HTTP POST path (LeanStreamableHttpTransport): against the SDK's own server transport
// (test/sdk-http-server.ts, in-process), server-everything, and raw in-process HTTP servers for what no SDK server
// does on purpose (a stream cut without event ids, an oversized answer). Every socket binds 127.0.0.1.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EverythingHttp, startEverythingHttp, waitFor } from '@mcpproxy/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnector, openTransport } from '../src/index.js';
import { LeanStreamableHttpTransport } from '../src/lean-http.js';
import { failure, nextCall, serverConfig } from './helpers.js';
import { type SdkHttpServer, startSdkHttpServer } from './sdk-http-server.js';

const connector = createConnector({ defaultInitTimeoutMs: 10_000 });
const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]?.text;

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function sdkServer(options?: Parameters<typeof startSdkHttpServer>[0]): Promise<SdkHttpServer> {
  const server = await startSdkHttpServer(options);
  cleanups.push(() => server.close());
  return server;
}

/** A raw in-process HTTP server on 127.0.0.1:0 (its URL ends in /mcp). */
async function rawServer(handler: RequestListener): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** A started raw transport to `url` plus an SDK client over it with sampling; closed after the test. */
async function client(url: string, options: { fetch?: typeof fetch; headers?: Record<string, string> } = {}) {
  const upstream = openTransport(
    serverConfig({ protocol: 'streamable-http', url, headers: options.headers }),
    'streamable-http',
    {
      fetch: options.fetch,
    },
  );
  const sdk = new Client({ name: 'lean-test', version: '0' }, { capabilities: { sampling: {} } });
  cleanups.push(() => upstream.close());
  await sdk.connect(upstream.transport);
  return { upstream, sdk };
}

describe('lean POST path: SDK server', () => {
  it('is used when no fetch is injected; JSON answers, session id, protocol version, headers, 202', async () => {
    const server = await sdkServer({ json: true });
    const connection = await connector.connect(
      serverConfig({ protocol: 'streamable-http', url: server.url, headers: { 'X-Custom': 'yes' } }),
    );
    const result = await connection.callTool('echo', { message: 'hi' });
    expect(text(result)).toBe('Echo: hi');
    await connection.close();

    const [sessionId] = server.requests.flatMap((r) => (r.method === 'POST' && r.sessionId ? [r.sessionId] : []));
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.rpc)).toEqual(['initialize', 'notifications/initialized', 'tools/list', 'tools/call']);
    // Every POST went over node:http; the DELETE (and the GET stream) stayed on fetch.
    expect(posts.every((r) => !r.viaFetch && r.custom === 'yes')).toBe(true);
    expect(posts.slice(1).every((r) => r.sessionId === sessionId && r.protocolVersion === '2025-11-25')).toBe(true);
    expect(posts[1]?.status).toBe(202);
    const del = server.requests.find((r) => r.method === 'DELETE');
    expect(del).toMatchObject({ viaFetch: true, sessionId, status: 200 });
  });

  it('is not used when the caller injects a fetch: every request goes through it', async () => {
    const server = await sdkServer({ json: true });
    const seen: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      seen.push(init?.method ?? 'GET');
      return globalThis.fetch(input, init);
    };
    const { upstream, sdk } = await client(server.url, { fetch });
    expect(upstream.transport).not.toBeInstanceOf(LeanStreamableHttpTransport);
    await sdk.callTool({ name: 'echo', arguments: { message: 'x' } });
    expect(seen.filter((m) => m === 'POST')).toHaveLength(3);
    expect(server.requests.filter((r) => r.method === 'POST').every((r) => r.viaFetch)).toBe(true);
  });

  it('delivers progress and logging from an SSE answer while the call runs, before its result', async () => {
    const server = await sdkServer();
    const { upstream, sdk } = await client(server.url);
    expect(upstream.transport).toBeInstanceOf(LeanStreamableHttpTransport);
    const order: string[] = [];
    sdk.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      order.push(`log ${n.params.data}`);
    });
    // The tool waits for the gate, which only the progress notification opens: held messages would deadlock here.
    const result = await sdk.callTool({ name: 'progress' }, undefined, {
      onprogress: () => {
        order.push('progress');
        server.open();
      },
      timeout: 10_000,
    });
    order.push(text(result) ?? '?');
    // The SDK client dispatches notification handlers in microtasks of their own, so only "before done" is certain.
    expect(order.slice(0, 2).sort()).toEqual(['log working', 'progress']);
    expect(order[2]).toBe('done');
  });

  it('answers a server-to-client request (sampling) that arrives on the POST stream', async () => {
    const server = await sdkServer();
    const { sdk } = await client(server.url);
    sdk.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: 'test',
      role: 'assistant' as const,
      content: { type: 'text' as const, text: 'pong' },
    }));
    const result = await sdk.callTool({ name: 'sample' }, undefined, { timeout: 10_000 });
    expect(text(result)).toBe('sampled: pong');
    // The client's answer went out as a POST of its own (202), while the tool's stream stayed open.
    const answer = server.requests.find((r) => r.method === 'POST' && r.rpc === undefined);
    expect(answer).toMatchObject({ status: 202, viaFetch: false });
  });

  it('ends the connection on 404 for its session (the SDK error, status 404), as the SDK path does', async () => {
    const server = await sdkServer({ json: true });
    const connection = await connector.connect(serverConfig({ protocol: 'streamable-http', url: server.url }));
    const closed = nextCall<Error | undefined>();
    connection.onClose(closed.listener);
    await server.expire();
    const error = await failure(connection.callTool('echo', { message: 'gone' }));
    expect(error.code).toBe('CLOSED');
    expect((await closed.called)?.message).toMatch(/Session not found/);
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', status: 404, viaFetch: false });

    // The transport's own error is the SDK's StreamableHTTPError with the status.
    const { upstream, sdk } = await client(server.url);
    const errors: Error[] = [];
    upstream.transport.onerror = (e) => errors.push(e);
    await server.expire();
    await expect(sdk.ping()).rejects.toThrow(/Session not found/);
    expect(errors[0]).toBeInstanceOf(StreamableHTTPError);
    expect((errors[0] as StreamableHTTPError).code).toBe(404);
    await connection.close();
  });

  it('resumes a POST stream the server ended before its answer with a GET carrying Last-Event-ID', async () => {
    const server = await sdkServer({ eventStore: true });
    const { sdk } = await client(server.url);
    const call = sdk.callTool({ name: 'poll' }, undefined, { timeout: 10_000 });
    const resumed = await waitFor(() => server.requests.find((r) => r.method === 'GET' && r.lastEventId), {
      what: 'a GET with Last-Event-ID',
    });
    server.open();
    expect(text(await call)).toBe('resumed');
    expect(resumed?.viaFetch).toBe(true);
  });

  it('releases every socket on close(), a streaming answer and idle keep-alive sockets alike', async () => {
    const server = await sdkServer();
    const connection = await connector.connect(serverConfig({ protocol: 'streamable-http', url: server.url }));
    await Promise.all([1, 2, 3].map((n) => connection.callTool('echo', { message: String(n) })));
    // Held open: the tool waits for a gate nobody opens.
    const pending = failure(connection.callTool('progress', {}));
    await waitFor(() => server.requests.some((r) => r.rpc === 'tools/call' && r.status === 200), {
      what: 'the streaming answer to start',
    });
    // The streaming answer's socket plus at least one idle keep-alive socket of earlier calls.
    expect(server.openSockets(true)).toBeGreaterThan(1);
    await connection.close();
    expect((await pending).code).toBe('CLOSED');
    // Ours close at once (fetch's, of the GET and DELETE, idle in undici's shared pool for its 4 s keep-alive).
    await waitFor(() => server.openSockets(true) === 0, { what: 'every node:http socket to close', timeoutMs: 2_500 });
  });
});

describe('lean POST path: server-everything', () => {
  it('answers exactly as the SDK path does (fetch injected)', async () => {
    const everything: EverythingHttp = await startEverythingHttp({ mode: 'streamableHttp' });
    cleanups.push(() => everything.stop());
    const url = everything.url('/mcp');
    const run = async (fetch?: typeof globalThis.fetch) => {
      const { sdk, upstream } = await client(url, { fetch });
      const tools = await sdk.listTools();
      const echo = await sdk.callTool({ name: 'echo', arguments: { message: 'same' } });
      const sum = await sdk.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
      await upstream.close();
      return { lean: upstream.transport instanceof LeanStreamableHttpTransport, tools, echo, sum };
    };
    const lean = await run();
    const sdkPath = await run((input, init) => globalThis.fetch(input, init));
    expect([lean.lean, sdkPath.lean]).toEqual([true, false]);
    expect(lean.tools).toEqual(sdkPath.tools);
    expect(lean.echo).toEqual(sdkPath.echo);
    expect(text(lean.sum)).toMatch(/5/);
    expect(lean.sum).toEqual(sdkPath.sum);
  });
});

describe('lean POST path: cut and oversized answers', () => {
  /** Answers every POST request with SSE headers and one progress event, then cuts the socket (no event ids). */
  const cutting: RequestListener = (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n\n');
    setImmediate(() => res.socket?.destroy());
  };

  for (const lean of [true, false]) {
    it(`fails a request whose stream is cut without event ids as before: onerror, no resume (${lean ? 'lean' : 'SDK'})`, async () => {
      const url = await rawServer(cutting);
      const viaFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);
      const upstream = openTransport(serverConfig({ protocol: 'streamable-http', url }), 'streamable-http', {
        fetch: lean ? undefined : viaFetch,
      });
      cleanups.push(() => upstream.close());
      const { transport } = upstream;
      const disconnected = nextCall<Error>();
      const messages: unknown[] = [];
      transport.onerror = (error) => {
        if (/SSE stream disconnected/.test(error.message)) disconnected.listener(error);
      };
      transport.onmessage = (message) => messages.push(message);
      await transport.start();
      await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } });
      await disconnected.called;
      expect(messages).toEqual([
        { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } },
      ]);
      expect(transport instanceof LeanStreamableHttpTransport).toBe(lean);
    });
  }

  it('fails the request with a clear error when one SSE event exceeds maxMessageSize', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { text: 'x'.repeat(5_000) } })}`);
      res.write('\n\n');
    });
    const upstream = openTransport(serverConfig({ protocol: 'streamable-http', url }), 'streamable-http', {
      maxMessageSize: 1_000,
    });
    cleanups.push(() => upstream.close());
    const answered = nextCall<unknown>();
    const errors: Error[] = [];
    upstream.transport.onmessage = answered.listener;
    upstream.transport.onerror = (e) => errors.push(e);
    await upstream.transport.start();
    await upstream.transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x' } });
    expect(await answered.called).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32603,
        message: 'an SSE event from the upstream exceeds 1000 characters (the answer was dropped)',
      },
    });
    expect(errors[0]?.message).toMatch(/exceeds 1000 characters/);
  });

  it('rejects the send when a JSON answer exceeds maxMessageSize', async () => {
    const url = await rawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(5_000) } }));
    });
    const upstream = openTransport(serverConfig({ protocol: 'streamable-http', url }), 'streamable-http', {
      maxMessageSize: 1_000,
    });
    cleanups.push(() => upstream.close());
    await upstream.transport.start();
    await expect(
      upstream.transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }),
    ).rejects.toThrow("the upstream's JSON answer exceeds 1000 characters");
  });
});
