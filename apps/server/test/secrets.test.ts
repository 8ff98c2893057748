import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { everything, fixture, startServer, waitForState, waitForView } from './helpers.js';

const API_KEY = 'apikey-s3cr3t-XYZ123';
const HEADER_TOKEN = 'hdr-s3cr3t-DEF456';
const ENV_TOKEN = 'env-s3cr3t-ABC789';
const ADDED_TOKEN = 'added-s3cr3t-GHI012';
const PATCHED_TOKEN = 'patched-s3cr3t-JKL345';
const LEAK_TOKEN = 'leak-s3cr3t-MNO678';
const SECRETS = [API_KEY, HEADER_TOKEN, ENV_TOKEN, ADDED_TOKEN, PATCHED_TOKEN, LEAK_TOKEN];

/** A hostile HTTP "upstream" that answers every request with 500 and echoes the request headers back. */
async function echoingUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(500, { 'content-type': 'text/plain', 'x-echo': String(req.headers.authorization ?? '') });
    res.end(`upstream failure; you sent ${JSON.stringify(req.headers)}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('secrets never leave the process', () => {
  it('a configured header, env value or API key appears in no REST body, WS/SSE frame or log line', async () => {
    const upstream = await echoingUpstream();
    const logLines: string[] = [];
    const bodies: string[] = [];
    const frames: string[] = [];
    const sseChunks: string[] = [];
    const sockets: WebSocket[] = [];
    let sseAbort: AbortController | undefined;
    try {
      await using s = await startServer({
        env: process.env,
        logLevel: 'debug',
        logDestination: { write: (line: string) => logLines.push(line) },
        apiKey: API_KEY,
        config: {
          api_key: API_KEY,
          retry: { initial_delay: '10m', max_delay: '10m' },
          mcpServers: [
            everything('everything', { env: { API_TOKEN: ENV_TOKEN } }),
            fixture('leaky', 'leaky-server.mjs', { env: { LEAK_TOKEN } }),
            {
              name: 'hostile',
              protocol: 'streamable-http',
              url: upstream.url,
              headers: { Authorization: `Bearer ${HEADER_TOKEN}` },
            },
          ],
        },
      });
      const wsUrl = s.url.replace('http:', 'ws:');
      for (const path of ['/ws/events', '/ws/mcp-status', '/ws/servers?server=hostile&server=added']) {
        const ws = new WebSocket(`${wsUrl}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
        ws.on('message', (data) => frames.push(String(data)));
        sockets.push(ws);
        await once(ws, 'open');
      }
      sseAbort = new AbortController();
      const sse = await fetch(`${s.url}/events?apikey=${API_KEY}`, { signal: sseAbort.signal });
      expect(sse.status).toBe(200);
      const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const pump = (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            sseChunks.push(decoder.decode(value, { stream: true }));
          }
        } catch {
          // aborted at the end of the test
        }
      })();

      await waitForState(s.view, 'everything', 'ready');
      await waitForView(s.view, () => s.view.server('hostile')?.last_error != null, 15_000, 'hostile to fail');
      await waitForView(s.view, () => s.view.server('leaky')?.last_error != null, 15_000, 'leaky to fail');
      expect(upstream.seen.some((h) => h.authorization === `Bearer ${HEADER_TOKEN}`)).toBe(true);

      const call = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
        const res = await s.api(path, init);
        bodies.push(res.text, JSON.stringify(Object.fromEntries(res.headers)));
        return res;
      };
      await call('/api/v1/servers');
      await call('/api/v1/servers/hostile');
      await call('/api/v1/servers/everything');
      await call('/api/v1/servers/hostile/health');
      await call('/api/v1/servers/everything/health');
      const leaky = await call('/api/v1/servers/leaky/health');
      // The stderr tail is served (scrubbed): the test would be empty if it were not.
      expect(leaky.text).toContain('LEAK_TOKEN=***');
      await call('/api/v1/servers/everything/tools');
      await call('/api/v1/status');
      await call('/api/v1/config');
      await call('/api/v1/diagnostics');
      await call('/api/v1/tools?q=echo');
      await call('/api/v1/tools/call', {
        method: 'POST',
        json: { name: 'everything:echo', arguments: { message: 'hi' } },
      });
      await call('/api/v1/tools/call', { method: 'POST', json: { name: 'hostile:echo', arguments: {} } });
      const added = await call('/api/v1/servers', {
        method: 'POST',
        json: { name: 'added', url: 'https://example.invalid/mcp', headers: { 'X-Token': ADDED_TOKEN } },
      });
      expect(added.status).toBe(201);
      const patched = await call('/api/v1/servers/added', {
        method: 'PATCH',
        json: { env: { K: PATCHED_TOKEN }, headers: { 'X-Token': ADDED_TOKEN, 'X-Other': PATCHED_TOKEN } },
      });
      expect(patched.status).toBe(200);
      await call('/api/v1/servers/added');
      await call('/api/v1/config');
      await call('/api/v1/config/validate', {
        method: 'POST',
        json: { api_key: API_KEY, mcpServers: [{ name: 'x', url: 'nope', headers: { A: HEADER_TOKEN } }] },
      });
      await call('/api/v1/config/reload', { method: 'POST' });
      await call('/api/v1/servers/nope');
      await call(`/api/v1/servers?apikey=${API_KEY}`, { key: false } as RequestInit);
      await call('/api/v1/servers', { key: 'wrong-key' } as RequestInit);
      await call('/metrics');
      await call('/api/v1/openapi.json');
      await call('/healthz');
      await call('/readyz');
      const config = await s.api('/api/v1/config');
      expect(config.body.api_key).toBe('***');
      expect(config.body.mcpServers.find((x: { name: string }) => x.name === 'hostile').headers.Authorization).toBe(
        '***',
      );
      await s.close();
      sseAbort.abort();
      await pump;
    } finally {
      sseAbort?.abort();
      for (const ws of sockets) ws.terminate();
      await upstream.close();
    }

    // The scenario really ran: answers, frames, SSE and logs were captured.
    expect(bodies.length).toBeGreaterThan(40);
    expect(frames.length).toBeGreaterThan(10);
    expect(sseChunks.join('')).toContain('event: hello');
    expect(logLines.length).toBeGreaterThan(10);

    const haystacks = {
      rest: bodies.join('\n'),
      ws: frames.join('\n'),
      sse: sseChunks.join(''),
      log: logLines.join(''),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of SECRETS) {
        expect(text.includes(secret), `${secret} leaked in ${where}`).toBe(false);
      }
    }
  });
});
