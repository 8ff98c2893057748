// REST fuzz targets (docs/rest.md): every route with fuzzed methods, names, query strings, content types and bodies,
// against a real server. Invariants: no 5xx but documented upstream 503/504, no hang, problem+json with a
// documented code, the key never echoed, and a refused write leaves the servers and the config file alone.
import { ServerNameSchema } from '@mcpproxy/contracts';
import fc from 'fast-check';
import type { TestServer } from '../helpers.js';
import {
  anyBody,
  anyContentType,
  anyName,
  anyQuery,
  checkAnswer,
  checkUnchanged,
  describe,
  type FuzzStats,
  type FuzzTarget,
  type HttpClient,
  type HttpRequest,
  type HttpResult,
  InvariantError,
  NON_JSON_TYPES,
  outcomeOf,
  segmentFor,
  stateProbe,
  target,
} from './harness.js';
import { DUMMIES, FUZZ_KEY, REAL } from './servers.js';

/** A route of the API: method, path built from a name segment, and whether it takes a JSON body. */
interface Route {
  method: string;
  path: (segment: string) => string;
  /** `required`: the body must be JSON; `optional`: no body or JSON; `none`: the body is ignored. */
  body: 'required' | 'optional' | 'none';
}

const V1 = '/api/v1';
const ACTIONS = ['enable', 'disable', 'restart', 'quarantine', 'unquarantine'] as const;
const BULK = ['enable_all', 'disable_all', 'restart_all'] as const;

const NAMED_ROUTES: Route[] = [
  { method: 'GET', path: (n) => `${V1}/servers/${n}`, body: 'none' },
  { method: 'PATCH', path: (n) => `${V1}/servers/${n}`, body: 'required' },
  { method: 'DELETE', path: (n) => `${V1}/servers/${n}`, body: 'none' },
  { method: 'GET', path: (n) => `${V1}/servers/${n}/tools`, body: 'none' },
  { method: 'GET', path: (n) => `${V1}/servers/${n}/health`, body: 'none' },
  { method: 'POST', path: (n) => `${V1}/servers/${n}/tools/approve`, body: 'optional' },
  { method: 'POST', path: (n) => `${V1}/servers/${n}/scan`, body: 'none' },
  { method: 'GET', path: (n) => `${V1}/activity/${n}`, body: 'none' },
  ...ACTIONS.map((a): Route => ({ method: 'POST', path: (n) => `${V1}/servers/${n}/${a}`, body: 'none' })),
];

const FIXED_ROUTES: Route[] = [
  ...[
    'status',
    'servers',
    'diagnostics',
    'tools',
    'config',
    'openapi.json',
    'security/findings',
    'activity',
    'activity/stats',
    'activity/export',
  ].map((p): Route => ({ method: 'GET', path: () => `${V1}/${p}`, body: 'none' })),
  ...['/healthz', '/readyz', '/metrics', '/ui/', '/', '/nope'].map(
    (p): Route => ({ method: 'GET', path: () => p, body: 'none' }),
  ),
  { method: 'POST', path: () => `${V1}/servers`, body: 'required' },
  { method: 'POST', path: () => `${V1}/tools/call`, body: 'required' },
  { method: 'POST', path: () => `${V1}/config/validate`, body: 'required' },
  { method: 'POST', path: () => `${V1}/config/reload`, body: 'none' },
  ...BULK.map((b): Route => ({ method: 'POST', path: () => `${V1}/servers/${b}`, body: 'optional' })),
];

/** JSON routes: a body with a non-JSON content type must be refused with a 4xx, never 500 (issue 16, defect 1). */
const JSON_ROUTES: Route[] = [...NAMED_ROUTES, ...FIXED_ROUTES].filter((r) => r.body !== 'none');

/** Names write targets may use: anything but the real upstream (the calls through it must keep working). */
const fuzzName = fc
  .oneof({ weight: 8, arbitrary: anyName }, { weight: 1, arbitrary: fc.constant(FUZZ_KEY) })
  .filter((n) => n !== REAL);

