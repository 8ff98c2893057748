import { Agent, type ClientRequest, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

// Issue 16, item 4: a request body that no route reads must not break the keep-alive connection it came on. A real
// keep-alive agent with one socket sends a 2 MB body to a route that ignores it, then a second request that must be
// answered on the same socket.

const KEY = 'k-keepalive-test';
const TWO_MB = Buffer.alloc(2 * 1024 * 1024, 0x20);

interface Answer {
  status: number;
  connection: string | undefined;
  reusedSocket: boolean;
  text: string;
}

function send(
  url: string,
  agent: Agent,
  method: string,
  path: string,
  options: { body?: Buffer; chunked?: boolean; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const { body, chunked = false, headers = {} } = options;
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { authorization: `Bearer ${KEY}`, ...headers };
    if (body && !chunked) all['content-length'] = String(body.length);
    // Node frames GET and DELETE bodies as chunked only when told to.
    if (body && chunked) all['transfer-encoding'] = 'chunked';
    const req: ClientRequest = request(url + path, { method, agent, headers: all, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reusedSocket: req.reusedSocket,
          text,
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (body && chunked) {
      // Several writes without Content-Length: Transfer-Encoding chunked.
      for (let i = 0; i < body.length; i += 256 * 1024) req.write(body.subarray(i, i + 256 * 1024));
      req.end();
    } else req.end(body);
  });
}

/**
 * POSTs a JSON body of `size` bytes, written 64 KiB at a time with backpressure, and stops writing once the answer
 * arrives (a server refusing an oversized body answers before reading it all).
 */
function sendUntilAnswered(url: string, agent: Agent, path: string, size: number, chunked: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(size);
    let answered = false;
    const req = request(url + path, { method: 'POST', agent, headers, timeout: 15_000 }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          connection: res.headers.connection,
          reusedSocket: req.reusedSocket,
          text,
        });
        req.destroy();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${path} timed out`)));
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < size) {
        const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += part.length;
        if (!req.write(part)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('issue 16: an unread request body does not break its keep-alive connection', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ config: { api_key: KEY, mcpServers: [] }, apiKey: KEY });
  });
  afterAll(() => s.close());

  const ignoring: ReadonlyArray<readonly [string, string, number, Record<string, string>?]> = [
    ['POST', '/api/v1/config/reload', 200],
    ['POST', '/api/v1/servers/nope/enable', 404],
    ['DELETE', '/api/v1/servers/nope', 404],
    ['POST', '/no/such/route', 404],
    ['GET', '/api/v1/status', 200],
    ['POST', '/api/v1/status', 404],
    ['POST', '/api/v1/config/reload', 401, { authorization: 'Bearer wrong' }],
    ['POST', '/api/v1/config/reload', 403, { origin: 'http://evil.example' }],
    ['POST', '/api/v1/tools/call', 415, { 'content-type': 'text/plain' }],
  ];
  for (const [method, path, status, headers] of ignoring) {
    for (const chunked of [false, true]) {
      const how = chunked ? 'chunked' : 'with Content-Length';
      it(`answers ${method} ${path} with a 2 MB body (${how}, answer ${status}), then serves the next request on the same socket`, async () => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const first = await send(s.url, agent, method, path, { body: TWO_MB, chunked, headers });
          expect(first.status, first.text).toBe(status);
          // A chunked GET body has no size to bound the wait by: that answer closes, and the client sees it.
          const closes = method === 'GET' && chunked;
          expect(first.connection === 'close').toBe(closes);
          const second = await send(s.url, agent, 'GET', '/api/v1/status');
          expect(second.status).toBe(200);
          expect(second.reusedSocket).toBe(!closes);
        } finally {
          agent.destroy();
        }
      });
    }
  }

  for (const chunked of [false, true]) {
    const how = chunked ? 'a chunked body' : 'a Content-Length';
    it(`answers ${how} over the limit with 413 and Connection: close; the client carries on on a new socket`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await sendUntilAnswered(s.url, agent, '/api/v1/tools/call', MAX_BODY_BYTES + 1024, chunked);
        expect(first.status).toBe(413);
        expect(first.connection).toBe('close');
        const second = await send(s.url, agent, 'GET', '/api/v1/status');
        expect(second.status).toBe(200);
        expect(second.reusedSocket).toBe(false);
      } finally {
        agent.destroy();
      }
    });
  }
});
