import { createFakeClock, type FakeClock, silentLogger } from '@mcpproxy/contracts';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callSignal, type DirectDispatch, directToolCalls, dispatchController } from '../src/mcp/direct-dispatch.js';
import { answerInvalidParams } from '../src/mcp/invalid-params.js';
import { type McpSession, SessionTable } from '../src/mcp/sessions.js';
import {
  connectClient,
  everythingEntry,
  nextEvent,
  startProxy,
  type TestProxy,
  waitFor,
  waitReady,
} from './fixtures/mcp-harness.js';

// Issue 15: on the direct path, `/mcp` and `/mcp/all` run a `tools/call` on their own handler without the SDK's
// protocol layer. Each case runs the same requests on a session that dispatches directly and on one that hands
// everything to the SDK, and the two must answer the same bytes.

const URL_ = 'http://127.0.0.1/mcp/test';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
};

/** A held call: its extra's signal, and how it was aborted. */
interface Held {
  signal: AbortSignal;
  aborted: Promise<unknown>;
  /** Answers the call. */
  release(): void;
}

/** An SDK server set up as `/mcp/all`'s is (params checked by answerInvalidParams), with tools that fail each way. */
function testServer(held: Held[]): Server {
  const server = new Server({ name: 'test', version: '1.0.0' }, { capabilities: { tools: {}, logging: {} } });
  answerInvalidParams(server);
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    switch (request.params.name) {
      case 'ok':
        return { content: [{ type: 'text', text: JSON.stringify(request.params.arguments ?? null) }] };
      case 'extra':
        return {
          content: [],
          structuredContent: {
            session: extra.sessionId === undefined ? 'none' : 'set',
            requestId: extra.requestId,
            host: extra.requestInfo?.headers.host ?? null,
            url: extra.requestInfo?.url?.pathname ?? null,
            meta: extra._meta ?? null,
          },
        };
      case 'mcp-error':
        throw new McpError(-32042, 'needs something', { why: 'data kept' });
      case 'error':
        throw new Error('boom');
      case 'odd-code':
        throw Object.assign(new Error('odd'), { code: 1.5, data: [1] });
      case 'not-an-error':
        throw 'plain text';
      case 'notify':
        // Sent before the handler's first await: the session must already know the request waits for JSON.
        void extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'at once' } });
        return { content: [{ type: 'text', text: 'notified' }] };
      case 'hold': {
        const signal = extra.signal;
        const aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        held.push({ signal, aborted, release });
        await Promise.race([aborted, released]);
        return { content: [{ type: 'text', text: signal.aborted ? 'too late' : 'released' }] };
      }
      default:
        return { content: [], isError: true };
    }
  });
  return server;
}

interface Endpoint {
  table: SessionTable;
  session(): McpSession;
  post(body: unknown): Promise<Response>;
  stream(): Promise<Response>;
  /** Requests the direct dispatch took. */
  taken: unknown[];
  held: Held[];
}

const tables: SessionTable[] = [];
afterEach(async () => {
  await Promise.all(tables.splice(0).map((t) => t.close()));
});

/** A session table of one endpoint whose sessions dispatch `tools/call` directly (or, `direct: false`, never). */
async function endpoint({ direct, clock = createFakeClock() }: { direct: boolean; clock?: FakeClock }) {
  const table = new SessionTable({
    label: 'test',
    clock,
    logger: silentLogger,
    idleMs: 100_000,
    unusedMs: 1_000,
    maxSessions: 10,
    eventBuffer: 0,
    retryIntervalMs: 1_000,
    jsonAnswers: true,
  });
  tables.push(table);
  const taken: unknown[] = [];
  const held: Held[] = [];
  let current: McpSession | undefined;
  const handle = (req: Request) =>
    table.handle(req, 'k', async (session) => {
      current = session;
      const server = testServer(held);
      await server.connect(session.transport);
      const own = directToolCalls(server);
      const dispatch: DirectDispatch = (request, context) => {
        const answer = own(request, context);
        if (answer) taken.push(request);
        return answer;
      };
      return { close: () => server.close(), ...(direct ? { dispatch } : {}) };
    });
  let sid: string | undefined;
  const post = (body: unknown) =>
    handle(
      new Request(URL_, {
        method: 'POST',
        headers: { ...HEADERS, host: 'proxy.test', ...(sid ? { 'mcp-session-id': sid } : {}) },
        body: JSON.stringify(body),
      }),
    );
  /** Opens the standalone GET stream of the session. */
  const stream = () =>
    handle(
      new Request(URL_, { headers: { accept: 'text/event-stream', host: 'proxy.test', 'mcp-session-id': sid ?? '' } }),
    );
  const opened = await post(INIT);
  await opened.text();
  sid = opened.headers.get('mcp-session-id') ?? undefined;
  expect(sid).toBeTruthy();
  expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
  const session = () => current as McpSession;
  return { table, session, post, stream, taken, held } satisfies Endpoint;
}