/** A plausible server entry: right shape, fuzzed values; its command can never run. */
const serverEntry = fc.record(
  {
    name: fuzzName,
    command: fc.oneof(
      fc.constant('/nonexistent/fuzz'),
      anyName.map((s) => `/nonexistent/${s}`),
    ),
    args: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    env: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
    protocol: fc.constantFrom('stdio', 'auto', 'http', 'sse', 'bogus'),
    url: fc.constantFrom('http://127.0.0.1:1/mcp', 'ftp://x', 'not a url'),
    groups: fc.array(anyName, { maxLength: 2 }),
    enabled: fc.oneof(fc.boolean(), fc.constant('yes')),
    init_timeout: fc.oneof(fc.constantFrom('1s', '500ms', '2m', '-1s', 'soon', 'PT1S'), fc.integer()),
    unknown_key: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: ['name'] },
);

const LARGE = 'rest: a large body, read or not, never breaks its keep-alive connection';

export interface RestContext {
  server: TestServer;
  client: HttpClient;
  stats?: FuzzStats | undefined;
}

/** The REST targets against `ctx.server` (a fuzz server with the real upstream). */
export function restTargets(ctx: RestContext): FuzzTarget<unknown>[] {
  const { client } = ctx;
  const probe = stateProbe(client, ctx.server.configPath);
  const record = (name: string, res: HttpResult) => ctx.stats?.outcome(name, outcomeOf(res));

  /** Sends; checks the answer; for a refused write, checks nothing changed; tidies up after an accepted one. */
  const exchange = async (name: string, req: HttpRequest, { upstream = false } = {}): Promise<HttpResult> => {
    const write = req.method !== 'GET' && req.method !== 'HEAD';
    const before = write ? await probe.capture() : '';
    const res = await client.send(req);
    record(name, res);
    checkAnswer(res, req, { upstream: upstream || write });
    if (write && res.status < 300) await tidy(res, req);
    // A key pasted into a path segment or a field must not come back in an error (issue 16: 404s echoed the raw
    // path). A server a person named like the key is theirs to see, so accepted answers are not checked.
    if (res.status >= 400 && res.text.includes(FUZZ_KEY)) {
      throw new InvariantError('the answer echoes the API key', describe(req));
    }
    if (write && res.status >= 400) checkUnchanged(before, await probe.capture(), res, req);
    return res;
  };

  /** Undoes what an accepted fuzzed write may have done to the fixture: an added server, a disabled upstream. */
  const tidy = async (res: HttpResult, req: HttpRequest): Promise<void> => {
    if (req.method === 'POST' && res.status === 201) {
      const added = (res.body as { name?: string } | undefined)?.name;
      if (added) await client.send({ method: 'DELETE', path: `${V1}/servers/${encodeURIComponent(added)}` });
    }
    if (req.path.includes('disable_all') || req.path.includes('restart_all')) {
      const real = await client.send({ method: 'GET', path: `${V1}/servers/${REAL}` });
      if ((real.body as { summary?: { enabled?: boolean } }).summary?.enabled === false) {
        await client.send({ method: 'POST', path: `${V1}/servers/${REAL}/enable` });
      }
    }
  };

  const anyRoute = target(
    'rest: any route, method, name, query, content type and body',
    fc.record({
      route: fc.constantFrom(...NAMED_ROUTES, ...FIXED_ROUTES),
      method: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'FOO') },
      ),
      segment: fuzzName.chain(segmentFor),
      query: anyQuery,
      type: anyContentType,
      body: fc.option(anyBody, { freq: 3 }),
    }),
    async ({ route, method, segment, query, type, body }) => {
      const m = method ?? route.method;
      const req: HttpRequest = {
        method: m,
        path: route.path(segment) + query,
        headers: type === undefined ? {} : { 'content-type': type },
        body: m === 'GET' || m === 'HEAD' || body === null ? undefined : body,
      };
      await exchange('rest: any route, method, name, query, content type and body', req);
    },
  );

  const contentTypes = target(
    'rest: JSON routes refuse non-JSON content types with a 4xx',
    fc.record({
      route: fc.constantFrom(...JSON_ROUTES),
      name: fc.constantFrom(...DUMMIES),
      type: fc.constantFrom(...NON_JSON_TYPES),
      body: fc.oneof(
        fc.constantFrom('{}', '{"name":"x:y"}', '{"group":"dummies"}', 'name=a&b=c', '--xyz\r\n\r\n--xyz--'),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? '{}'),
      ),
    }),
    async ({ route, name, type, body }) => {
      const req: HttpRequest = {
        method: route.method,
        path: route.path(name),
        headers: { 'content-type': type },
        body,
      };
      const res = await exchange('rest: JSON routes refuse non-JSON content types with a 4xx', req);
      // 404 only when an earlier input deleted the dummy and the route looks it up first.
      if (res.status !== 400 && res.status !== 415 && res.status !== 404) {
        throw new InvariantError(`a ${type} body answered ${res.status}, not 415 or 400`, describe(req));
      }
    },
  );

  const names = target(
    'rest: a missing server named anything is 404 NOT_FOUND on every named route',
    fc
      .record({
        route: fc.constantFrom(...NAMED_ROUTES.filter((r) => !r.path('x').startsWith(`${V1}/activity`))),
        // "." and ".." are dot segments: URL parsing resolves them before routing (`/servers/../tools` is `/tools`).
        name: fuzzName.filter(
          (n) => !(DUMMIES as readonly string[]).includes(n) && n !== '' && n !== '.' && n !== '..',
        ),
      })
      .chain(({ route, name }) => segmentFor(name).map((segment) => ({ route, name, segment }))),
    async ({ route, segment }) => {
      const req: HttpRequest = {
        method: route.method,
        path: route.path(segment),
        headers: route.body === 'none' ? {} : { 'content-type': 'application/json' },
        body: route.method === 'PATCH' ? '{"groups":["g"]}' : route.body === 'none' ? undefined : '{}',
      };
      // A segment may decode to an existing name only through a broken escape; those must still not be 5xx.
      const res = await exchange('rest: a missing server named anything is 404 NOT_FOUND on every named route', req);
      if (res.status !== 404 && res.status !== 400) {
        throw new InvariantError(`a missing server answered ${res.status}, not 404`, describe(req));
      }
    },
  );

  const addByName = target(
    'rest: POST /servers accepts exactly the valid names, lists them, and removes them',
    fc.oneof(fuzzName, fc.constantFrom('constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty')),
    async (name) => {
      const req: HttpRequest = {
        method: 'POST',
        path: `${V1}/servers`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, command: '/nonexistent/fuzz' }),
      };
      const valid = ServerNameSchema.safeParse(name).success;
      const exists =
        valid &&
        (await client.send({ method: 'GET', path: `${V1}/servers/${encodeURIComponent(name)}` })).status === 200;
      const before = await probe.capture();
      const res = await client.send(req);
      record('rest: POST /servers accepts exactly the valid names, lists them, and removes them', res);
      checkAnswer(res, req);
      if (!valid || exists) {
        if (res.status !== (exists ? 409 : 400)) {
          throw new InvariantError(`${valid ? 'a taken' : 'an invalid'} name answered ${res.status}`, describe(req));
        }
        const issues = (res.body as { issues?: { path: string }[] }).issues ?? [];
        if (!valid && !issues.some((i) => i.path === 'name')) {
          throw new InvariantError(`an invalid name was refused without an issue at "name"`, describe(req));
        }
        checkUnchanged(before, await probe.capture(), res, req);
        return;
      }
      if (res.status !== 201) throw new InvariantError(`a valid new name answered ${res.status}`, describe(req));
      const seg = encodeURIComponent(name);
      const got = await client.send({ method: 'GET', path: `${V1}/servers/${seg}` });
      const listed = (got.body as { summary?: { name?: string } } | undefined)?.summary?.name;
      if (got.status !== 200 || listed !== name) {
        throw new InvariantError(
          `added "${name}" but GET answers ${got.status} ${got.text.slice(0, 200)}`,
          describe(req),
        );
      }
      const del = await client.send({ method: 'DELETE', path: `${V1}/servers/${seg}` });
      if (del.status !== 204)
        throw new InvariantError(`DELETE of added "${name}" answered ${del.status}`, describe(req));
    },
  );

  const entries = target(
    'rest: POST and PATCH with fuzzed entries validate or refuse cleanly',
    fc.record({ entry: serverEntry, patch: fc.boolean(), dummy: fc.constantFrom(...DUMMIES) }),
    async ({ entry, patch, dummy }) => {
      const { name, ...fields } = entry;
      const req: HttpRequest = patch
        ? {
            method: 'PATCH',
            path: `${V1}/servers/${dummy}`,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(fields),
          }
        : {
            method: 'POST',
            path: `${V1}/servers`,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name, ...fields }),
          };
      await exchange('rest: POST and PATCH with fuzzed entries validate or refuse cleanly', req);
    },
  );

  const toolCall = target(
    'rest: POST /tools/call with fuzzed names and arguments',
    fc.record({
      name: fc.oneof(
        fc.constantFrom(`${REAL}:echo`, `${REAL}:get-sum`, `${REAL}:nope`, `nope:echo`, `${REAL}:`, `:echo`, REAL),
        fc.tuple(fc.constantFrom(REAL, ...DUMMIES), anyName).map(([s, t]) => `${s}:${t}`),
        anyName,
      ),
      args: fc.oneof(
        fc.record({ message: fc.string({ unit: 'grapheme', maxLength: 50 }) }),
        fc.record({ a: fc.double(), b: fc.oneof(fc.integer(), fc.string()) }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      omitArgs: fc.boolean(),
    }),
    async ({ name, args, omitArgs }) => {
      const req: HttpRequest = {
        method: 'POST',
        path: `${V1}/tools/call`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(omitArgs ? { name } : { name, arguments: args }),
      };
      const res = await exchange('rest: POST /tools/call with fuzzed names and arguments', req, { upstream: true });
      const echo =
        name === `${REAL}:echo` && !omitArgs && typeof (args as { message?: unknown } | null)?.message === 'string';
      if (echo && res.status !== 200 && res.status !== 503) {
        throw new InvariantError(`a valid echo call answered ${res.status} ${res.text.slice(0, 200)}`, describe(req));
      }
    },
  );

  const search = target(
    'rest: GET /tools with fuzzed q and limit answers hits within the limit or 400',
    fc.record({
      q: fc.option(fc.oneof(anyName, fc.constantFrom('echo', 'sum', ' ', '*', '"', 'a'.repeat(5000)))),
      limit: fc.option(fc.oneof(fc.integer({ min: -5, max: 150 }).map(String), anyName)),
    }),
    async ({ q, limit }) => {
      const params = new URLSearchParams();
      if (q !== null) params.set('q', q);
      if (limit !== null) params.set('limit', limit);
      const req: HttpRequest = { method: 'GET', path: `${V1}/tools?${params}` };
      const res = await exchange('rest: GET /tools with fuzzed q and limit answers hits within the limit or 400', req);
      const n = limit === null ? 15 : /^\s*\d+\s*$/.test(limit) ? Number(limit) : Number.NaN;
      const validLimit = limit === null || (Number.isInteger(n) && n >= 1 && n <= 100);
      if (validLimit && res.status !== 200) throw new InvariantError(`answered ${res.status}`, describe(req));
      if (res.status === 200) {
        const hits = (res.body as { tools?: unknown[] }).tools;
        if (!Array.isArray(hits) || hits.length > (validLimit ? n : 100)) {
          throw new InvariantError(`answered ${hits?.length} hits for limit ${limit}`, describe(req));
        }
      }
    },
  );

  const auth = target(
    'rest: a wrong or missing key is 401 UNAUTHORIZED on every protected route',
    fc.record({
      route: fc.constantFrom(
        ...NAMED_ROUTES,
        ...FIXED_ROUTES.filter((r) => !['/healthz', '/readyz', '/ui/', '/'].includes(r.path(''))),
      ),
      how: fc.constantFrom('none', 'bearer', 'x-api-key', 'query', 'basic'),
      key: fc.oneof(
        fc.constantFrom('', `${FUZZ_KEY}x`, FUZZ_KEY.slice(0, -1), FUZZ_KEY.toUpperCase(), `${FUZZ_KEY}=`),
        fc.stringMatching(/^[\x21-\x7e]{0,40}$/),
      ),
    }),
    async ({ route, how, key }) => {
      const headers: Record<string, string> = { authorization: '' };
      if (how === 'bearer') headers.authorization = `Bearer ${key}`;
      if (how === 'basic') headers.authorization = `Basic ${Buffer.from(`user:${key}`).toString('base64')}`;
      if (how === 'x-api-key') headers['x-api-key'] = key;
      const query = how === 'query' ? `?apikey=${encodeURIComponent(key)}` : '';
      const req: HttpRequest = { method: route.method, path: route.path(DUMMIES[0]) + query, headers };
      const res = await exchange('rest: a wrong or missing key is 401 UNAUTHORIZED on every protected route', req);
      if (res.status !== 401) throw new InvariantError(`a wrong key answered ${res.status}`, describe(req));
    },
  );

  const largeBodies = target(
    'rest: a large body, read or not, never breaks its keep-alive connection',
    fc.record({
      route: fc.constantFrom(
        { method: 'POST', path: `${V1}/config/reload` },
        { method: 'POST', path: `${V1}/servers/${DUMMIES[0]}/restart` },
        { method: 'POST', path: '/healthz' },
        { method: 'GET', path: `${V1}/status` },
        { method: 'POST', path: `${V1}/config/validate` },
        { method: 'POST', path: `${V1}/tools/call` },
      ),
      size: fc.constantFrom(1024 * 1024 + 1, 2 * 1024 * 1024, 4 * 1024 * 1024 + 1),
      type: fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
    }),
    async ({ route, size, type }) => {
      const req: HttpRequest = { ...route, headers: { 'content-type': type }, body: `"${'x'.repeat(size - 2)}"` };
      const res = await exchange(LARGE, req, { upstream: true });
      // GET bodies are not limited (nothing reads them); they must still leave the connection usable.
      if (size > 4 * 1024 * 1024 && route.method !== 'GET' && res.status !== 413) {
        throw new InvariantError(`a body over 4 MiB answered ${res.status}`, describe(req));
      }
      if (res.headers.connection === 'close') return;
      // Kept alive: the next request on this very socket must be answered, and the socket must not be cut later
      // (issue 16, defect 4: cut ≈500 ms after the answer). A close within a second is the failure.
      const socket = res.socket;
      const next = await client.send({ method: 'GET', path: '/healthz' });
      if (next.status !== 200) throw new InvariantError(`the next request answered ${next.status}`, describe(req));
      const cut = await new Promise<boolean>((resolve) => {
        if (socket.destroyed) return resolve(true);
        const timer = setTimeout(() => {
          socket.off('close', onClose);
          resolve(false);
        }, 1_000);
        const onClose = () => {
          clearTimeout(timer);
          resolve(true);
        };
        socket.once('close', onClose);
      });
      if (cut) throw new InvariantError('the server cut a keep-alive connection after answering', describe(req));
    },
  );

  return [
    anyRoute,
    contentTypes,
    names,
    addByName,
    entries,
    toolCall,
    search,
    auth,
    largeBodies,
  ] as FuzzTarget<unknown>[];
}
