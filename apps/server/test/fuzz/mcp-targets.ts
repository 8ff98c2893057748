// MCP fuzz targets (docs/mcp.md) on `/mcp`, `/mcp/all` and `/mcp/servers/{name}` over Streamable HTTP: malformed
// JSON-RPC, wrong methods, bad params, batches and huge ids, with and without a session. Invariants: no 5xx (a 503
// only where a session or link limit applies), no hang, every request with an id answered with that id, a refused
// request answered in JSON (JSON-RPC error or problem+json), and the session still alive afterwards.
import fc from 'fast-check';
import {
  anyName,
  encodeSegment,
  type FuzzStats,
  type FuzzTarget,
  InvariantError,
  REQUEST_TIMEOUT_MS,
  target,
} from './harness.js';
import { FUZZ_KEY, REAL } from './servers.js';

export const MCP_ENDPOINTS = ['/mcp', '/mcp/all', `/mcp/servers/${REAL}`] as const;
export type McpEndpoint = (typeof MCP_ENDPOINTS)[number];

const PROTOCOL = '2025-06-18';

interface McpAnswer {
  status: number;
  type: string;
  sessionId: string | null;
  /** JSON-RPC messages in the body (one JSON value, an array, or the `data:` of every SSE event). */
  messages: unknown[];
  text: string;
}

/** POSTs (or GETs/DELETEs) to an MCP endpoint with the key; reads the whole answer within the bound. */
async function mcpSend(
  url: string,
  { method = 'POST', body, headers = {} }: { method?: string; body?: string; headers?: Record<string, string> },
): Promise<McpAnswer> {
  const what = `${method} ${url} ${JSON.stringify(headers)} ${(body ?? '').slice(0, 300)}`;
  const res = await fetch(url, {
    method,
    body,
    headers: {
      authorization: `Bearer ${FUZZ_KEY}`,
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      ...headers,
    },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch((e: Error) => {
    throw new InvariantError(`no answer (${e.message})`, what);
  });
  const text = await res.text().catch((e: Error) => {
    throw new InvariantError(`the answer did not finish (${e.message})`, what);
  });
  const type = res.headers.get('content-type') ?? '';
  const messages: unknown[] = [];
  if (type.startsWith('text/event-stream')) {
    for (const line of text.split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data) messages.push(JSON.parse(data));
    }
  } else if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    } catch {
      // Not JSON; the invariants below name it.
    }
  }
  return { status: res.status, type, sessionId: res.headers.get('mcp-session-id'), messages, text };
}

/** A JSON-RPC id of any shape (huge, fractional, long, wrong types). */
const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 53 + 1, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(10_000)) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, {}, [], { a: 1 }) },
);

/** Tools each endpoint may call without side effects (never the sampling, elicitation or long-running ones). */
const SAFE_TOOLS = ['echo', 'get-sum', 'get-tiny-image', 'get-structured-content', 'nope'] as const;

const argsArb = fc.oneof(
  fc.record({ message: fc.string({ maxLength: 30 }) }),
  fc.record({ a: fc.oneof(fc.integer(), fc.double()), b: fc.oneof(fc.integer(), fc.string()) }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 1 }),
);

/** `tools/call` params for an endpoint: its own tool naming, right or wrong. */
function callParams(endpoint: McpEndpoint): fc.Arbitrary<unknown> {
  const tool = fc.oneof(fc.constantFrom(...SAFE_TOOLS), anyName);
  if (endpoint === '/mcp') {
    return fc.oneof(
      fc.record({
        name: fc.constant('call_tool'),
        arguments: fc.record(
          {
            name: fc.oneof(
              tool.map((t) => `${REAL}:${t}`),
              anyName,
            ),
            args: argsArb,
          },
          { requiredKeys: [] },
        ),
      }),
      fc.record({
        name: fc.constantFrom('retrieve_tools', 'tools_stat', 'upstream_servers', 'quarantine_security', 'nope'),
        arguments: fc.oneof(
          fc.record(
            { query: fc.string({ maxLength: 20 }), limit: fc.oneof(fc.integer(), fc.string()) },
            { requiredKeys: [] },
          ),
          fc.record(
            { operation: fc.constantFrom('list', 'list_quarantined', 'inspect_tools', 'bogus'), name: anyName },
            { requiredKeys: [] },
          ),
          argsArb,
        ),
      }),
    );
  }
  const name =
    endpoint === '/mcp/all'
      ? fc.oneof(
          tool.map((t) => `${REAL}__${t}`),
          anyName,
        )
      : tool;
  return fc.record({ name, arguments: argsArb }, { requiredKeys: [] });
}