/** Status, content type and body of an answer, with the session id masked (it differs between sessions). */
async function shape(res: Response, sid: string | undefined) {
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    sid: res.headers.get('mcp-session-id') === sid ? 'same' : res.headers.get('mcp-session-id'),
    text,
  };
}

/** A JSON-RPC answer as the tests read it. */
interface Answer {
  result: { content?: unknown; structuredContent?: unknown };
  error: { code: number; message: string; data?: unknown };
}
const answerOf = async (res: Response) => (await res.json()) as Answer;

const call = (id: number | string, params: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params,
});

describe('issue 15: tools/call dispatched without the SDK protocol layer', () => {
  it("answers every result and error with the same bytes as the SDK's protocol layer", async () => {
    const direct = await endpoint({ direct: true });
    const sdk = await endpoint({ direct: false });
    const bodies = [
      call(1, { name: 'ok', arguments: { a: [1, 'two'], b: { c: null } } }),
      call('s-2', { name: 'extra', _meta: { progressToken: 'p' } }),
      call(3, { name: 'mcp-error' }),
      call(4, { name: 'error' }),
      call(5, { name: 'odd-code' }),
      call(6, { name: 'not-an-error' }),
      call(7, { name: 5 }),
      call(8, { name: 'ok', arguments: 'text' }),
      call(9, {}),
    ];
    for (const body of bodies) {
      const a = await shape(await direct.post(body), direct.session().id);
      const b = await shape(await sdk.post(body), sdk.session().id);
      expect(a, JSON.stringify(body)).toEqual(b);
      expect(a.type).toBe('application/json');
    }
    expect(direct.taken).toHaveLength(bodies.length);
    expect(sdk.taken).toHaveLength(0);
    // What the handlers saw and threw made it into the answers as the SDK maps them.
    const [extra, mcpError, odd, notError, badName] = await Promise.all(
      [1, 2, 4, 5, 6].map(async (i) => answerOf(await direct.post(bodies[i]))),
    );
    expect(extra?.result.structuredContent).toEqual({
      session: 'set',
      requestId: 's-2',
      host: 'proxy.test',
      url: '/mcp/test',
      meta: { progressToken: 'p' },
    });
    expect(mcpError?.error).toEqual({
      code: -32042,
      message: 'MCP error -32042: needs something',
      data: { why: 'data kept' },
    });
    expect(odd?.error).toEqual({ code: -32603, message: 'odd', data: [1] });
    expect(notError?.error).toEqual({ code: -32603, message: 'Internal error' });
    expect(badName?.error.code).toBe(-32602);
    expect(badName?.error.message).toMatch(/^MCP error -32602: Invalid tools\/call request: params\.name: /);
  });

  it('leaves everything but a plain tools/call to the SDK, with the same answers', async () => {
    const direct = await endpoint({ direct: true });
    const sdk = await endpoint({ direct: false });
    const bodies = [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { jsonrpc: '2.0', id: 3, method: 'resources/list' },
      call(4, { name: 'ok', task: { ttl: 1000 } }),
      call(5, { name: 'ok', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } }),
    ];
    for (const body of bodies) {
      const a = await shape(await direct.post(body), direct.session().id);
      const b = await shape(await sdk.post(body), sdk.session().id);
      expect(a, JSON.stringify(body)).toEqual(b);
    }
    expect(direct.taken).toHaveLength(0);
  });

  it('sends a message a handler ties to its request on the standalone stream, even one sent at once', async () => {
    const ep = await endpoint({ direct: true });
    const get = await ep.stream();
    expect(get.headers.get('content-type')).toBe('text/event-stream');
    const reader = (get.body as ReadableStream<Uint8Array>).getReader();
    try {
      const res = await ep.post(call(1, { name: 'notify' }));
      expect(res.headers.get('content-type')).toBe('application/json');
      expect((await answerOf(res)).result.content).toEqual([{ type: 'text', text: 'notified' }]);
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('at once')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toContain('"method":"notifications/message"');
      expect(ep.taken).toHaveLength(1);
    } finally {
      await reader.cancel();
    }
  });

  it('aborts a dispatched call cancelled by the client (with its reason) and ends its HTTP request as an empty stream', async () => {
    const clock = createFakeClock();
    const ep = await endpoint({ direct: true, clock });
    const pending = ep.post(call(10, { name: 'hold' }));
    await expect.poll(() => ep.held.length).toBe(1);
    expect(ep.session().busy).toBe(true);
    const ack = await ep.post({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 10, reason: 'user gave up' },
    });
    expect(ack.status).toBe(202);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('');
    expect(await ep.held[0]?.aborted).toBe('user gave up');
    expect(ep.session().busy).toBe(false);
    // The same id may be used again, and is answered.
    const again = await ep.post(call(10, { name: 'ok' }));
    expect((await answerOf(again)).result.content).toEqual([{ type: 'text', text: 'null' }]);
    expect(ep.session().busy).toBe(false);
  });

  it('aborts the dispatched calls of a session that ends, and ends their HTTP requests', async () => {
    const ep = await endpoint({ direct: true });
    const pending = [ep.post(call(1, { name: 'hold' })), ep.post(call(2, { name: 'hold' }))];
    await expect.poll(() => ep.held.length).toBe(2);
    await ep.session().end('deleted');
    for (const res of await Promise.all(pending)) {
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(await res.text()).toBe('');
    }
    for (const h of ep.held) {
      expect(h.signal.aborted).toBe(true);
      expect(String(await h.aborted)).toMatch(/session ended \(deleted\)/);
    }
  });

  it('keeps the session bookkeeping: busy while a call is in flight, active when answered, used after one call', async () => {
    const clock = createFakeClock();
    const used = await endpoint({ direct: true, clock });
    clock.advance(500);
    const pending = used.post(call(1, { name: 'hold' }));
    await expect.poll(() => used.held.length).toBe(1);
    expect(used.session().busy).toBe(true);
    expect(used.session().lastActive).toBe(clock.now());
    // A busy session is never expired, however long its call takes.
    clock.advance(200_000);
    used.table.expire();
    expect(used.table.stats()).toMatchObject({ sessions: 1, expired: 0 });
    void used.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await (await pending).text();
    expect(used.session().busy).toBe(false);
    const never = await endpoint({ direct: true, clock });
    const answered = used.post(call(2, { name: 'hold' }));
    await expect.poll(() => used.held.length).toBe(2);
    clock.advance(700);
    used.held[1]?.release();
    expect((await answerOf(await answered)).result.content).toEqual([{ type: 'text', text: 'released' }]);
    expect(used.session().busy).toBe(false);
    expect(used.session().lastActive).toBe(clock.now());
    // Past `unusedMs` but within `idleMs`: the session that called a tool stays, the one that never did ends.
    clock.advance(5_000);
    used.table.expire();
    never.table.expire();
    expect(used.table.stats()).toMatchObject({ sessions: 1, expired: 0 });
    expect(never.table.stats()).toMatchObject({ sessions: 0, expired: 1 });
  });
});

