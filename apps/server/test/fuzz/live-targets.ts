// Live-delivery fuzz targets (docs/live.md): `/ws/events` and `/ws/servers` with fuzzed `since`/`epoch`/`types`/`server`
// and fuzzed client frames (text, binary, garbage, oversized, ops); SSE `/events` with fuzzed `Last-Event-ID`.
// Invariants: a refused query is a 400 problem, never a crash; the hello never claims a replay from another epoch;
// every frame gets its documented answer and the connection stays (an oversized one closes 1009); a
// `Last-Event-ID` of any shape gets 200 and a hello, fresh unless it names this epoch's position.
import { ClientOpSchema, EVENT_TYPES, LEGACY_ALIASES } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import fc from 'fast-check';
import WebSocket from 'ws';
import {
  checkProblem,
  type FuzzStats,
  type FuzzTarget,
  InvariantError,
  REQUEST_TIMEOUT_MS,
  target,
} from './harness.js';
import { DUMMIES, FUZZ_KEY, WS_MAX_MESSAGE } from './servers.js';

export interface LiveContext {
  url: string;
  bus: EventBus;
  stats?: FuzzStats | undefined;
}

const KNOWN_TYPES: readonly string[] = [...EVENT_TYPES, ...Object.values(LEGACY_ALIASES)];

/** A `since` value: a real position (now, a bit back, the future), or garbage. */
const sinceArb = fc.option(
  fc.oneof(
    fc.constant('now'),
    fc.nat({ max: 5 }).map((back) => `back:${back}`),
    fc.constantFrom('-1', '1e3', '0x1', ' 1', '1.5', '9999999999999999', '99999999999999999999', 'abc', '', '%'),
    fc.string({ maxLength: 12 }),
  ),
  { freq: 3 },
);

function resolveSince(s: string | null, bus: EventBus): string | null {
  if (s === null) return null;
  if (s === 'now') return String(bus.seq);
  if (s.startsWith('back:')) return String(Math.max(0, bus.seq - Number(s.slice(5))));
  return s;
}

const epochArb = fc.option(
  fc.oneof(fc.constant('current'), fc.constantFrom('', '0', 'deadbeef'), fc.string({ maxLength: 20 })),
  {
    freq: 3,
  },
);

const typesArb = fc.option(
  fc
    .array(fc.oneof(fc.constantFrom(...KNOWN_TYPES), fc.string({ maxLength: 12 })), { maxLength: 3 })
    .map((a) => a.join(',')),
  { freq: 2 },
);

type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'oversize'; size: number };

const opArb = fc.oneof(
  fc.constant({ op: 'ping' }),
  fc.record(
    {
      op: fc.constant('subscribe'),
      types: fc.oneof(
        fc.array(fc.constantFrom(...KNOWN_TYPES), { maxLength: 3 }),
        fc.array(fc.string(), { maxLength: 2 }),
        fc.anything(),
      ),
      servers: fc.oneof(fc.array(fc.constantFrom(...DUMMIES), { maxLength: 2 }), fc.anything()),
    },
    { requiredKeys: ['op'] },
  ),
  fc.record({ op: fc.oneof(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 })) }, { requiredKeys: [] }),
);

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: opArb.map((op) => ({ kind: 'text' as const, data: JSON.stringify(op) })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('ping', ' ping\n', 'PING', 'pong', '', '{', 'null', '[]', '"ping"', '{"op":"ping"}x')
      .map((data) => ({ kind: 'text' as const, data })),
  },
  {
    weight: 2,
    arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }).map((data) => ({ kind: 'text' as const, data })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((data) => ({ kind: 'binary' as const, data })) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: WS_MAX_MESSAGE + 1, max: WS_MAX_MESSAGE * 4 })
      .map((size) => ({ kind: 'oversize' as const, size })),
  },
);

/** The answer the contract promises for one client frame. */
function expectedReply(text: string, endpoint: string): 'text-pong' | 'pong' | 'subscribed' | 'error' {
  if (text.trim() === 'ping') return 'text-pong';
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'error';
  }
  const parsed = ClientOpSchema.safeParse(msg);
  if (!parsed.success) return 'error';
  if (parsed.data.op === 'ping') return 'pong';
  // /ws/servers is about named servers: a subscribe that empties its server list is refused.
  return endpoint === '/ws/servers' && parsed.data.servers?.length === 0 ? 'error' : 'subscribed';
}

function replyKind(data: string): 'text-pong' | 'pong' | 'subscribed' | 'error' | 'other' {
  if (data === 'pong') return 'text-pong';
  try {
    const type = (JSON.parse(data) as { type?: unknown }).type;
    if (type === 'pong' || type === 'subscribed' || type === 'error') return type;
  } catch {
    // Not JSON: not a reply either.
  }
  return 'other';
}

