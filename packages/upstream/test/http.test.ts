// HTTP upstreams: server-everything in Streamable HTTP and SSE modes, plus tiny in-process HTTP servers for
// auth failures and hangs. Every socket binds 127.0.0.1 and is closed after its test.
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EverythingHttp, freePort, startEverythingHttp, waitFor } from '@mcpproxy/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, createConnector } from '../src/index.js';
import { failure, serverConfig } from './helpers.js';

const connector = createConnector({ defaultInitTimeoutMs: 10_000 });

async function echo(connection: Connection, message: string): Promise<string> {
  const result = await connection.callTool('echo', { message });
  return (result.content[0] as { text: string }).text;
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

describe('Streamable HTTP upstream: server-everything', () => {
  let everything: EverythingHttp;
  beforeAll(async () => {
    everything = await startEverythingHttp({ mode: 'streamableHttp' });
  });
  afterAll(async () => {
    await everything?.stop();
  });

  for (const protocol of ['streamable-http', 'http', 'auto'] as const) {
    it(`connects with protocol ${protocol}, lists tools, answers echo and pings`, async () => {
      const connection = await connector.connect(serverConfig({ protocol, url: everything.url('/mcp') }));
      try {
        expect(connection.protocol).toBe('streamable-http');
        expect(connection.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
        expect(await echo(connection, `over ${protocol}`)).toBe(`Echo: over ${protocol}`);
        await expect(connection.ping()).resolves.toBeUndefined();
        expect(connection.pid).toBeUndefined();
        expect(connection.stderrTail()).toEqual([]);
      } finally {
        await connection.close();
      }
      expect((await failure(connection.ping())).code).toBe('CLOSED');
    });
  }
});

describe('SSE upstream: server-everything', () => {
  let everything: EverythingHttp;
  beforeAll(async () => {
    everything = await startEverythingHttp({ mode: 'sse' });
  });
  afterAll(async () => {
    await everything?.stop();
  });

  it('connects with protocol sse and answers echo', async () => {
    const connection = await connector.connect(serverConfig({ protocol: 'sse', url: everything.url('/sse') }));
    try {
      expect(connection.protocol).toBe('sse');
      expect(await echo(connection, 'legacy')).toBe('Echo: legacy');
    } finally {
      await connection.close();
    }
  });

  it('falls back from Streamable HTTP to SSE under auto', async () => {
    const connection = await connector.connect(serverConfig({ protocol: 'auto', url: everything.url('/sse') }));
    try {
      expect(connection.protocol).toBe('sse');
      expect(await echo(connection, 'fallback')).toBe('Echo: fallback');
    } finally {
      await connection.close();
    }
  });
});

describe('HTTP upstream failures', () => {
  it('fails with CONNECT_FAILED naming the URL when nobody listens', async () => {
    const port = await freePort();
    for (const protocol of ['streamable-http', 'sse', 'auto'] as const) {
      const url = `http://127.0.0.1:${port}/mcp`;
      const error = await failure(connector.connect(serverConfig({ protocol, url })));
      expect(error.code).toBe('CONNECT_FAILED');
      expect(error.message).toContain(url);
    }
  });

  it('keeps URL credentials and header values out of error messages and log lines', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const record = (msg: string, fields?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(fields)}`);
    const logging = createConnector({ logger: { debug: record, info: record, warn: record, error: record } });
    for (const protocol of ['streamable-http', 'sse', 'auto'] as const) {
      const config = serverConfig({
        protocol,
        url: `http://alice:hunter2@127.0.0.1:${port}/mcp?api_key=sk-live-123`,
        headers: { Authorization: 'Bearer tok-secret-456' },
      });
      const error = await failure(logging.connect(config));
      expect(error.code).toBe('CONNECT_FAILED');
      expect(error.message).toContain(`127.0.0.1:${port}/mcp`);
      for (const secret of ['hunter2', 'sk-live-123', 'tok-secret-456']) expect(error.message).not.toContain(secret);
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of ['hunter2', 'sk-live-123', 'tok-secret-456']) expect(lines.join('\n')).not.toContain(secret);
  });

  it('sends credentials from the URL as a Basic Authorization header, never in messages', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = await httpServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401).end();
    });
    try {
      const url = new URL(`${server.url}/mcp?token=query-secret-789`);
      url.username = 'alice';
      url.password = 'hunter2';
      const error = await failure(connector.connect(serverConfig({ protocol: 'streamable-http', url: url.href })));
      expect(error.code).toBe('AUTH_REQUIRED');
      expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from('alice:hunter2').toString('base64')}`);
      for (const secret of ['hunter2', 'query-secret-789']) expect(error.message).not.toContain(secret);
    } finally {
      await server.close();
    }
  });

  it('fails with AUTH_REQUIRED on 401 and 403, after sending the configured headers', async () => {
    for (const status of [401, 403]) {
      const seen: IncomingHttpHeaders[] = [];
      const server = await httpServer((req, res) => {
        seen.push(req.headers);
        res.writeHead(status, { 'content-type': 'text/plain' }).end('no');
      });
      try {
        for (const protocol of ['streamable-http', 'sse', 'auto'] as const) {
          const config = serverConfig({
            protocol,
            url: `${server.url}/mcp`,
            headers: { Authorization: 'Bearer tok-secret-456', 'X-Team': 'blue' },
          });
          const error = await failure(connector.connect(config));
          expect(error.code).toBe('AUTH_REQUIRED');
          expect(error.message).not.toContain('tok-secret-456');
        }
        expect(seen.length).toBeGreaterThanOrEqual(3);
        for (const headers of seen) {
          expect(headers.authorization).toBe('Bearer tok-secret-456');
          expect(headers['x-team']).toBe('blue');
        }
      } finally {
        await server.close();
      }
    }
  });

  it('fails with INIT_TIMEOUT when the upstream never answers, and aborts the hanging request', async () => {
    let received = 0;
    let aborted = 0;
    const server = await httpServer((_req, res) => {
      received += 1;
      // Never respond; count the client giving up on the request.
      res.on('close', () => {
        aborted += 1;
      });
    });
    try {
      const config = serverConfig({ protocol: 'streamable-http', url: `${server.url}/mcp` });
      const error = await failure(connector.connect(config, { timeoutMs: 300 }));
      expect(error.code).toBe('INIT_TIMEOUT');
      expect(received).toBe(1);
      await waitFor(() => aborted === 1, { what: 'the client to abort its request' });
    } finally {
      await server.close();
    }
  });
});
