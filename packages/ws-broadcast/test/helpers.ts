import { once } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import {
  type BusEvent,
  createFakeClock,
  type FakeClock,
  type Logger,
  type ServerState,
  type ServerSummary,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createStateView, makeSummary, type StateView } from '@mcpproxy/stateview';
import { createWaitList, withTimeout } from '@mcpproxy/testkit';
import WebSocket, { type ClientOptions } from 'ws';
import { type Broadcaster, type BroadcasterOptions, createBroadcaster, type SnapshotSource } from '../src/index.js';

export const API_KEY = 'sekret-key';

function header(req: IncomingMessage | Request, name: string): string | undefined {
  if (req instanceof Request) return req.headers.get(name) ?? undefined;
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The sample auth hook the app would provide: `Authorization: Bearer`, `X-API-Key`, or `?apikey=`. */
export function sampleAuthorize(req: IncomingMessage | Request): boolean {
  const auth = header(req, 'authorization');
  if (auth === `Bearer ${API_KEY}`) return true;
  if (header(req, 'x-api-key') === API_KEY) return true;
  const url = new URL(req.url ?? '/', 'http://localhost');
  return url.searchParams.get('apikey') === API_KEY;
}

/** The sample origin hook: no Origin (non-browser clients) or a loopback origin. */
export function sampleCheckOrigin(req: IncomingMessage | Request): boolean {
  const origin = header(req, 'origin');
  if (origin === undefined) return true;
  try {
    const host = new URL(origin).hostname;
    return host === '127.0.0.1' || host === 'localhost';
  } catch {
    return false;
  }
}

export interface Hub extends AsyncDisposable {
  bus: EventBus;
  view: StateView;
  b: Broadcaster;
  clock: FakeClock | undefined;
  server: Server;
  port: number;
  /** `ws://127.0.0.1:port` + path. */
  ws(path: string): string;
  /** `http://127.0.0.1:port` + path. */
  http(path: string): string;
  close(): Promise<void>;
}

export interface HubOptions extends Partial<Omit<BroadcasterOptions, 'bus' | 'view' | 'clock'>> {
  /** Use the real clock instead of a fake one. */
  realClock?: boolean;
  /** Install the sample auth and origin hooks. */
  auth?: boolean;
  replayBuffer?: number;
  servers?: ServerSummary[];
  logger?: Logger;
  /** Wraps the real view, e.g. to make it lag the bus. */
  wrapView?: (view: StateView) => SnapshotSource;
  /** Port to listen on (a restart reuses the port of the hub it replaces). @default 0 */
  port?: number;
}

export const SERVERS = ['alpha', 'beta', 'gamma'];

/**
 * A real HTTP server from `@hono/node-server` on 127.0.0.1:0 with a real bus, the real stateview and a broadcaster
 * wired to `upgrade` and `/events`.
 */
export async function startHub(opts: HubOptions = {}): Promise<Hub> {
  const { realClock = false, auth = false, replayBuffer = 1024, servers, wrapView, port: wanted = 0, ...rest } = opts;
  const clock = realClock ? undefined : createFakeClock();
  const bus = createEventBus({ clock, replayBuffer, coalesceMs: 0 });
  const view = createStateView({
    bus,
    app: { state: 'running', version: 'test', started_at: null },
    servers: servers ?? SERVERS.map((name) => makeSummary(name)),
  });
  const b = createBroadcaster({
    bus,
    view: wrapView ? wrapView(view) : view,
    clock,
    authorize: auth ? sampleAuthorize : undefined,
    checkOrigin: auth ? sampleCheckOrigin : undefined,
    ...rest,
  });
  const server = createAdaptorServer({
    fetch: (req: Request) => {
      const { pathname } = new URL(req.url);
      if (pathname === '/events' || pathname === '/api/v1/events') return b.sse(req);
      return new Response('not found', { status: 404 });
    },
  }) as Server;
  server.on('upgrade', b.handleUpgrade);
  server.listen(wanted, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await b.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      view.close();
      bus.close();
    })();
    return closing;
  };
  return {
    bus,
    view,
    b,
    clock,
    server,
    port,
    ws: (path) => `ws://127.0.0.1:${port}${path}`,
    http: (path) => `http://127.0.0.1:${port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: test frames are inspected loosely.
export type Frame = any;

/** A real `ws` client that records every frame (parsed JSON, or the raw text) and can wait for frames. */
export class TestClient implements AsyncDisposable {
  readonly frames: Frame[] = [];
  closeInfo: { code: number; reason: string } | undefined;
  readonly #waits = createWaitList();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      let frame: Frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = text;
      }
      this.frames.push(frame);
      this.#waits.notify();
    });
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.#waits.notify();
    });
    ws.on('error', () => {});
  }

  static open(url: string, options?: ClientOptions): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Waits until `check(frames)` holds. */
  async waitFor(check: (frames: Frame[]) => boolean, what = 'frames', timeoutMs = 10_000): Promise<void> {
    await this.#waits.until(() => check(this.frames), {
      what,
      timeoutMs,
      detail: () => `got ${JSON.stringify(this.frames).slice(0, 500)}`,
    });
  }

  /** Waits for a frame matching `match` (counting from frame `from`) and returns it. */
  async frame(match: (f: Frame) => boolean, what = 'a frame', from = 0): Promise<Frame> {
    let found: Frame;
    await this.waitFor((frames) => {
      for (let i = from; i < frames.length; i++) {
        if (match(frames[i])) {
          found = frames[i];
          return true;
        }
      }
      return false;
    }, what);
    return found;
  }

  /** Waits for the close event. */
  async closed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    await this.waitFor(() => this.closeInfo !== undefined, 'close', timeoutMs);
    return this.closeInfo as { code: number; reason: string };
  }

  /** Events (frames with a `seq` and no control type) received so far, flattening batches. */
  events(): Frame[] {
    const out: Frame[] = [];
    for (const f of this.frames) {
      if (f?.type === 'batch') out.push(...f.events);
      else if (typeof f === 'object' && f !== null && typeof f.seq === 'number' && !CONTROL.has(f.type)) out.push(f);
    }
    return out;
  }

  send(data: string | Buffer): void {
    this.ws.send(data);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.terminate();
    await this.closed();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const CONTROL = new Set(['hello', 'resync', 'subscribed', 'pong', 'error']);

/** Sends a raw HTTP request on a TCP socket and returns everything the server wrote before closing. */
export async function rawRequest(port: number, request: string, timeoutMs = 5_000): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(request);
  try {
    await withTimeout(once(socket, 'close'), timeoutMs, 'the raw request to close');
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A raw upgrade request for `path` with the given extra header lines. */
export function upgradeRequest(path: string, headers: string[], withKey = true): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    ...(withKey ? ['Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='] : []),
    ...headers,
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Publishes a `server_state_changed` with the summary the view will hold. */
export function publishState(bus: EventBus, name: string, from: ServerState, to: ServerState): BusEvent {
  return bus.publish({
    type: 'server_state_changed',
    server: name,
    data: { from, to, reason: 'test', retry_count: 0, summary: makeSummary(name, { state: to }) },
  }) as BusEvent;
}

/** Publishes a `tool_called` (no summary, ~200 bytes on the wire). */
export function publishCall(bus: EventBus, server: string, tool = 'echo', durationMs = 1): BusEvent {
  return bus.publish({
    type: 'tool_called',
    server,
    data: { tool, duration_ms: durationMs, status: 'ok' },
  }) as BusEvent;
}

/**
 * The silent gaps in a recorded stream: an event whose seq is not the position + 1, where `hello` (fresh) and
 * `resync` frames set the position explicitly. An empty list means every gap was announced.
 */
export function silentGaps(frames: readonly Frame[]): string[] {
  let pos = -1;
  const out: string[] = [];
  for (const f of frames) {
    if (typeof f !== 'object' || f === null) continue;
    if ((f.type === 'hello' && !f.recovered) || f.type === 'resync') pos = f.seq;
    else if (f.type === 'batch') {
      for (const e of f.events) {
        if (e.seq !== pos + 1) out.push(`${pos} -> ${e.seq}`);
        pos = e.seq;
      }
    } else if (typeof f.seq === 'number' && !CONTROL.has(f.type)) {
      if (f.seq !== pos + 1) out.push(`${pos} -> ${f.seq}`);
      pos = f.seq;
    }
  }
  return out;
}

/** Asserts a strictly increasing, gapless run of seqs. */
export function gaps(seqs: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== (seqs[i - 1] as number) + 1) out.push(i);
  return out;
}

/**
 * A light client for the big runs: keeps no frames, only its position. An event whose seq is not `pos + 1` is a
 * silent gap unless it comes right after a `resync` or a fresh `hello` (which move the position explicitly).
 */
export class SeqClient {
  /** Seq of the last event applied; -1 before hello. */
  pos = -1;
  received = 0;
  resyncs = 0;
  readonly silentGaps: string[] = [];
  readonly hellos: { seq: number; recovered: boolean }[] = [];
  closed = false;
  readonly #waits = createWaitList();

  constructor(
    readonly ws: WebSocket,
    since?: number,
  ) {
    if (since !== undefined) this.pos = since;
    ws.on('message', (data) => this.#onFrame(data.toString()));
    ws.on('close', () => {
      this.closed = true;
      this.#waits.notify();
    });
    ws.on('error', () => {});
  }

  static open(url: string, since?: number, epoch?: string): SeqClient {
    const q = since === undefined ? '' : `${url.includes('?') ? '&' : '?'}since=${since}&epoch=${epoch}`;
    return new SeqClient(new WebSocket(url + q), since);
  }

  #onFrame(text: string): void {
    const f = JSON.parse(text) as { type: string; seq: number; recovered?: boolean };
    if (f.type === 'hello') {
      this.hellos.push({ seq: f.seq, recovered: f.recovered === true });
      if (!f.recovered) this.pos = f.seq;
    } else if (f.type === 'resync') {
      this.resyncs++;
      this.pos = f.seq;
    } else if (typeof f.seq === 'number') {
      if (f.seq !== this.pos + 1) this.silentGaps.push(`${this.pos} -> ${f.seq}`);
      this.pos = f.seq;
      this.received++;
    }
    this.#waits.notify();
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    await this.#waits.until(check, {
      what,
      timeoutMs,
      detail: () => `pos ${this.pos}, received ${this.received}`,
    });
  }
}

/** The client-side TCP socket of a `ws` client, to pause its reading. */
export function socketOf(ws: WebSocket): net.Socket {
  return (ws as unknown as { _socket: net.Socket })._socket;
}

/** One parsed SSE block. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A `fetch`-based SSE reader that parses every block; reading can start paused to stall the consumer. */
export class SseReader implements AsyncDisposable {
  readonly events: SseEvent[] = [];
  done = false;
  readonly #waits = createWaitList();
  #buffer = '';
  #reading = false;

  private constructor(
    readonly response: Response,
    readonly abort: AbortController,
  ) {}

  static async open(url: string, { headers = {}, paused = false } = {}): Promise<SseReader> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    const reader = new SseReader(response, abort);
    if (!paused) reader.resume();
    return reader;
  }

  /** Starts (or restarts) reading the body. */
  resume(): void {
    if (this.#reading || !this.response.body) return;
    this.#reading = true;
    const reader = this.response.body.getReader();
    const decoder = new TextDecoder();
    const pump = async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          this.#feed(decoder.decode(value, { stream: true }));
        }
      } catch {
        // aborted
      }
      this.done = true;
      this.#waits.notify();
    };
    void pump();
  }

  #feed(text: string): void {
    this.#buffer += text;
    for (let end = this.#buffer.indexOf('\n\n'); end >= 0; end = this.#buffer.indexOf('\n\n')) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const ev: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) ev.comment = line.slice(1).trim();
        else {
          const i = line.indexOf(':');
          const field = line.slice(0, i);
          const value = line.slice(i + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') ev[field] = value;
        }
      }
      this.events.push(ev);
    }
    this.#waits.notify();
  }

  /** Parsed `data` of the named events (all when `event` is omitted), comments excluded. */
  data(event?: string): Frame[] {
    return this.events
      .filter((e) => e.data !== undefined && (event === undefined || e.event === event))
      .map((e) => JSON.parse(e.data as string));
  }

  async waitFor(check: (events: SseEvent[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await this.#waits.until(() => check(this.events), {
      what,
      timeoutMs,
      detail: () => `got ${JSON.stringify(this.events).slice(0, 400)}`,
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
