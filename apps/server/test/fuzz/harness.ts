// The fuzz suite's shared parts: targets (an arbitrary plus a run that throws on a broken invariant), counters, a
// bounded HTTP client on one keep-alive socket, and the invariants every answer must keep (no 5xx, no hang,
// problem+json with a documented code). Used by the bounded runs in `*.test.ts` and by the long run (`long-run.ts`).
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_STATUS, type ErrorCode } from '@mcpproxy/contracts';
import fc from 'fast-check';

/** Bound of one request: an answer later than this is a hang. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** One fuzz target: inputs from `arbitrary`, and a run that throws when an invariant breaks. */
export interface FuzzTarget<T> {
  readonly name: string;
  readonly arbitrary: fc.Arbitrary<T>;
  run(input: T): Promise<void>;
}

/** Declares a target (keeps `T` inferred from the arbitrary). */
export function target<T>(name: string, arbitrary: fc.Arbitrary<T>, run: (input: T) => Promise<void>): FuzzTarget<T> {
  return { name, arbitrary, run };
}

/** Counts of one target. */
export interface TargetCounts {
  inputs: number;
  failures: number;
  /** Answers seen: HTTP statuses, WebSocket outcomes, JSON-RPC error codes… */
  outcomes: Record<string, number>;
  /** The first few failure messages (with their inputs). */
  examples: string[];
}

/** Inputs, failures and outcomes per target; what the long run prints and writes for BENCHMARKS.md. */
export class FuzzStats {
  readonly targets = new Map<string, TargetCounts>();

  private of(name: string): TargetCounts {
    let t = this.targets.get(name);
    if (!t) {
      t = { inputs: 0, failures: 0, outcomes: {}, examples: [] };
      this.targets.set(name, t);
    }
    return t;
  }

  input(name: string): void {
    this.of(name).inputs++;
  }

  outcome(name: string, outcome: string | number): void {
    const o = this.of(name).outcomes;
    o[outcome] = (o[outcome] ?? 0) + 1;
  }

  failure(name: string, message: string): void {
    const t = this.of(name);
    t.failures++;
    if (t.examples.length < 3) t.examples.push(message.slice(0, 600));
  }

  totals(): { inputs: number; failures: number } {
    let inputs = 0;
    let failures = 0;
    for (const t of this.targets.values()) {
      inputs += t.inputs;
      failures += t.failures;
    }
    return { inputs, failures };
  }

  toJSON(): Record<string, TargetCounts> {
    return Object.fromEntries(this.targets);
  }
}

/**
 * Runs `t` for `numRuns` inputs from a fixed seed and throws with fast-check's report (seed and path, to replay)
 * on the first broken invariant. Shrinking against a live server is bounded in time.
 */
export async function assertTarget<T>(
  t: FuzzTarget<T>,
  { numRuns, seed, stats }: { numRuns: number; seed: number; stats?: FuzzStats | undefined },
): Promise<void> {
  const replaySeed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : seed;
  await fc.assert(
    fc.asyncProperty(t.arbitrary, async (input) => {
      stats?.input(t.name);
      await t.run(input);
    }),
    { numRuns, seed: replaySeed, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false },
  );
}

/**
 * Runs `t` for `numRuns` inputs and counts failures instead of stopping at the first (the long run): each failure
 * is recorded with its input, and the run goes on.
 */
export async function countTarget<T>(
  t: FuzzTarget<T>,
  { numRuns, seed, stats }: { numRuns: number; seed: number; stats: FuzzStats },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(t.arbitrary, async (input) => {
      stats.input(t.name);
      try {
        await t.run(input);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        stats.failure(t.name, `${message} — input: ${fc.stringify(input).slice(0, 300)}`);
      }
    }),
    { numRuns, seed },
  );
}

/** A broken invariant, with what was sent. */
export class InvariantError extends Error {
  constructor(message: string, what: string) {
    super(`${message}\n  request: ${what}`);
    this.name = 'InvariantError';
  }
}

// ------------------------------------------------------------------ HTTP on one keep-alive socket

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or `undefined`. */
  body: unknown;
  /** The socket the answer came on (to watch whether the server cuts it). */
  socket: Socket;
}

export interface HttpRequest {
  method: string;
  /** Path and query, already encoded (`/api/v1/servers/a%20b?x=1`). */
  path: string;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
  timeoutMs?: number | undefined;
}

