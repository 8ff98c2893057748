import { Agent, request as httpRequest } from 'node:http';
import { silentLogger, systemClock } from '@mcpproxy/contracts';
import { type JSONRPCMessage, JSONRPCRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/app.js';
import { directRequest } from '../src/mcp/direct-post.js';
import { type McpSession, SessionTable } from '../src/mcp/sessions.js';
import { everythingEntry, startProxy, type TestProxy, waitReady } from './fixtures/mcp-harness.js';

// Issue 15: a session POST of one request that cannot stream is answered with one JSON body on the direct path
// (no SDK stream bookkeeping); everything else keeps the SDK transport's answers.

type Msg = JSONRPCMessage & Record<string, unknown>;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const PROTOCOL = '2025-06-18';
const init = (capabilities: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities, clientInfo: { name: 'raw', version: '1.0.0' } },
});

/** The JSON-RPC messages of an answer: its JSON body, or the `data:` of each event of its stream. */
function messagesOf(type: string, text: string): Msg[] {
  if (type.startsWith('application/json')) return [JSON.parse(text) as Msg];
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Msg);
}

/** Reads an open event stream's messages as they come. */
function listen(res: Response): { next(pred: (m: Msg) => boolean, ms?: number): Promise<Msg>; close(): void } {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const seen: Msg[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const events = buffer.split('\n\n');
      buffer = events.pop() ?? '';
      for (const event of events) seen.push(...messagesOf('text/event-stream', event));
      for (const wake of waiters) wake();
    }
  })();
  return {
    next: (pred, ms = 10_000) =>
      new Promise<Msg>((resolve, reject) => {
        const check = () => {
          const hit = seen.find(pred);
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error('no such message on the stream'));
        }, ms);
        waiters.add(check);
        check();
      }),
    close: () => void reader.cancel().catch(() => {}),
  };
}