const METHODS = [
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'initialize',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'nope/nope',
  '',
] as const;

/** One JSON-RPC message, mostly well formed, sometimes not. */
function messageArb(endpoint: McpEndpoint, { withInitialize }: { withInitialize: boolean }): fc.Arbitrary<unknown> {
  const methods = METHODS.filter((m) => withInitialize || m !== 'initialize');
  const params = fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: callParams(endpoint) },
    {
      weight: 2,
      arbitrary: fc.record(
        {
          uri: fc.oneof(
            fc.constantFrom('demo://resource/static/document/architecture.md', 'file:///etc/passwd'),
            fc.string(),
          ),
          name: anyName,
          level: fc.constantFrom('debug', 'bogus'),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const wellFormed = fc
    .record({
      method: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...methods) },
        { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
      ),
      params,
      id: fc.option(idArb, { freq: 6 }),
    })
    .map(({ method, params: p, id }) => {
      const m: Record<string, unknown> = { jsonrpc: '2.0', method };
      if (p !== undefined) m.params = p;
      if (id !== null) m.id = id;
      return m;
    });
  const broken = fc.oneof(
    fc.constantFrom(
      {},
      { jsonrpc: '1.0', method: 'ping', id: 1 },
      { jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', result: {}, id: 99 },
      { jsonrpc: '2.0', error: { code: 1, message: 'x' }, id: 98 },
      { method: 'ping', id: 2 },
    ),
    fc.jsonValue({ maxDepth: 2 }),
  );
  return fc.oneof({ weight: 5, arbitrary: wellFormed }, { weight: 1, arbitrary: broken });
}

/** A body: one message, a batch, or bytes that are not JSON-RPC at all. */
function bodyArb(endpoint: McpEndpoint, opts: { withInitialize: boolean }): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: messageArb(endpoint, opts).map((m) => JSON.stringify(m) ?? 'null') },
    { weight: 2, arbitrary: fc.array(messageArb(endpoint, opts), { maxLength: 4 }).map((a) => JSON.stringify(a)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        'null',
        '[',
        '[[]]',
        `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
        '{"jsonrpc":"2.0","method":"ping","id":1}{}',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  );
}

/** Ids of the requests in a body we sent (those a conforming server must answer). */
function requestIds(body: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  return list.flatMap((m) => {
    if (typeof m !== 'object' || m === null) return [];
    const r = m as { jsonrpc?: unknown; method?: unknown; id?: unknown };
    const validId = typeof r.id === 'string' || (typeof r.id === 'number' && Number.isFinite(r.id));
    return r.jsonrpc === '2.0' && typeof r.method === 'string' && validId ? [r.id] : [];
  });
}

/** The invariants of every MCP answer. */
function checkMcpAnswer(ans: McpAnswer, what: string, { limits }: { limits: boolean }): void {
  if (ans.status >= 500 && !(limits && ans.status === 503)) {
    throw new InvariantError(`answered ${ans.status} ${ans.text.slice(0, 300)}`, what);
  }
  if (ans.status >= 400) {
    const first = ans.messages[0] as { error?: { code?: unknown }; code?: unknown } | undefined;
    const jsonRpc = typeof first?.error?.code === 'number';
    const problem = ans.type.startsWith('application/problem+json') && typeof first?.code === 'string';
    if (!jsonRpc && !problem)
      throw new InvariantError(
        `a ${ans.status} that is neither JSON-RPC nor problem+json: ${ans.text.slice(0, 200)}`,
        what,
      );
  }
}

const IN_SESSION = 'mcp: JSON-RPC in a live session on each endpoint (methods, params, batches, ids)';

export interface McpContext {
  url: string;
  stats?: FuzzStats | undefined;
}

/** An initialised raw session on an endpoint. */
export async function openSession(url: string): Promise<string> {
  const init = await mcpSend(url, {
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } },
    }),
  });
  if (init.status !== 200 || !init.sessionId)
    throw new Error(`initialize on ${url} answered ${init.status} ${init.text.slice(0, 200)}`);
  const headers = { 'mcp-session-id': init.sessionId, 'mcp-protocol-version': PROTOCOL };
  const ready = await mcpSend(url, {
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    headers,
  });
  if (ready.status !== 202)
    throw new Error(`notifications/initialized on ${url} answered ${ready.status} ${ready.text.slice(0, 200)}`);
  return init.sessionId;
}

/** The MCP targets; `sessions` maps each endpoint to a session opened with {@link openSession}. */
export function mcpTargets(ctx: McpContext, sessions: Record<McpEndpoint, string>): FuzzTarget<unknown>[] {
  const record = (name: string, outcome: string | number) => ctx.stats?.outcome(name, outcome);

  /** Ends a session a fuzzed `initialize` may have opened, so fuzzing never piles sessions (or processes) up. */
  const endSession = async (url: string, id: string | null) => {
    if (id && !Object.values(sessions).includes(id)) {
      await mcpSend(url, { method: 'DELETE', headers: { 'mcp-session-id': id } }).catch(() => {});
    }
  };

  const sessionless = target(
    'mcp: requests without a session, on every endpoint and any server name',
    fc
      .record({
        endpoint: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom<string>(...MCP_ENDPOINTS) },
          { weight: 1, arbitrary: anyName.map((n) => `/mcp/servers/${encodeSegment(n)}`) },
        ),
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT'),
        headers: fc.record(
          {
            accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html'),
            'content-type': fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', ''),
            'mcp-session-id': fc.oneof(
              { weight: 4, arbitrary: fc.constant('') },
              { weight: 1, arbitrary: fc.constantFrom('nope', '00000000-0000-0000-0000-000000000000') },
              { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,60}$/) },
            ),
            'mcp-protocol-version': fc.constantFrom('2025-06-18', '2024-11-05', '1999-01-01', 'x'),
          },
          { requiredKeys: [] },
        ),
      })
      .chain((r) => bodyArb(MCP_ENDPOINTS[0], { withInitialize: true }).map((body) => ({ ...r, body }))),
    async ({ endpoint, method, headers, body }) => {
      const url = ctx.url + endpoint;
      const what = `${method} ${endpoint} ${JSON.stringify(headers)} ${body.slice(0, 300)}`;
      const ans = await mcpSend(url, {
        method,
        headers,
        body: method === 'GET' || method === 'DELETE' ? undefined : body,
      });
      record('mcp: requests without a session, on every endpoint and any server name', ans.status);
      try {
        checkMcpAnswer(ans, what, { limits: endpoint.startsWith('/mcp/servers/') });
      } finally {
        await endSession(url, ans.sessionId);
      }
    },
  );

  const inSession = target(
    IN_SESSION,
    fc
      .constantFrom(...MCP_ENDPOINTS)
      .chain((endpoint) => bodyArb(endpoint, { withInitialize: false }).map((body) => ({ endpoint, body }))),
    async ({ endpoint, body }) => {
      const url = ctx.url + endpoint;
      const headers = { 'mcp-session-id': sessions[endpoint], 'mcp-protocol-version': PROTOCOL };
      const what = `POST ${endpoint} (session) ${body.slice(0, 300)}`;
      const ans = await mcpSend(url, { body, headers });
      record(IN_SESSION, `${endpoint} ${ans.status}`);
      checkMcpAnswer(ans, what, { limits: false });
      if (ans.status === 200) {
        for (const id of requestIds(body)) {
          const answered = ans.messages.some((m) => {
            const r = m as { id?: unknown; result?: unknown; error?: { code?: unknown } };
            if (r.error) record(IN_SESSION, `${endpoint} error ${String(r.error.code)}`);
            return (r.result !== undefined || r.error !== undefined) && sameId(r.id, id);
          });
          if (!answered)
            throw new InvariantError(
              `request id ${JSON.stringify(id).slice(0, 50)} was not answered: ${ans.text.slice(0, 300)}`,
              what,
            );
        }
      }
      const ping = await mcpSend(url, {
        body: JSON.stringify({ jsonrpc: '2.0', method: 'ping', id: 'alive' }),
        headers,
      });
      const pong = ping.messages.some(
        (m) =>
          (m as { id?: unknown; result?: unknown }).id === 'alive' && (m as { result?: unknown }).result !== undefined,
      );
      if (ping.status !== 200 || !pong)
        throw new InvariantError(`the session died: ping answered ${ping.status} ${ping.text.slice(0, 200)}`, what);
    },
  );

  return [inSession, sessionless] as FuzzTarget<unknown>[];
}

/** JSON-RPC ids compare as JSON values (a huge number comes back as the nearest double). */
function sameId(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