/**
 * A client whose requests share one keep-alive socket, so a request that breaks its connection makes the next
 * request fail: a server that cuts connections without `Connection: close` cannot hide.
 */
export function httpClient(baseUrl: string, apiKey?: string) {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (req: HttpRequest): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...req.headers };
      if (apiKey && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
        headers.authorization = `Bearer ${apiKey}`;
      }
      // Framed explicitly: Node sends a DELETE or OPTIONS body unframed otherwise, and the server rightly refuses it.
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
      const timeoutMs = req.timeoutMs ?? REQUEST_TIMEOUT_MS;
      const r = httpRequest(
        { host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent },
        (res) => {
          // Taken now: once the answer ends, the agent takes the socket back and `res.socket` is null.
          const socket = res.socket as Socket;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text ? JSON.parse(text) : undefined;
            } catch {
              body = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, socket });
          });
        },
      );
      const timer = setTimeout(
        () => fail(new InvariantError(`no answer within ${timeoutMs} ms (hang)`, describe(req))),
        timeoutMs,
      );
      function fail(error: Error): void {
        clearTimeout(timer);
        r.destroy();
        reject(
          error instanceof InvariantError
            ? error
            : new InvariantError(`request failed: ${error.message}`, describe(req)),
        );
      }
      r.on('error', fail);
      r.end(req.body);
    });
  return { send, close: () => agent.destroy() };
}

export type HttpClient = ReturnType<typeof httpClient>;

/** A short description of a request for failure messages. */
export function describe(req: HttpRequest): string {
  const body = req.body === undefined ? '' : typeof req.body === 'string' ? req.body : `<${req.body.byteLength} bytes>`;
  return `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers ?? {})} ${body.slice(0, 200)}`;
}

// ------------------------------------------------------------------ invariants

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Codes a 503/504 may carry: the documented upstream failures (docs/rest.md). */
export const UPSTREAM_CODES: readonly ErrorCode[] = ['CIRCUIT_OPEN', 'UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT'];

/**
 * The invariants of every HTTP answer: no 5xx but the documented upstream 503/504, and every error is
 * problem+json whose `code` is a documented code with that very status.
 */
export function checkAnswer(res: HttpResult, req: HttpRequest, { upstream = false } = {}): void {
  const what = describe(req);
  if (res.status >= 500) {
    const code = (res.body as { code?: string } | undefined)?.code;
    if (!(upstream && (res.status === 503 || res.status === 504) && UPSTREAM_CODES.includes(code as ErrorCode))) {
      throw new InvariantError(`answered ${res.status} ${res.text.slice(0, 300)}`, what);
    }
  }
  // Node's HTTP parser refuses a method it does not know, and the adapter a request target with characters RFC 3986
  // forbids (a raw backslash, say), with a bare 400 before any route runs: a protocol error, not an API answer.
  const malformed = !KNOWN_METHODS.has(req.method) || /[\\"<>^`{|}]/.test(req.path);
  const parserRefusal = res.status === 400 && malformed && !res.headers['content-type'];
  if (res.status >= 400 && req.method !== 'HEAD' && !parserRefusal) checkProblem(res, what);
}

/** An error answer is RFC 9457 problem+json with a documented `code` whose status is the answer's. */
export function checkProblem(res: HttpResult, what: string): void {
  const type = String(res.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) {
    throw new InvariantError(`${res.status} with content-type "${type}", not problem+json`, what);
  }
  const body = res.body as { code?: unknown; status?: unknown } | undefined;
  const code = body?.code;
  if (typeof code !== 'string' || !(code in ERROR_STATUS)) {
    throw new InvariantError(`${res.status} with an undocumented code ${JSON.stringify(code)}`, what);
  }
  // A 4xx with no code of its own (415, 405…) carries BAD_REQUEST; any other code must have the answer's status.
  const ownCode = (Object.values(ERROR_STATUS) as number[]).includes(res.status);
  const generic4xx = code === 'BAD_REQUEST' && res.status >= 400 && res.status < 500 && !ownCode;
  if ((ERROR_STATUS[code as ErrorCode] !== res.status && !generic4xx) || body?.status !== res.status) {
    throw new InvariantError(`code ${code} does not match status ${res.status}`, what);
  }
}

/** The error code of a problem answer, or its status when it has none (for the counts). */
export function outcomeOf(res: HttpResult): string {
  const code = (res.body as { code?: unknown } | undefined)?.code;
  return res.status >= 400 && typeof code === 'string' ? `${res.status} ${code}` : String(res.status);
}

/** What a refused write must leave alone: the config file's bytes and the config side of every server row. */
export interface StateProbe {
  capture(): Promise<string>;
}

/** Captures the config file and the config-derived fields of `GET /api/v1/servers` (states and counters vary). */
export function stateProbe(client: HttpClient, configPath: string): StateProbe {
  return {
    async capture() {
      const res = await client.send({ method: 'GET', path: '/api/v1/servers' });
      if (res.status !== 200) throw new Error(`GET /api/v1/servers answered ${res.status}`);
      const rows = (res.body as { servers: Record<string, unknown>[] }).servers.map((s) => [
        s.name,
        s.enabled,
        s.quarantined,
        s.groups,
        s.protocol,
      ]);
      return `${JSON.stringify(rows)}\n${readFileSync(configPath, 'utf8')}`;
    },
  };
}

/** Throws when the state after a refused write differs from before. */
export function checkUnchanged(before: string, after: string, res: HttpResult, req: HttpRequest): void {
  if (before !== after) {
    throw new InvariantError(
      `refused with ${res.status} but the servers or the config file changed:\n  before ${before.slice(0, 400)}\n  after  ${after.slice(0, 400)}`,
      describe(req),
    );
  }
}

// ------------------------------------------------------------------ shared arbitraries

/** Names that have broken servers before: prototype keys, separators, dots, encodings, lengths, unicode. */
export const TRICKY_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  '.',
  '..',
  '...',
  'a:b',
  'a__b',
  '_',
  '-',
  'x'.repeat(64),
  'x'.repeat(65),
  'enable_all',
  'ünïcödé',
  '名前',
  '😀',
  'a b',
  'a/b',
  'a\\b',
  'a%b',
  'a?b',
  'a#b',
  'null',
  'undefined',
  'NaN',
] as const;