describe('issue 15: JSON answers on /mcp/servers/{name} for requests that cannot stream', () => {
  let proxy: TestProxy;
  const path = '/mcp/servers/everything';

  async function open(capabilities: Record<string, unknown> = {}): Promise<string> {
    const res = await fetch(proxy.url + path, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify(init(capabilities)),
    });
    expect(res.status).toBe(200);
    await res.text();
    const sid = res.headers.get('mcp-session-id') as string;
    const ack = await post(sid, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(ack.status).toBe(202);
    return sid;
  }

  async function post(
    sid: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; type: string; messages: Msg[]; text: string }> {
    const res = await fetch(proxy.url + path, {
      method: 'POST',
      headers: { ...HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    const parsed = res.status === 200 ? messagesOf(type, text) : [];
    return { status: res.status, type, messages: parsed, text };
  }

  const standalone = (sid: string) =>
    fetch(proxy.url + path, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL },
    });
  const echo = (id: number, message: string, meta?: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'echo', arguments: { message }, ...(meta ? { _meta: meta } : {}) },
  });

  beforeAll(async () => {
    proxy = await startProxy({ config: { mcpServers: [everythingEntry()] } });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('answers a shared session in JSON while its standalone stream is open, in SSE without it; same result either way', async () => {
    const sid = await open();
    const streamed = await post(sid, echo(1, 'hi'));
    expect(streamed.type).toBe('text/event-stream');
    const get = await standalone(sid);
    expect(get.status).toBe(200);
    const stream = listen(get);
    try {
      const json = await post(sid, echo(1, 'hi'));
      expect(json.status).toBe(200);
      expect(json.type).toBe('application/json');
      expect(json.messages).toEqual(streamed.messages);
      expect(json.messages[0]).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'Echo: hi' }] } });
      // A tool the gate refuses answers in JSON too.
      const refused = await post(sid, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nope' } });
      expect(refused.type).toBe('application/json');
      expect(refused.messages[0]).toMatchObject({ id: 2, result: { isError: true } });
    } finally {
      stream.close();
      await fetch(proxy.url + path, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    }
  });

  it('streams a request that asks for progress, and the progress reaches the client', async () => {
    const sid = await open();
    const stream = listen(await standalone(sid));
    try {
      const res = await post(sid, {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: {
          name: 'trigger-long-running-operation',
          arguments: { duration: 0.2, steps: 2 },
          _meta: { progressToken: 'p-1' },
        },
      });
      expect(res.type).toBe('text/event-stream');
      const progress = res.messages.filter((m) => m.method === 'notifications/progress');
      expect(progress.map((m) => (m.params as { progressToken: unknown }).progressToken)).toEqual(['p-1', 'p-1']);
      expect(res.messages.at(-1)).toMatchObject({ id: 3, result: {} });
    } finally {
      stream.close();
      await fetch(proxy.url + path, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    }
  });

  it('streams every answer of a session with a link of its own (client capabilities), and of one that moved there', async () => {
    const own = await open({ sampling: {} });
    const ownStream = listen(await standalone(own));
    const shared = await open();
    const sharedStream = listen(await standalone(shared));
    try {
      expect((await post(own, echo(4, 'own'))).type).toBe('text/event-stream');
      expect((await post(shared, echo(5, 'shared'))).type).toBe('application/json');
      // logging/setLevel is per-connection state: the session moves onto a link of its own, and streams from then on.
      const level = await post(shared, {
        jsonrpc: '2.0',
        id: 6,
        method: 'logging/setLevel',
        params: { level: 'debug' },
      });
      expect(level.type).toBe('text/event-stream');
      expect(level.messages.at(-1)).toMatchObject({ id: 6, result: {} });
      const after = await post(shared, echo(7, 'moved'));
      expect(after.type).toBe('text/event-stream');
      expect(after.messages.at(-1)).toMatchObject({ id: 7, result: { content: [{ text: 'Echo: moved' }] } });
    } finally {
      ownStream.close();
      sharedStream.close();
      for (const sid of [own, shared]) {
        await fetch(proxy.url + path, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
      }
    }
  });

  it("keeps the transport's answers for every POST the direct path does not take", async () => {
    const sid = await open();
    const stream = listen(await standalone(sid));
    try {
      const noSse = await post(sid, echo(8, 'x'), { accept: 'application/json' });
      expect(noSse.status).toBe(406);
      expect(JSON.parse(noSse.text)).toMatchObject({ error: { code: -32000 } });
      expect((await post(sid, echo(8, 'x'), { 'content-type': 'text/plain' })).status).toBe(415);
      const version = await post(sid, echo(8, 'x'), { 'mcp-protocol-version': '1999-01-01' });
      expect(version.status).toBe(400);
      expect(JSON.parse(version.text).error.message).toMatch(/Unsupported protocol version/);
      const broken = await post(sid, '{"jsonrpc":');
      expect(broken.status).toBe(400);
      expect(JSON.parse(broken.text)).toMatchObject({ error: { code: -32700, message: 'Parse error: Invalid JSON' } });
      const invalid = await post(sid, { jsonrpc: '2.0', id: 8, method: 'tools/call', extra: 1 });
      expect(invalid.status).toBe(400);
      expect(JSON.parse(invalid.text)).toMatchObject({ error: { code: -32700 } });
      const again = await post(sid, init());
      expect(again.status).toBe(400);
      expect(JSON.parse(again.text).error.message).toMatch(/already initialized/);
      expect((await post(sid, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' })).status).toBe(202);
      // A batch goes through the transport: one stream with both answers.
      const batch = await post(sid, [echo(9, 'a'), echo(10, 'b')]);
      expect(batch.type).toBe('text/event-stream');
      expect(batch.messages.map((m) => Number(m.id)).sort((a, b) => a - b)).toEqual([9, 10]);
    } finally {
      stream.close();
      await fetch(proxy.url + path, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    }
  });

  it('reads an MCP body once from the socket: the connection is reused, and a declared length over the limit is 413 + close', async () => {
    const sid = await open();
    const stream = listen(await standalone(sid));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const raw = (body: string, length = Buffer.byteLength(body)) =>
      new Promise<{ status: number; connection?: string; reused: boolean; text: string }>((resolve, reject) => {
        const req = httpRequest(`${proxy.url}${path}`, {
          method: 'POST',
          agent,
          headers: {
            ...HEADERS,
            'mcp-session-id': sid,
            'mcp-protocol-version': PROTOCOL,
            'content-length': String(length),
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              connection: res.headers.connection,
              reused: req.reusedSocket,
              text,
            }),
          );
        });
        req.on('error', reject);
        // Over the limit only the head is sent: the answer must not wait for a body it will not read.
        req.end(length > MAX_BODY_BYTES ? undefined : body);
      });
    try {
      const first = await raw(JSON.stringify(echo(11, 'one')));
      expect(first.status).toBe(200);
      expect(JSON.parse(first.text)).toMatchObject({ id: 11 });
      const second = await raw(JSON.stringify(echo(12, 'two')));
      expect(second.reused).toBe(true);
      expect(JSON.parse(second.text)).toMatchObject({ id: 12 });
      const big = await raw('', MAX_BODY_BYTES + 1);
      expect(big.status).toBe(413);
      expect(big.connection).toBe('close');
      expect(JSON.parse(big.text)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } finally {
      agent.destroy();
      stream.close();
      await fetch(proxy.url + path, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
    }
  });
});

describe('issue 15: the direct path of a session (SessionTable)', () => {
  const URL_ = 'http://127.0.0.1/mcp/test';
  let table: SessionTable;
  let session: McpSession | undefined;
  /** Requests the fake endpoint holds unanswered. */
  const held: Msg[] = [];

  const handle = (req: Request) =>
    table.handle(req, 'k', (s) => {
      session = s;
      const t = s.transport;
      t.onmessage = (message) => {
        const m = message as Msg & { id?: number; method?: string; params?: { name?: string } };
        if (m.id === undefined || m.method === undefined) return;
        if (m.method === 'initialize') {
          void t.send({
            jsonrpc: '2.0',
            id: m.id,
            result: { protocolVersion: PROTOCOL, capabilities: {}, serverInfo: { name: 'fake', version: '1' } },
          });
        } else if (m.params?.name === 'hold') held.push(m);
        else {
          // A log message tied to the request, then its answer.
          void t.send(
            { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `for ${m.id}` } },
            { relatedRequestId: m.id },
          );
          void t.send({ jsonrpc: '2.0', id: m.id, result: { ok: m.id } });
        }
      };
      return { close: () => {}, answersAsJson: () => true };
    });
  const post = (sid: string | undefined, body: unknown) =>
    handle(
      new Request(URL_, {
        method: 'POST',
        headers: { ...HEADERS, ...(sid ? { 'mcp-session-id': sid } : {}) },
        body: JSON.stringify(body),
      }),
    );
  const call = (id: number, name = 'x') => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });

  async function openWithStream(): Promise<{ sid: string; stream: ReturnType<typeof listen> }> {
    const res = await post(undefined, init());
    await res.text();
    const sid = res.headers.get('mcp-session-id') as string;
    const get = await handle(new Request(URL_, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid } }));
    expect(get.status).toBe(200);
    expect(session?.listening).toBe(true);
    return { sid, stream: listen(get) };
  }

  beforeAll(() => {
    table = new SessionTable({
      label: 'test',
      clock: systemClock,
      logger: silentLogger,
      idleMs: 60_000,
      unusedMs: 60_000,
      maxSessions: 10,
      eventBuffer: 0,
      retryIntervalMs: 1000,
    });
  });
  afterAll(() => table.close());

  it('answers in JSON and sends a message tied to the request on the standalone stream instead', async () => {
    const { sid, stream } = await openWithStream();
    try {
      const res = await post(sid, call(1));
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('mcp-session-id')).toBe(sid);
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { ok: 1 } });
      const log = await stream.next((m) => m.method === 'notifications/message');
      expect(log.params).toEqual({ level: 'info', data: 'for 1' });
      expect(session?.busy).toBe(true); // the stream is open
    } finally {
      stream.close();
      await table.endSession(sid);
    }
  });

  it('ends a waiting request cancelled by the client, and those waiting when the session ends, as an empty stream', async () => {
    const { sid, stream } = await openWithStream();
    try {
      const cancelled = post(sid, call(2, 'hold'));
      const ended = post(sid, call(3, 'hold'));
      const ack = await post(sid, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
      expect(ack.status).toBe(202);
      const first = await cancelled;
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('text/event-stream');
      expect(await first.text()).toBe('');
      await table.endSession(sid);
      const second = await ended;
      expect(second.headers.get('content-type')).toBe('text/event-stream');
      expect(await second.text()).toBe('');
      expect(held.map((m) => m.id)).toEqual([2, 3]);
    } finally {
      stream.close();
    }
  });
});