/** A WebSocket client that queues frames and waits for them with a bound. */
class Socket {
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  closeCode: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.queue.push(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString());
      this.waiter?.();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiter?.();
    });
    ws.on('error', () => {});
  }

  /** The next frame that `accept` takes (others are skipped), `undefined` on close; throws after the bound. */
  async next(accept: (data: string) => boolean, what: string): Promise<string | undefined> {
    const until = Date.now() + REQUEST_TIMEOUT_MS;
    for (;;) {
      while (this.queue.length > 0) {
        const data = this.queue.shift() as string;
        if (accept(data)) return data;
      }
      if (this.closeCode !== undefined) return undefined;
      const left = until - Date.now();
      if (left <= 0) throw new InvariantError(`no ${what} within ${REQUEST_TIMEOUT_MS} ms`, '');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }
}

/** Opens a WebSocket; resolves with the socket or with the HTTP answer that refused the upgrade. */
function openWs(url: string): Promise<{ socket: Socket } | { status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${FUZZ_KEY}` }, maxPayload: 64 * 1024 * 1024 });
    const socket = new Socket(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new InvariantError(`upgrade not answered within ${REQUEST_TIMEOUT_MS} ms`, url));
    }, REQUEST_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ socket });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text, type: String(res.headers['content-type'] ?? '') });
      });
    });
    ws.once('error', (error) => {
      clearTimeout(timer);
      reject(new InvariantError(`WebSocket error: ${error.message}`, url));
    });
  });
}

const isSeq = (s: string | null) => s === null || s === '' || /^\d{1,15}$/.test(s.trim());

/** The live targets against a fuzz server (without upstreams, so its event stream is quiet). */
export function liveTargets(ctx: LiveContext): FuzzTarget<unknown>[] {
  const { bus } = ctx;
  const wsBase = ctx.url.replace(/^http/, 'ws');
  const record = (name: string, outcome: string | number) => ctx.stats?.outcome(name, outcome);

  const ws = target(
    'ws: /ws/events and /ws/servers with fuzzed queries and frames',
    fc.record({
      endpoint: fc.constantFrom('/ws/events', '/ws/servers'),
      servers: fc.array(fc.oneof(fc.constantFrom(...DUMMIES), fc.string({ maxLength: 10 })), { maxLength: 2 }),
      since: sinceArb,
      epoch: epochArb,
      types: typesArb,
      frames: fc.array(frameArb, { maxLength: 5 }),
    }),
    async ({ endpoint, servers, since: sinceGen, epoch: epochGen, types, frames }) => {
      const since = resolveSince(sinceGen, bus);
      const epoch = epochGen === 'current' ? bus.epoch : epochGen;
      const params = new URLSearchParams();
      for (const s of servers) params.append('server', s);
      if (since !== null) params.set('since', since);
      if (epoch !== null) params.set('epoch', epoch);
      if (types !== null) params.set('types', types);
      const url = `${wsBase}${endpoint}?${params}`;
      const name = 'ws: /ws/events and /ws/servers with fuzzed queries and frames';
      const replayable = since !== null && isSeq(since) && since.trim() !== '' && bus.since(Number(since)) !== null;
      const opened = await openWs(url);
      if (!('socket' in opened)) {
        record(name, `upgrade ${opened.status}`);
        const typesBad = types?.split(',').some((t) => t.trim() && !KNOWN_TYPES.includes(t.trim()));
        const serversMissing = endpoint === '/ws/servers' && servers.every((s) => !s.split(',').some((x) => x.trim()));
        if (opened.status !== 400 || (isSeq(since) && !typesBad && !serversMissing)) {
          throw new InvariantError(`upgrade refused with ${opened.status} ${opened.text.slice(0, 200)}`, url);
        }
        checkProblem(
          {
            status: opened.status,
            headers: { 'content-type': opened.type },
            text: opened.text,
            body: JSON.parse(opened.text),
            socket: undefined as never,
          },
          url,
        );
        return;
      }
      const { socket } = opened;
      try {
        const hello = JSON.parse((await socket.next(() => true, 'hello')) ?? '{}') as {
          type?: string;
          recovered?: boolean;
          epoch?: string;
        };
        if (hello.type !== 'hello')
          throw new InvariantError(`first frame is ${JSON.stringify(hello).slice(0, 200)}`, url);
        const recoverable = epoch === bus.epoch && replayable && since !== null && bus.since(Number(since)) !== null;
        if (hello.recovered && epoch !== bus.epoch) throw new InvariantError('a replay from another epoch', url);
        if (hello.recovered !== recoverable) {
          throw new InvariantError(`hello.recovered is ${hello.recovered}, expected ${recoverable}`, url);
        }
        record(name, hello.recovered ? 'hello recovered' : 'hello fresh');
        for (const frame of frames) {
          if (frame.kind === 'oversize') {
            socket.ws.send('x'.repeat(frame.size));
            await socket.next(() => false, 'close 1009');
            record(name, `close ${socket.closeCode}`);
            if (socket.closeCode !== 1009)
              throw new InvariantError(`an oversized frame closed with ${socket.closeCode}`, url);
            return;
          }
          const text = frame.kind === 'text' ? frame.data : Buffer.from(frame.data).toString('utf8');
          if (Buffer.byteLength(text) > WS_MAX_MESSAGE) continue;
          socket.ws.send(frame.data, { binary: frame.kind === 'binary' });
          const reply = await socket.next((d) => replyKind(d) !== 'other', 'reply');
          if (reply === undefined)
            throw new InvariantError(`closed (${socket.closeCode}) after a frame: ${text.slice(0, 100)}`, url);
          const got = replyKind(reply);
          record(name, `reply ${got}`);
          const want = expectedReply(text, endpoint);
          if (got !== want) {
            throw new InvariantError(
              `frame ${JSON.stringify(text.slice(0, 100))} got ${reply.slice(0, 200)}, expected ${want}`,
              url,
            );
          }
        }
        socket.ws.send('{"op":"ping"}');
        const pong = await socket.next((d) => replyKind(d) === 'pong', 'pong after the frames');
        if (pong === undefined) throw new InvariantError(`closed (${socket.closeCode}) instead of staying open`, url);
      } finally {
        socket.ws.terminate();
      }
    },
  );

  const sse = target(
    'sse: /events with fuzzed Last-Event-ID, since and epoch',
    fc.record({
      path: fc.constantFrom('/events', '/api/v1/events'),
      id: fc.option(
        fc.oneof(
          fc.constantFrom('current', 'current-back'),
          fc.constantFrom('0', '1', '17', 'abc', ':', ':5', 'x:', 'deadbeef:1', '-1', '1e3', ' 5 ', 'a:b:c'),
          fc.stringMatching(/^[\x20-\x7e]{0,300}$/),
        ),
        { freq: 4 },
      ),
      since: sinceArb,
      epoch: epochArb,
    }),
    async ({ path, id: idGen, since: sinceGen, epoch: epochGen }) => {
      const since = resolveSince(sinceGen, bus);
      const epoch = epochGen === 'current' ? bus.epoch : epochGen;
      const id =
        idGen === 'current'
          ? `${bus.epoch}:${bus.seq}`
          : idGen === 'current-back'
            ? `${bus.epoch}:${Math.max(0, bus.seq - 1)}`
            : idGen;
      const params = new URLSearchParams();
      if (since !== null) params.set('since', since);
      if (epoch !== null) params.set('epoch', epoch);
      const url = `${ctx.url}${path}?${params}`;
      const what = `GET ${path}?${params} Last-Event-ID: ${JSON.stringify(id)}`;
      const headers: Record<string, string> = { authorization: `Bearer ${FUZZ_KEY}` };
      if (id !== null) headers['last-event-id'] = id;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).catch((e: Error) => {
        throw new InvariantError(`request failed: ${e.message}`, what);
      });
      record('sse: /events with fuzzed Last-Event-ID, since and epoch', res.status);
      if (res.status !== 200) {
        const text = await res.text();
        // Only a malformed `since` in the URL may be refused; a Last-Event-ID of any shape never is.
        if (res.status !== 400 || isSeq(since))
          throw new InvariantError(`answered ${res.status} ${text.slice(0, 200)}`, what);
        checkProblem(
          {
            status: res.status,
            headers: { 'content-type': res.headers.get('content-type') ?? '' },
            text,
            body: JSON.parse(text),
            socket: undefined as never,
          },
          what,
        );
        return;
      }
      const hello = await firstSseEvent(res, what);
      if (hello.event !== 'hello') throw new InvariantError(`first event is ${hello.event}`, what);
      const data = JSON.parse(hello.data) as { recovered?: boolean };
      const fromId = id !== null && id !== '';
      const pos = fromId ? /^(.*):(0|[1-9]\d{0,15})$/.exec(id) : null;
      const resumeEpoch = fromId ? pos?.[1] : epoch;
      if (data.recovered && resumeEpoch !== bus.epoch)
        throw new InvariantError('replayed from another epoch or a garbage id', what);
      if (!data.recovered && pos && pos[1] === bus.epoch && bus.since(Number(pos[2])) !== null) {
        throw new InvariantError("a Last-Event-ID of this epoch's position got a fresh snapshot", what);
      }
      if (hello.id !== undefined && !hello.id.startsWith(`${bus.epoch}:`)) {
        throw new InvariantError(`the hello's id "${hello.id}" is not EPOCH:SEQ of this epoch`, what);
      }
      record(
        'sse: /events with fuzzed Last-Event-ID, since and epoch',
        data.recovered ? 'hello recovered' : 'hello fresh',
      );
    },
  );

  return [ws, sse] as FuzzTarget<unknown>[];
}

/** Reads SSE blocks until the first event with an `event:` or `data:` field, then cancels the stream. */
async function firstSseEvent(res: Response, what: string): Promise<{ event?: string; data: string; id?: string }> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new InvariantError('the stream ended before its first event', what);
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.search(/\r?\n\r?\n/);
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const out: { event?: string; data: string; id?: string } = { data: '' };
        for (const line of block.split(/\r?\n/)) {
          const m = /^([a-z]+): ?(.*)$/.exec(line);
          if (!m) continue;
          if (m[1] === 'event') out.event = m[2];
          if (m[1] === 'data') out.data += m[2];
          if (m[1] === 'id') out.id = m[2];
        }
        if (out.event !== undefined || out.data) return out;
        end = buffer.search(/\r?\n\r?\n/);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