/** Any string a name field or path segment may be given. */
export const anyName: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY_NAMES) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,70}$/) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

const UNRESERVED = /[A-Za-z0-9._~-]/;

/** Percent-encodes every byte of `s` (UTF-8) but the unreserved ones. */
export function encodeSegment(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && UNRESERVED.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A path segment for `name`: encoded, or raw (only chars Node lets through), or with broken escapes. */
export const segmentFor = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(encodeSegment(name)) },
    { weight: 1, arbitrary: fc.constant(name.replace(/[^\x21-\x7e]|[/?#]/g, (c) => encodeSegment(c))) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(`${encodeSegment(name)}%`, `%ZZ${encodeSegment(name)}`, '%C0%AF', '%ff%fe', '%00'),
    },
  );

/** A query string of fuzzed pairs (`?a=b&…`, possibly empty), encoded or with broken escapes. */
export const anyQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('q', 'limit', 'apikey', 'since', 'epoch', 'types', 'server', 'legacy', 'group'),
        anyName,
      ),
      fc.oneof(anyName, fc.integer().map(String), fc.constantFrom('', '-1', '1e309', '0x10', '%', '%zz')),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length === 0
      ? ''
      : `?${pairs.map(([k, v]) => `${encodeSegment(k)}=${v.startsWith('%') ? v : encodeSegment(v)}`).join('&')}`,
  );

/** Bodies that have broken parsers: truncation, deep nesting, huge numbers, prototype keys, binary. */
export const NASTY_BODIES = [
  '',
  '{',
  '[',
  '"',
  'null',
  'true',
  '0',
  '-0',
  '1e999',
  '[]',
  '{}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"name":"__proto__","command":"/nonexistent/x"}',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
  '\uFEFF{}',
  '{"a":1}{"b":2}',
  '{"name":"\\ud800"}',
] as const;

/** Any body: JSON of any shape, nasty strings, plain text, or bytes. */
export const anyBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? '') },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_BODIES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
);

/** Content types a client may send (or none). */
export const anyContentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/merge-patch+json',
  'application/problem+json',
  '',
  'json',
  '*/*',
);

/** Content types that are not JSON (a JSON route must refuse them with a 4xx). */
export const NON_JSON_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'text/html',
  'application/xml',
] as const;