describe('issue 15: which POST bodies take the direct path', () => {
  const req = (headers: Record<string, string> = {}) =>
    new Request('http://127.0.0.1/mcp', { method: 'POST', headers: { ...HEADERS, ...headers } });
  const ok = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { a: [1] } } };
  const bodies: unknown[] = [
    ok,
    { ...ok, id: 'abc' },
    { ...ok, id: '' },
    { ...ok, id: -7 },
    { ...ok, id: 1.5 },
    { ...ok, id: 2 ** 53 },
    { ...ok, id: null },
    { ...ok, jsonrpc: '1.0' },
    { ...ok, method: 3 },
    { ...ok, extra: true },
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { ...ok, params: [] },
    { ...ok, params: null },
    { ...ok, params: { _meta: { progressToken: 'p' } } },
    { ...ok, params: { _meta: { progressToken: 1.5 } } },
    { ...ok, params: { _meta: 'x' } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 1, result: {} },
  ];
  it('takes exactly the bodies the transport accepts as one request, as the transport parses them', () => {
    for (const body of bodies) {
      const parsed = JSONRPCRequestSchema.safeParse(body);
      expect(directRequest(req(), body), JSON.stringify(body)).toEqual(parsed.success ? parsed.data : undefined);
    }
  });
  it('leaves initialize, batches and requests the transport would refuse by their headers to the transport', () => {
    expect(directRequest(req(), { ...ok, method: 'initialize' })).toBeUndefined();
    expect(directRequest(req(), [ok])).toBeUndefined();
    expect(directRequest(req({ accept: 'application/json' }), ok)).toBeUndefined();
    expect(directRequest(req({ accept: 'text/event-stream' }), ok)).toBeUndefined();
    expect(directRequest(req({ 'content-type': 'text/plain' }), ok)).toBeUndefined();
    expect(directRequest(req({ 'mcp-protocol-version': '1999-01-01' }), ok)).toBeUndefined();
    expect(directRequest(req({ 'content-type': 'application/json; charset=utf-8' }), ok)).toEqual(ok);
    expect(directRequest(req({ 'mcp-protocol-version': PROTOCOL }), ok)).toEqual(ok);
  });
});
