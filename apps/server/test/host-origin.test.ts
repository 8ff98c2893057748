import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedConnector, startServer, type TestServer } from './helpers.js';

/** Sends one raw HTTP/1.1 request and resolves with the status code of the answer (the socket is then dropped). */
function rawStatus(port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.split('\r\n')[0])}`));
    }, 5_000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      const end = head.indexOf('\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(Number(head.slice(9, 12)));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!head) reject(new Error('closed without an answer'));
    });
    socket.write(request);
  });
}

type Surface = 'rest' | 'sse' | 'ws';

function request(surface: Surface, host: string | undefined, origin: string | undefined): string {
  const lines = [
    surface === 'rest'
      ? 'GET /api/v1/servers HTTP/1.1'
      : surface === 'sse'
        ? 'GET /events HTTP/1.1'
        : 'GET /ws/events HTTP/1.1',
  ];
  if (host !== undefined) lines.push(`Host: ${host}`);
  if (origin !== undefined) lines.push(`Origin: ${origin}`);
  if (surface === 'ws') {
    lines.push(
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    );
  } else {
    lines.push('Connection: close');
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

describe('Host and Origin validation on REST, SSE and the WebSocket upgrade', () => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startServer({
      connector: scriptedConnector({}),
      config: { allowed_origins: ['https://app.example.com'] },
    });
    port = s.running.address?.port as number;
  });
  afterAll(async () => {
    await s?.close();
  });

  const badCombos = (): [string | undefined, string | undefined][] => {
    const p = port;
    const badHosts = [
      'evil.com',
      `evil.com:${p}`,
      'localhost',
      '127.0.0.1',
      `localhost:${p + 1}`,
      `127.0.0.1:${p + 1}`,
      `127.0.0.2:${p}`,
      `0.0.0.0:${p}`,
      `[::2]:${p}`,
      `localhost.evil.com:${p}`,
      `127.0.0.1.nip.io:${p}`,
      `sub.localhost:${p}`,
      `localhost:${p}.evil.com`,
      `user@localhost:${p}`,
      `127.0.0.1:${p}:80`,
      `127.0.0.1 :${p}`,
      `127.0.0.1:0${p}`,
      '',
      `[::1]`,
      `[::ffff:127.0.0.1]:${p}`,
      `2130706433:${p}`,
      `0x7f000001:${p}`,
      `192.168.1.1:${p}`,
      `example.test:${p}`,
      `localhost:${p}/api`,
    ].map((h): [string | undefined, string | undefined] => [h, undefined]);
    const good = `127.0.0.1:${p}`;
    const badOrigins = [
      'http://evil.com',
      `http://evil.com:${p}`,
      `https://127.0.0.1:${p}`,
      `http://127.0.0.1:${p + 1}`,
      'http://localhost',
      'http://127.0.0.1',
      'null',
      'file://',
      `http://127.0.0.1:${p}.evil.com`,
      `http://localhost:${p}/path`,
      'chrome-extension://abcdefghijklmnop',
      `http://[::2]:${p}`,
      '',
      'https://app.example.com.evil.com',
      'http://app.example.com',
      'https://app.example.com:444',
      'https://evil.example.com',
      `ws://127.0.0.1:${p}`,
      `http://user:pass@127.0.0.1:${p}`,
      `http://127.0.0.2:${p}`,
      `http://0.0.0.0:${p}`,
      'https://example.com',
      `http://sub.localhost:${p}`,
      'not a url',
      `http://127.0.0.1:${p}?x=1`,
    ].map((o): [string | undefined, string | undefined] => [good, o]);
    return [...badHosts, ...badOrigins];
  };

  it('has 50 distinct bad Host/Origin combinations to try', () => {
    const combos = badCombos();
    expect(combos).toHaveLength(50);
    expect(new Set(combos.map((c) => JSON.stringify(c))).size).toBe(50);
  });

  for (const surface of ['rest', 'sse', 'ws'] as const) {
    it(`refuses every bad combination with 403 on ${surface}${surface === 'ws' ? ' (no 101 is ever sent)' : ''}`, async () => {
      const results = await Promise.all(
        badCombos().map(async ([host, origin]) => ({
          host,
          origin,
          status: await rawStatus(port, request(surface, host, origin)),
        })),
      );
      const wrong = results.filter((r) => r.status !== 403);
      expect(wrong).toEqual([]);
    });

    it(`lets good Host/Origin combinations through on ${surface}`, async () => {
      const p = port;
      const good: [string, string | undefined][] = [
        [`127.0.0.1:${p}`, undefined],
        [`localhost:${p}`, undefined],
        [`LOCALHOST:${p}`, undefined],
        [`[::1]:${p}`, undefined],
        [`127.0.0.1:${p}`, `http://127.0.0.1:${p}`],
        [`localhost:${p}`, `http://localhost:${p}`],
        [`127.0.0.1:${p}`, `http://localhost:${p}`],
        [`127.0.0.1:${p}`, 'https://app.example.com'],
      ];
      const expected = surface === 'ws' ? 101 : 200;
      for (const [host, origin] of good) {
        expect(await rawStatus(port, request(surface, host, origin)), `${host} ${origin}`).toBe(expected);
      }
    });
  }

  it('answers CORS preflights for allowed_origins only, without the API key', async () => {
    const ok = await fetch(`${s.url}/api/v1/servers`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const res = await fetch(`${s.url}/api/v1/servers`, { headers: { origin: 'https://app.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const own = await fetch(`${s.url}/api/v1/servers`, { headers: { origin: s.url } });
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-origin')).toBeNull();
    const foreign = await fetch(`${s.url}/api/v1/servers`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'GET' },
    });
    expect(foreign.status).toBe(403);
  });
});
