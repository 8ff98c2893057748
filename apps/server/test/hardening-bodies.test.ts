import { request } from 'node:http';
import { connect } from 'node:net';
import { ProblemSchema } from '@mcpproxy/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../src/body.js';
import { scriptedConnector, startServer, type TestServer, waitForState } from './helpers.js';

// Issue 16, item 1 and "also noted": request bodies with the wrong media type or out-of-bounds JSON, driven through
// the real server on a port, and problem bodies that must not echo the request path.

const KEY = 'k-0123456789abcdef';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read problem fields freely
  body: any;
}

/** One raw HTTP request (node:http, so a body can go without any Content-Type, as `fetch` cannot send). */
function send(url: string, method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      url + path,
      { method, headers: { authorization: `Bearer ${KEY}`, ...headers }, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

function expectProblem(res: Answer, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toContain('application/problem+json');
  const problem = ProblemSchema.parse(res.body);
  expect(problem).toMatchObject({ status, code });
  expect(problem.request_id).toBe(res.headers['x-request-id']);
  return problem;
}

/** Every JSON route with a body, as `[method, path, a valid body]`. */
const JSON_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['POST', '/api/v1/servers'],
  ['PATCH', '/api/v1/servers/up'],
  ['POST', '/api/v1/servers/enable_all'],
  ['POST', '/api/v1/servers/disable_all'],
  ['POST', '/api/v1/servers/restart_all'],
  ['POST', '/api/v1/servers/up/tools/approve'],
  ['POST', '/api/v1/tools/call'],
  ['POST', '/api/v1/config/validate'],
];

const deep = (levels: number, leaf = '1') => `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;

describe('issue 16: request bodies on the JSON routes', () => {
  let s: TestServer;
  let calls = 0;
  beforeAll(async () => {
    s = await startServer({
      config: { api_key: KEY, mcpServers: [{ name: 'up', command: 'scripted' }] },
      apiKey: KEY,
      connector: scriptedConnector({
        up: {
          call: async () => {
            calls++;
            return { content: [{ type: 'text', text: 'called' }] };
          },
        },
      }),
    });
    await waitForState(s.view, 'up', 'ready');
  });
  afterAll(() => s.close());

  const unsupported: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ['text/plain', { 'content-type': 'text/plain' }, '{"name":"up:echo"}'],
    ['a form (curl -d)', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=up%3Aecho'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\n\r\n--x--\r\n'],
    ['no Content-Type', {}, '{"name":"up:echo"}'],
  ];
  for (const [method, path] of JSON_ROUTES) {
    for (const [what, headers, body] of unsupported) {
      it(`answers 415 BAD_REQUEST, not 500, to ${method} ${path} with ${what}`, async () => {
        const res = await send(s.url, method, path, body, headers);
        const problem = expectProblem(res, 415, 'BAD_REQUEST');
        expect(problem.title).toBe('Unsupported Media Type');
        expect(problem.detail).toContain('application/json');
        expect(res.headers[method === 'PATCH' ? 'accept-patch' : 'accept-post']).toContain('application/json');
      });
    }
  }

  it('accepts JSON with a charset and the +json media types', async () => {
    const ok = await send(s.url, 'POST', '/api/v1/config/validate', '{}', {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(ok.status, ok.text).toBe(200);
    const patch = await send(s.url, 'PATCH', '/api/v1/servers/up', '{"groups":["g"]}', {
      'content-type': 'application/merge-patch+json',
    });
    expect(patch.status, patch.text).toBe(200);
  });

  it('lets the optional-body routes (bulk, approve) go without a body and without Content-Type', async () => {
    const res = await send(s.url, 'POST', '/api/v1/servers/enable_all');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ total: 1 });
  });

  const bad: ReadonlyArray<readonly [string, string, string, string | RegExp]> = [
    ['an empty body', '', '', 'required'],
    ['a body of spaces', '   ', '', 'required'],
    ['a body that is not JSON', 'name=up', '', 'json_syntax'],
    ['truncated JSON', '{"name":', '', 'json_syntax'],
    ['JSON null', 'null', '', 'invalid_type'],
    ['a JSON array', '[]', '', 'invalid_type'],
    ['a huge number at the root', '1e999', '', 'finite'],
  ];
  for (const [method, path] of JSON_ROUTES) {
    for (const [what, body, field, rule] of bad) {
      it(`answers 400 BAD_REQUEST naming the field to ${method} ${path} with ${what}`, async () => {
        const res = await send(s.url, method, path, body, { 'content-type': 'application/json' });
        const problem = expectProblem(res, 400, 'BAD_REQUEST');
        expect(problem.issues?.[0]).toMatchObject({ path: field, rule });
      });
    }
  }

  const fielded: ReadonlyArray<readonly [string, string, string, string]> = [
    ['POST', '/api/v1/servers', '{"name":"n","command":"x","init_timeout":1e999}', 'init_timeout'],
    ['PATCH', '/api/v1/servers/up', '{"init_timeout":-1e999}', 'init_timeout'],
    ['POST', '/api/v1/servers/enable_all', '{"group":[1e400]}', 'group[0]'],
    ['POST', '/api/v1/servers/up/tools/approve', '{"tools":["a",9e999]}', 'tools[1]'],
    ['POST', '/api/v1/tools/call', '{"name":"up:echo","arguments":{"n":{"m":[0,1e999]}}}', 'arguments.n.m[1]'],
    ['POST', '/api/v1/config/validate', '{"tools_limit":1e999}', 'tools_limit'],
  ];
  for (const [method, path, body, field] of fielded) {
    it(`answers 400 naming ${field} for a number that overflows to Infinity in ${method} ${path}`, async () => {
      const res = await send(s.url, method, path, body, { 'content-type': 'application/json' });
      const problem = expectProblem(res, 400, 'BAD_REQUEST');
      expect(problem.issues).toEqual([expect.objectContaining({ path: field, rule: 'finite' })]);
    });
  }

  it(`answers 400 naming the path for nesting deeper than ${MAX_JSON_DEPTH} levels, and accepts ${MAX_JSON_DEPTH}`, async () => {
    const tooDeep = `{"name":"up:echo","arguments":${deep(MAX_JSON_DEPTH)}}`;
    const res = await send(s.url, 'POST', '/api/v1/tools/call', tooDeep, { 'content-type': 'application/json' });
    const problem = expectProblem(res, 400, 'BAD_REQUEST');
    expect(problem.issues?.[0]?.rule).toBe('max_depth');
    expect(problem.issues?.[0]?.path).toMatch(/^arguments(\.a)+$/);
    // 100,000 levels (what would overflow JSON.stringify on the way upstream) is refused the same way.
    const huge = `{"name":"up:echo","arguments":${deep(100_000)}}`;
    const res2 = await send(s.url, 'POST', '/api/v1/tools/call', huge, { 'content-type': 'application/json' });
    expect(expectProblem(res2, 400, 'BAD_REQUEST').issues?.[0]?.rule).toBe('max_depth');
    expect(calls).toBe(0);
    // At the bound the body is fine (the root object is level 1).
    const atBound = `{"name":"up:echo","arguments":${deep(MAX_JSON_DEPTH - 1)}}`;
    const ok = await send(s.url, 'POST', '/api/v1/tools/call', atBound, { 'content-type': 'application/json' });
    expect(ok.status, ok.text).toBe(200);
    expect(calls).toBe(1);
  });

  it('changes nothing when a body is refused', async () => {
    const before = await send(s.url, 'GET', '/api/v1/servers');
    for (const [what, headers, body] of unsupported) {
      const res = await send(s.url, 'POST', '/api/v1/servers', body.replace('up:echo', 'new'), headers);
      expect(res.status, what).toBe(415);
    }
    const res = await send(s.url, 'POST', '/api/v1/servers', '{"name":"new","command":"x","env":{"A":1e999}}', {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(400);
    const after = await send(s.url, 'GET', '/api/v1/servers');
    expect(after.text).toBe(before.text);
  });
});

describe('issue 16, also noted: problem bodies do not echo the request path', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ config: { api_key: KEY, features: { enable_metrics: false } }, apiKey: KEY });
  });
  afterAll(() => s.close());

  const SECRET = 'sk-live-PASTED-BY-MISTAKE';

  it.each([
    ['an unknown /api/v1 path', 'GET', `/api/v1/${SECRET}`, 404, 'NOT_FOUND'],
    ['an unknown top-level path', 'POST', `/${SECRET}/x`, 404, 'NOT_FOUND'],
    ['an unknown server name', 'GET', `/api/v1/servers/${SECRET}`, 404, 'NOT_FOUND'],
    ['an action on an unknown server', 'POST', `/api/v1/servers/${SECRET}/enable`, 404, 'NOT_FOUND'],
    ['the tools of an unknown server', 'GET', `/api/v1/servers/${SECRET}/tools`, 404, 'NOT_FOUND'],
    ['a route switched off by a feature', 'GET', `/metrics?x=${SECRET}`, 404, 'NOT_FOUND'],
  ] as const)('%s: %s answers "no route"/"no server" without the path', async (_what, method, path, status, code) => {
    const res = await send(s.url, method, path);
    const problem = expectProblem(res, status, code);
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('PASTED');
    if (path.startsWith(`/api/v1/${SECRET}`) || path.startsWith(`/${SECRET}`)) {
      expect(problem.detail).toContain('no route');
      expect(problem.instance).toBeUndefined();
    }
  });

  it('does not echo the path on a 401 for an unknown path either', async () => {
    const res = await send(s.url, 'GET', `/api/v1/${SECRET}`, undefined, { authorization: 'Bearer wrong' });
    expectProblem(res, 401, 'UNAUTHORIZED');
    expect(res.text).not.toContain(SECRET);
  });

  it('does not echo the path on a 403 for a foreign Host (refused before routing)', async () => {
    const res = await send(s.url, 'GET', `/api/v1/${SECRET}`, undefined, { host: 'evil.example:80' });
    expectProblem(res, 403, 'FORBIDDEN_ORIGIN');
    expect(res.text).not.toContain(SECRET);
  });

  it('answers an HTTP/1.0 request without Host with 403, even on /healthz (documented: DNS-rebinding defence)', async () => {
    const { port } = new URL(s.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /healthz HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 403 /);
    expect(raw).toContain('"code":"FORBIDDEN_ORIGIN"');
  });

  it('names the route pattern, not the raw path, as the instance of a routed problem', async () => {
    const res = await send(s.url, 'GET', '/api/v1/servers/nope/health');
    expect(expectProblem(res, 404, 'NOT_FOUND').instance).toBe('/api/v1/servers/{name}/health');
  });
});

describe('issue 16: problem bodies stay bounded whatever the body held', () => {
  it('clips issue paths and messages that quote a huge key, and lists at most 100 issues (500 bad args)', async () => {
    await using s = await startServer({ config: { api_key: KEY }, apiKey: KEY });
    const hugeKey = 'k'.repeat(100_000);
    const res = await send(
      s.url,
      'POST',
      '/api/v1/servers',
      JSON.stringify({ name: 'n', command: 'x', [hugeKey]: 1 }),
      {
        'content-type': 'application/json',
      },
    );
    const problem = expectProblem(res, 400, 'BAD_REQUEST');
    expect(res.text.length).toBeLessThan(5_000);
    expect(problem.issues?.length).toBeGreaterThan(0);
    const res2 = await send(s.url, 'PATCH', '/api/v1/servers/none', JSON.stringify({ args: Array(500).fill(1) }), {
      'content-type': 'application/json',
    });
    const problem2 = expectProblem(res2, 400, 'BAD_REQUEST');
    expect(problem2.issues).toHaveLength(100);
    expect(problem2.detail).toContain('400 more issues not listed');
  });
});
