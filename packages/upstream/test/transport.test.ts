// openTransport (the raw transport under the connector and the server's /mcp/servers/{name} link) and the
// per-request abort signals of HTTP transports. Real server-everything over Streamable HTTP, SSE and stdio, plus a
// tiny in-process HTTP server; every socket binds 127.0.0.1 and is closed after its test.
import { getEventListeners } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EverythingHttp, everythingEntry, startEverythingHttp, waitFor } from '@mcpproxy/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownSignalFetch } from '../src/http.js';
import { createConnector, openTransport } from '../src/index.js';
import { failure, processAlive, serverConfig } from './helpers.js';

/** A fetch that records every request's method, headers and signal before handing it to the real fetch. */
function recordingFetch() {
  const requests: Array<{ method: string; headers: Headers; signal: AbortSignal | undefined }> = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    requests.push({
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      signal: init?.signal ?? undefined,
    });
    return globalThis.fetch(input, init);
  };
  return { fetch, requests };
}

/** Collects the MaxListenersExceeded warnings Node emits until `stop()`. */
function watchListenerWarnings() {
  const seen: Error[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'MaxListenersExceededWarning') seen.push(warning);
  };
  process.on('warning', onWarning);
  return { seen, stop: () => process.off('warning', onWarning) };
}

/** An in-process HTTP server on 127.0.0.1:0. */
async function httpServer(handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const newClient = () => new Client({ name: 'transport-test', version: '0' });

describe('Streamable HTTP: per-request abort signals', () => {
  let everything: EverythingHttp;
  beforeAll(async () => {
    everything = await startEverythingHttp({ mode: 'streamableHttp' });
  });
  afterAll(async () => {
    await everything?.stop();
  });

  // Regression: the SDK hands one AbortSignal to every fetch of a connection and undici drops its listener only when
  // the request is garbage-collected, so the actor's long-lived connection piled up thousands of listeners
  // (MaxListenersExceededWarning after ~1,500 calls, and slower calls). The 120 s is an outer bound, not a pace: the
  // 2,000 real round trips take ~20 s on two cores shared with other work (30 s timed out under load).
  it('keeps abort listeners bounded over 2,000 calls on one connection (MaxListenersExceeded under load)', async () => {
    const { fetch, requests } = recordingFetch();
    const warnings = watchListenerWarnings();
    const connection = await createConnector({ fetch, defaultInitTimeoutMs: 10_000 }).connect(
      serverConfig({ protocol: 'streamable-http', url: everything.url('/mcp') }),
    );
    try {
      // 25 in flight at a time: more than the 10 listeners Node tolerates on a signal before it warns.
      for (let round = 0; round < 80; round++) {
        await Promise.all(Array.from({ length: 25 }, () => connection.ping()));
      }
      const posts = requests.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThanOrEqual(2_000);
      // The abort listeners left on any signal fetch was given stay a handful (it was one per call)…
      const signals = new Set(requests.map((r) => r.signal));
      expect(signals.has(undefined)).toBe(false);
      const most = Math.max(...[...signals].map((s) => getEventListeners(s as AbortSignal, 'abort').length));
      expect(most).toBeLessThanOrEqual(2);
      expect(warnings.seen).toEqual([]);
      // …because no signal is handed to fetch twice.
      expect(signals.size).toBe(requests.length);
    } finally {
      warnings.stop();
      await connection.close();
    }
  }, 120_000);

  it('sends the session DELETE on close and the negotiated protocol version on later requests', async () => {
    const { fetch, requests } = recordingFetch();
    const upstream = openTransport(serverConfig({ protocol: 'http', url: everything.url('/mcp') }), 'streamable-http', {
      fetch,
    });
    expect(upstream.protocol).toBe('streamable-http');
    expect(upstream.pid).toBeUndefined();
    expect(upstream.stderrTail()).toEqual([]);
    const client = newClient();
    let closed = false;
    upstream.transport.onclose = () => {
      closed = true;
    };
    await client.connect(upstream.transport);
    upstream.setProtocolVersion('2025-03-26');
    await client.ping();
    expect(requests.at(-1)?.headers.get('mcp-protocol-version')).toBe('2025-03-26');
    const session = requests.at(-1)?.headers.get('mcp-session-id');
    expect(session).toBeTruthy();

    await upstream.close();
    const deletes = requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.headers.get('mcp-session-id'))).toEqual([session]);
    expect(closed).toBe(true);
    await upstream.close(); // idempotent
    expect(requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });
});