describe('issue 15: the signal of an upstream call made for a request', () => {
  it("combines the session's signal with the SDK's request signal, and takes a dispatched request's as it is", () => {
    const session = new AbortController();
    const sdk = new AbortController();
    const combined = callSignal(session.signal, sdk.signal);
    expect(combined).not.toBe(sdk.signal);
    session.abort('ended');
    expect(combined.aborted).toBe(true);
    expect(combined.reason).toBe('ended');
    // The session aborts a dispatched request's controller itself when it ends (tested above).
    const dispatched = dispatchController();
    expect(callSignal(new AbortController().signal, dispatched.signal)).toBe(dispatched.signal);
    expect(callSignal(undefined, sdk.signal)).toBe(sdk.signal);
  });
});

describe('issue 15: a client cancelling a call on /mcp and /mcp/all cancels the upstream call', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ config: { mcpServers: [everythingEntry()] } });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const cases = [
    {
      path: '/mcp',
      request: {
        name: 'call_tool',
        arguments: { name: 'everything:trigger-long-running-operation', args: { duration: 30, steps: 3 } },
      },
    },
    {
      path: '/mcp/all',
      request: { name: 'everything__trigger-long-running-operation', arguments: { duration: 30, steps: 3 } },
    },
  ];
  for (const { path, request } of cases) {
    it(`${path}: notifications/cancelled aborts the upstream call, and the session answers afterwards`, async () => {
      const c = await connectClient(proxy.url, path);
      try {
        const actor = proxy.running.services.supervisor.getActor('everything');
        const done = nextEvent(
          proxy.bus,
          'tool_called',
          (e) => e.server === 'everything' && e.data.tool === 'trigger-long-running-operation',
        );
        const abort = new AbortController();
        const call = c.client.callTool(request, undefined, { signal: abort.signal }).then(
          () => 'answered',
          () => 'rejected',
        );
        await waitFor(() => actor?.pendingCalls() === 1, 'the call to be in flight');
        abort.abort('enough');
        expect(await call).toBe('rejected');
        const event = await done;
        expect(event.data.status).toBe('error');
        expect(event.data.duration_ms).toBeLessThan(10_000);
        expect(actor?.pendingCalls()).toBe(0);
        const echo =
          path === '/mcp'
            ? await c.client.callTool({
                name: 'call_tool',
                arguments: { name: 'everything:echo', args: { message: 'hi' } },
              })
            : await c.client.callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
        expect(JSON.stringify(echo.content)).toContain('hi');
      } finally {
        await c.close();
      }
    });
  }
});