describe('SSE: per-request abort signals', () => {
  let everything: EverythingHttp;
  beforeAll(async () => {
    everything = await startEverythingHttp({ mode: 'sse' });
  });
  afterAll(async () => {
    await everything?.stop();
  });

  it('gives every SSE POST a signal of its own', async () => {
    const { fetch, requests } = recordingFetch();
    const connection = await createConnector({ fetch, defaultInitTimeoutMs: 10_000 }).connect(
      serverConfig({ protocol: 'sse', url: everything.url('/sse') }),
    );
    try {
      for (let i = 0; i < 50; i++) await connection.ping();
      expect(requests.filter((r) => r.method === 'POST').length).toBeGreaterThanOrEqual(50);
      const signals = new Set(requests.map((r) => r.signal));
      expect(signals.has(undefined)).toBe(false);
      expect(signals.size).toBe(requests.length);
    } finally {
      await connection.close();
    }
  });
});

describe('ownSignalFetch', () => {
  it('cancels a streamed POST response when its transport closes, not only a request awaiting headers', async () => {
    let bodyClosed = false;
    const server = await httpServer((req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      // Headers now, the answer never: an SSE response to a request that runs on and on.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      res.on('close', () => {
        bodyClosed = true;
      });
    });
    try {
      const upstream = openTransport(serverConfig({ url: `${server.url}/mcp` }), 'streamable-http');
      await upstream.transport.start();
      // send() resolves once the response headers arrived; the body is read in the background.
      await upstream.transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
      expect(bodyClosed).toBe(false);
      await upstream.close();
      await waitFor(() => bodyClosed, { what: 'the streamed response to be cancelled' });
    } finally {
      await server.close();
    }
  });

  it('links each request to the shared signal until its body is done, with one listener for all of them', async () => {
    const bodies = new Map<AbortSignal, ReadableStreamDefaultController<Uint8Array>>();
    const base: typeof fetch = async (_input, init) => {
      const signal = init?.signal as AbortSignal;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          bodies.set(signal, controller);
          signal.addEventListener('abort', () => controller.error(signal.reason), { once: true });
        },
      });
      return new Response(body, { status: 200 });
    };
    const wrapped = ownSignalFetch(base);
    const shared = new AbortController();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => wrapped('http://upstream.test/', { method: 'POST', signal: shared.signal })),
    );
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    const signals = [...bodies.keys()];
    expect(new Set(signals).size).toBe(20);
    expect(signals).not.toContain(shared.signal);

    // The first body is read to the end: that request no longer belongs to the shared signal.
    const [first, ...rest] = signals as [AbortSignal, ...AbortSignal[]];
    bodies.get(first)?.enqueue(new TextEncoder().encode('done'));
    bodies.get(first)?.close();
    expect(await responses[0]?.text()).toBe('done');

    shared.abort(new Error('transport closed'));
    expect(first.aborted).toBe(false);
    for (const signal of rest) expect(signal.aborted).toBe(true);
    await expect(responses[1]?.text()).rejects.toThrow('transport closed');
  });
});

describe('openTransport: stdio', () => {
  it('spawns nothing until start, then runs the upstream and ends its process group on close', async () => {
    const upstream = openTransport(
      serverConfig({ command: process.execPath, args: [everythingEntry, 'stdio'] }),
      'stdio',
      { env: process.env, killGraceMs: 500 },
    );
    expect(upstream.protocol).toBe('stdio');
    expect(upstream.pid).toBeUndefined();
    const client = newClient();
    let pid: number | undefined;
    try {
      await client.connect(upstream.transport);
      pid = upstream.pid;
      expect(pid).toBeGreaterThan(0);
      expect(processAlive(pid as number)).toBe(true);
      await client.ping();
      upstream.setProtocolVersion('2025-03-26'); // a no-op for stdio
    } finally {
      await upstream.close();
    }
    expect(processAlive(pid as number)).toBe(false);
    await upstream.close(); // idempotent
  });

  it('rejects start with COMMAND_NOT_FOUND for a command that does not exist', async () => {
    const upstream = openTransport(serverConfig({ command: 'mcpproxy-no-such-command' }), 'stdio');
    const error = await failure(upstream.transport.start());
    expect(error.code).toBe('COMMAND_NOT_FOUND');
    expect(upstream.pid).toBeUndefined();
    await upstream.close();
  });

  it('throws CONNECT_FAILED when the server lacks what the protocol needs', () => {
    const http = serverConfig({ url: 'http://127.0.0.1:1/mcp' });
    const stdio = serverConfig({ command: 'true' });
    for (const open of [() => openTransport(http, 'stdio'), () => openTransport(stdio, 'sse')]) {
      let thrown: unknown;
      try {
        open();
      } catch (error) {
        thrown = error;
      }
      expect((thrown as { code?: string }).code).toBe('CONNECT_FAILED');
    }
  });
});
