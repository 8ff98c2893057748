import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type AppInfo,
  type BusEvent,
  ClientOpSchema,
  LIVE_PROTOCOL_VERSION,
  type LiveErrorCode,
  type ServerSummary,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@mcpproxy/contracts';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { Client, type Counters, type Endpoint, Mode, SSE_HIGH_WATER_MARK, type SseRun } from './client.js';
import { type EncodedEvent, EncodingCache, eventId, frameText, sseMessage } from './codec.js';
import { BroadcastError } from './errors.js';
import { problemResponse, rawToString, rejectSocket } from './http.js';
import { omni2InitialStatus, omni2Message, omni2Ping } from './omni2.js';
import { type LiveQuery, parseLiveQuery, resolveTypes } from './query.js';
import { checkSettings, DEFAULTS } from './settings.js';
import type {
  Broadcaster,
  BroadcasterOptions,
  BroadcastSettings,
  BroadcastStats,
  ClientInfo,
  LiveSnapshot,
} from './types.js';

const ROUTES: Readonly<Record<string, Endpoint>> = {
  '/ws/events': 'events',
  '/ws/servers': 'servers',
  '/ws/mcp-status': 'mcp_status',
};

const SSE_PING = Buffer.from(': ping\n\n');
const TEXT_PONG = frameText('pong');
const JSON_PONG = '{"type":"pong"}';
const FRAME_JSON_PONG = frameText(JSON_PONG);

/**
 * Creates the hub. Every event is serialised once (and, without compression, framed once) for all clients; each
 * client has a queue bounded by `send_buffer` messages and `max_buffered_bytes` bytes, and a client that overflows
 * loses its queued events and gets a `resync` snapshot once its socket drains, so no client slows another.
 * @throws {BroadcastError} `INVALID_OPTIONS`
 */
export function createBroadcaster({
  bus,
  view,
  authorize,
  checkOrigin,
  options = {},
  clock = systemClock,
  logger = silentLogger,
  sseKeepaliveMs = 15_000,
  closeTimeoutMs = 5_000,
}: BroadcasterOptions): Broadcaster {
  const settings: BroadcastSettings = { ...DEFAULTS, ...options };
  checkSettings(settings, sseKeepaliveMs, closeTimeoutMs);
  // The epoch goes into every SSE `id:` line: a line break would split the field, a NUL makes browsers drop the id.
  if (/[\r\n\0]/.test(bus.epoch)) {
    throw new BroadcastError('INVALID_OPTIONS', 'bus.epoch must not contain CR, LF or NUL (it is part of SSE ids)');
  }
  const limits = { sendBuffer: settings.send_buffer, maxBufferedBytes: settings.max_buffered_bytes };
  const batchWindow = settings.batch_window;

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: settings.max_message_size,
    perMessageDeflate: settings.permessage_deflate,
  });

  const counters: Counters = { delivered: 0, droppedTotal: 0, droppedByType: new Map(), resyncs: 0, replays: 0 };
  const cache = new EncodingCache();
  /** `/ws/events` and `/ws/servers` clients. */
  const live = new Set<Client>();
  const omni = new Set<Client>();
  const sseClients = new Set<Client>();
  const disposers = new Map<Client, () => void>();
  let serversEndpointCount = 0;
  let nextId = 1;
  let closed = false;
  let closing: Promise<void> | undefined;

  let pingTimer: TimerHandle | undefined;
  const pongChecks = new Set<TimerHandle>();
  let keepaliveTimer: TimerHandle | undefined;
  let batchTimer: TimerHandle | undefined;
  let batchPending: BusEvent[] = [];
  const corked: Client[] = [];
  let uncorkScheduled = false;

  // ---------------------------------------------------------------- snapshots and frames

  let snapCache: { servers: readonly ServerSummary[]; app: AppInfo; json: string } | undefined;
  const snapshotJson = (snap: LiveSnapshot, servers: ReadonlySet<string> | null): string => {
    if (servers) return JSON.stringify({ servers: snap.servers.filter((s) => servers.has(s.name)), app: snap.app });
    if (!snapCache || snapCache.servers !== snap.servers || snapCache.app !== snap.app) {
      snapCache = {
        servers: snap.servers,
        app: snap.app,
        json: JSON.stringify({ servers: snap.servers, app: snap.app }),
      };
    }
    return snapCache.json;
  };
  const epochJson = JSON.stringify(bus.epoch);
  const nowIso = () => new Date(clock.now()).toISOString();

  /** Sends the frame that (re)starts a client's state, whatever its backpressure: `hello` or `resync`. */
  const sendStart = (c: Client, event: 'hello' | 'resync', json: string, id: number): void => {
    if (c.mode === Mode.Raw) {
      const frame = frameText(json);
      c.sendNow(frame, frame.length);
    } else if (c.mode === Mode.Deflate) {
      c.sendNow(json, json.length);
    } else {
      const msg = sseMessage(event, json, eventId(bus.epoch, id));
      c.sendNow(msg, msg.length);
    }
  };

  /** Sends a small control frame (`pong`, `error`, `subscribed`, OMNI2 `ping`) through the client's queue. */
  const sendControl = (c: Client, json: string, type: string, frame?: Buffer): void => {
    if (c.mode === Mode.Deflate) {
      c.offerControl(json, json.length, type);
    } else {
      const f = frame ?? frameText(json);
      c.offerControl(f, f.length, type);
    }
  };

  const sendError = (c: Client, code: LiveErrorCode, message: string): void => {
    sendControl(c, JSON.stringify({ type: 'error', code, message }), 'error');
  };

  // ---------------------------------------------------------------- delivery

  const deliverEvent = (c: Client, enc: EncodedEvent): void => {
    const ev = enc.event;
    if (ev.seq <= c.lastSeq) return;
    c.lastSeq = ev.seq;
    if (!c.accepts(ev.type, ev.server)) return;
    if (c.mode === Mode.Raw) {
      const frame = enc.frame(c.legacy);
      c.offer(frame, frame.length, ev.type, 1);
    } else if (c.mode === Mode.Sse) {
      const msg = enc.sse(c.legacy);
      c.offer(msg, msg.length, ev.type, 1, undefined, ev.seq);
    } else {
      const json = enc.json(c.legacy);
      c.offer(json, json.length, ev.type, 1);
    }
  };

  const batchJson = (events: readonly BusEvent[], legacy: boolean): string => {
    let out = '{"type":"batch","events":[';
    for (let i = 0; i < events.length; i++) {
      if (i > 0) out += ',';
      out += cache.get(events[i] as BusEvent).json(legacy);
    }
    return `${out}]}`;
  };

  /**
   * Sends a client the events it accepts out of `events` as one batch frame. `shared` holds the frame for clients
   * without filters that are behind the whole window, built once.
   */
  const deliverBatch = (
    c: Client,
    events: readonly BusEvent[],
    shared?: { get(): { data: Buffer | string; bytes: number; types: string[] } },
  ): void => {
    if (events.length === 0) return;
    const first = events[0] as BusEvent;
    const last = events[events.length - 1] as BusEvent;
    if (shared && c.types === null && c.servers === null && !c.legacy && c.lastSeq < first.seq) {
      c.lastSeq = last.seq;
      const s = shared.get();
      c.offer(s.data, s.bytes, 'batch', events.length, s.types);
      return;
    }
    const accepted: BusEvent[] = [];
    for (const ev of events) {
      if (ev.seq <= c.lastSeq) continue;
      c.lastSeq = ev.seq;
      if (c.accepts(ev.type, ev.server)) accepted.push(ev);
    }
    if (accepted.length === 0) return;
    const json = batchJson(accepted, c.legacy);
    const types = accepted.map((e) => e.type);
    if (c.mode === Mode.Raw) {
      const frame = frameText(json);
      c.offer(frame, frame.length, 'batch', accepted.length, types);
    } else {
      c.offer(json, json.length, 'batch', accepted.length, types);
    }
  };

  /** Delivers past events (a replay or a catch-up) to one client, as one batch when batching is on. */
  const deliverMany = (c: Client, events: readonly BusEvent[]): void => {
    if (batchWindow > 0 && (c.endpoint === 'events' || c.endpoint === 'servers')) {
      deliverBatch(c, events);
      return;
    }
    for (const ev of events) deliverEvent(c, cache.get(ev));
  };

  /** Brings a client from its position up to what the bus has published, if the view lagged behind the bus. */
  const catchUp = (c: Client): void => {
    if (bus.seq <= c.lastSeq) return;
    const missed = bus.since(c.lastSeq);
    if (missed) deliverMany(c, missed);
    else logger.warn('ws-broadcast: the view lags the bus beyond its replay ring', { seq: c.lastSeq, bus: bus.seq });
  };

  const flushBatch = (): void => {
    batchTimer = undefined;
    const events = batchPending;
    batchPending = [];
    if (events.length === 0 || closed) return;
    let built: { data: Buffer | string; bytes: number; types: string[] } | undefined;
    let builtJson: string | undefined;
    const types = events.map((e) => e.type);
    const rawShared = {
      get() {
        builtJson ??= batchJson(events, false);
        if (!built) {
          const frame = frameText(builtJson);
          built = { data: frame, bytes: frame.length, types };
        }
        return built;
      },
    };
    const jsonShared = {
      get() {
        builtJson ??= batchJson(events, false);
        return { data: builtJson, bytes: builtJson.length, types };
      },
    };
    for (const c of live) deliverBatch(c, events, c.mode === Mode.Raw ? rawShared : jsonShared);
  };

  const onEvent = (ev: BusEvent): void => {
    if (closed) return;
    const enc = cache.get(ev);
    if (live.size > 0) {
      if (batchWindow > 0) {
        batchPending.push(ev);
        batchTimer ??= clock.setTimeout(flushBatch, batchWindow);
      } else {
        for (const c of live) deliverEvent(c, enc);
      }
    }
    for (const c of sseClients) deliverEvent(c, enc);
    if (omni.size > 0) {
      const msg = omni2Message(ev);
      if (msg !== undefined) {
        let frame: Buffer | undefined;
        for (const c of omni) {
          if (ev.seq <= c.lastSeq) continue;
          c.lastSeq = ev.seq;
          if (c.mode === Mode.Deflate) {
            c.offer(msg, msg.length, ev.type, 1);
          } else {
            frame ??= frameText(msg);
            c.offer(frame, frame.length, ev.type, 1);
          }
        }
      }
    }
  };

  const unsubscribe = bus.subscribe('*', onEvent);

  // ---------------------------------------------------------------- hello and resync

  const greet = (c: Client, query: LiveQuery): void => {
    const snap = view.snapshot();
    const replay = query.since !== undefined && query.epoch === bus.epoch ? bus.since(query.since) : null;
    const recovered = replay !== null;
    const json =
      `{"type":"hello","protocol":${LIVE_PROTOCOL_VERSION},"epoch":${epochJson},"seq":${snap.seq},` +
      `"snapshot":${snapshotJson(snap, c.servers)},"recovered":${recovered}}`;
    // SSE: the hello's id is where the client stands after it: the resume point when the missed events follow (a
    // reconnect before they arrive asks for them again), else the snapshot's seq.
    sendStart(c, 'hello', json, recovered ? (query.since as number) : snap.seq);
    if (replay) {
      counters.replays++;
      c.lastSeq = query.since as number;
      deliverMany(c, replay);
    } else {
      c.lastSeq = snap.seq;
    }
    catchUp(c);
  };

  const greetOmni = (c: Client): void => {
    const snap = view.snapshot();
    sendStart(c, 'hello', omni2InitialStatus(snap.servers, nowIso()), snap.seq);
    c.lastSeq = snap.seq;
  };

  const resync = (c: Client): void => {
    const dropped = c.droppedSinceResync;
    c.needsResync = false;
    c.droppedSinceResync = 0;
    counters.resyncs++;
    if (c.endpoint === 'mcp_status') {
      greetOmni(c);
      return;
    }
    const snap = view.snapshot();
    const json =
      `{"type":"resync","epoch":${epochJson},"seq":${snap.seq},"snapshot":${snapshotJson(snap, c.servers)},` +
      `"dropped":${dropped}}`;
    sendStart(c, 'resync', json, snap.seq);
    c.lastSeq = snap.seq;
    catchUp(c);
  };

  // ---------------------------------------------------------------- write coalescing

  const uncorkAll = (): void => {
    uncorkScheduled = false;
    // A write that corks again from here on belongs to the next round, not to this loop.
    for (const c of corked.splice(0)) {
      c.uncorkListed = false;
      c.uncork();
    }
    joined.clear();
  };

  /**
   * SSE clients whose tick carried the same run of consecutive events (in the same variant) get the same bytes, so
   * they share one joined chunk instead of each copying its own.
   */
  const joined = new Map<string, Buffer>();
  const join = (parts: Buffer[], bytes: number, run: SseRun | undefined): Buffer => {
    if (!run) return Buffer.concat(parts, bytes);
    const key = `${run.legacy ? 'L' : 'C'}${run.first}-${run.last}`;
    let chunk = joined.get(key);
    if (!chunk) {
      chunk = Buffer.concat(parts, bytes);
      joined.set(key, chunk);
    }
    return chunk;
  };

  const onCork = (c: Client): void => {
    if (c.uncorkListed) return;
    c.uncorkListed = true;
    corked.push(c);
    if (!uncorkScheduled) {
      uncorkScheduled = true;
      process.nextTick(uncorkAll);
    }
  };

  // ---------------------------------------------------------------- client registry

  const newClient = (
    endpoint: Endpoint,
    mode: Mode,
    query: LiveQuery,
    transport: Partial<Pick<Client, 'ws' | 'socket' | 'controller'>>,
  ): Client =>
    new Client({
      id: nextId++,
      endpoint,
      mode,
      types: query.types,
      servers: query.servers,
      legacy: query.legacy,
      limits,
      counters,
      onResync: resync,
      onCork: mode === Mode.Deflate ? undefined : onCork,
      join: mode === Mode.Sse ? join : undefined,
      ...transport,
    });

  const register = (c: Client): void => {
    if (c.endpoint === 'sse') sseClients.add(c);
    else if (c.endpoint === 'mcp_status') omni.add(c);
    else {
      live.add(c);
      if (c.endpoint === 'servers') serversEndpointCount++;
    }
    if (c.endpoint === 'sse') armKeepalive();
    else armPing();
  };

  const remove = (c: Client): void => {
    const set = c.endpoint === 'sse' ? sseClients : c.endpoint === 'mcp_status' ? omni : live;
    if (!set.delete(c)) return;
    if (c.endpoint === 'servers') serversEndpointCount--;
    c.release();
    const dispose = disposers.get(c);
    disposers.delete(c);
    dispose?.();
  };

  // ---------------------------------------------------------------- liveness

  const armPing = (): void => {
    if (closed || pingTimer !== undefined || settings.ping_interval <= 0) return;
    pingTimer = clock.setTimeout(pingRound, settings.ping_interval);
  };

  const pingRound = (): void => {
    pingTimer = undefined;
    if (closed) return;
    const now = clock.now();
    let awaiting = false;
    let omniPing: Buffer | undefined;
    let omniPingJson: string | undefined;
    for (const set of [live, omni]) {
      for (const c of set) {
        if (c.gone) continue;
        if (c.awaitingPongSince === undefined) {
          c.awaitingPongSince = now;
          c.ws?.ping();
        }
        awaiting = true;
        if (c.endpoint === 'mcp_status') {
          omniPingJson ??= omni2Ping(new Date(now).toISOString());
          omniPing ??= frameText(omniPingJson);
          sendControl(c, omniPingJson, 'ping', omniPing);
        }
      }
    }
    if (awaiting) {
      const check = clock.setTimeout(() => {
        pongChecks.delete(check);
        for (const set of [live, omni]) {
          for (const c of set) {
            if (c.awaitingPongSince !== undefined && c.awaitingPongSince <= now) {
              logger.debug('ws-broadcast: no pong in time, terminating', { id: c.id, endpoint: c.endpoint });
              c.ws?.terminate();
            }
          }
        }
      }, settings.pong_timeout);
      pongChecks.add(check);
    }
    if (live.size + omni.size > 0) armPing();
  };

  const armKeepalive = (): void => {
    if (closed || keepaliveTimer !== undefined || sseKeepaliveMs <= 0) return;
    keepaliveTimer = clock.setTimeout(() => {
      keepaliveTimer = undefined;
      if (closed) return;
      for (const c of sseClients) c.keepalive(SSE_PING);
      if (sseClients.size > 0) armKeepalive();
    }, sseKeepaliveMs);
  };

  // ---------------------------------------------------------------- client ops

  const onOmniMessage = (c: Client, text: string): void => {
    let isPing = text.trim() === 'ping';
    if (!isPing) {
      try {
        const msg = JSON.parse(text) as { type?: unknown; op?: unknown } | null;
        isPing = msg?.type === 'ping' || msg?.op === 'ping';
      } catch {
        // OMNI2 clients get no error frames: the dialect has none.
      }
    }
    if (isPing) sendControl(c, JSON.stringify({ type: 'pong', timestamp: nowIso() }), 'pong');
  };

  const onMessage = (c: Client, data: RawData): void => {
    const text = rawToString(data);
    if (c.endpoint === 'mcp_status') {
      onOmniMessage(c, text);
      return;
    }
    if (text.trim() === 'ping') {
      if (c.mode === Mode.Deflate) c.offerControl('pong', 4, 'pong');
      else c.offerControl(TEXT_PONG, TEXT_PONG.length, 'pong');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      sendError(c, 'BAD_JSON', 'the frame is not valid JSON');
      return;
    }
    const op =
      typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as { op?: unknown }).op : undefined;
    if (op !== 'subscribe' && op !== 'ping') {
      sendError(
        c,
        'UNKNOWN_OP',
        typeof op === 'string'
          ? `unknown op "${op}" (known: subscribe, ping)`
          : 'a client frame is an object with an "op": subscribe or ping',
      );
      return;
    }
    const parsed = ClientOpSchema.safeParse(msg);
    if (!parsed.success) {
      sendError(
        c,
        'BAD_REQUEST',
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      );
      return;
    }
    const op2 = parsed.data;
    if (op2.op === 'ping') {
      sendControl(c, JSON_PONG, 'pong', FRAME_JSON_PONG);
      return;
    }
    if (op2.servers !== undefined && op2.servers.length === 0 && c.endpoint === 'servers') {
      sendError(c, 'BAD_REQUEST', '/ws/servers needs at least one server');
      return;
    }
    if (op2.types !== undefined) c.types = resolveTypes(op2.types);
    if (op2.servers !== undefined) c.servers = op2.servers.length > 0 ? new Set(op2.servers) : null;
    sendControl(
      c,
      JSON.stringify({
        type: 'subscribed',
        types: c.types ? [...c.types] : null,
        servers: c.servers ? [...c.servers] : null,
      }),
      'subscribed',
    );
  };

  // ---------------------------------------------------------------- WebSocket upgrade

  const onOpen = (ws: WebSocket, socket: Duplex, endpoint: Endpoint, query: LiveQuery): void => {
    if (closed) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const deflate = ws.extensions.includes('permessage-deflate');
    const c = newClient(endpoint, deflate ? Mode.Deflate : Mode.Raw, query, { ws, socket });
    ws.on('error', (error) => logger.debug('ws-broadcast: client error', { id: c.id, error: String(error) }));
    ws.on('close', () => remove(c));
    ws.on('pong', () => {
      c.awaitingPongSince = undefined;
    });
    ws.on('message', (data) => onMessage(c, data));
    if (!deflate) {
      const onDrain = () => c.flush();
      socket.on('drain', onDrain);
      disposers.set(c, () => socket.off('drain', onDrain));
    }
    register(c);
    if (endpoint === 'mcp_status') greetOmni(c);
    else greet(c, query);
  };

  const upgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Until ws owns the socket, a reset by the peer must not crash the process.
    socket.on('error', () => {});
    if (closed) return rejectSocket(socket, 503, 'INTERNAL', 'the server is shutting down');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const endpoint = ROUTES[url.pathname];
    if (!endpoint) return rejectSocket(socket, 404, 'NOT_FOUND', `no live endpoint at ${url.pathname}`);
    if (checkOrigin && !checkOrigin(req)) {
      return rejectSocket(socket, 403, 'FORBIDDEN_ORIGIN', 'this Origin may not open live connections');
    }
    if (authorize && !(await authorize(req))) {
      return rejectSocket(socket, 401, 'UNAUTHORIZED', 'a valid API key is required');
    }
    if (closed) return rejectSocket(socket, 503, 'INTERNAL', 'the server is shutting down');
    if (socket.destroyed) return;
    let query: LiveQuery;
    try {
      query =
        endpoint === 'mcp_status'
          ? { types: null, servers: null, since: undefined, epoch: undefined, legacy: false }
          : parseLiveQuery(url.searchParams, { requireServer: endpoint === 'servers' });
    } catch (error) {
      if (error instanceof BroadcastError) return rejectSocket(socket, 400, 'BAD_REQUEST', error.message);
      throw error;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, socket, endpoint, query));
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgrade(req, socket, head).catch((error: unknown) => {
      logger.error('ws-broadcast: upgrade failed', { error: String(error) });
      rejectSocket(socket, 500, 'INTERNAL', 'the upgrade failed');
    });
  };

  // ---------------------------------------------------------------- SSE

  const endSse = (c: Client): void => {
    if (!sseClients.has(c)) return;
    remove(c);
    try {
      c.controller?.close();
    } catch {
      // Already closed or cancelled by the reader.
    }
  };

  const sse = async (request: Request): Promise<Response> => {
    if (closed) return problemResponse(503, 'INTERNAL', 'the server is shutting down');
    if (checkOrigin && !checkOrigin(request)) {
      return problemResponse(403, 'FORBIDDEN_ORIGIN', 'this Origin may not open live connections');
    }
    if (authorize && !(await authorize(request))) {
      return problemResponse(401, 'UNAUTHORIZED', 'a valid API key is required');
    }
    if (closed) return problemResponse(503, 'INTERNAL', 'the server is shutting down');
    let query: LiveQuery;
    try {
      query = parseLiveQuery(new URL(request.url).searchParams, {
        lastEventId: request.headers.get('last-event-id'),
      });
    } catch (error) {
      if (error instanceof BroadcastError) return problemResponse(400, 'BAD_REQUEST', error.message);
      throw error;
    }
    let client: Client | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          client = newClient('sse', Mode.Sse, query, {
            controller: controller as ReadableStreamDefaultController<Uint8Array>,
          });
        },
        pull() {
          client?.flush();
        },
        cancel() {
          if (client) remove(client);
        },
      },
      { highWaterMark: SSE_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    const c = client as unknown as Client;
    register(c);
    greet(c, query);
    const onAbort = () => endSse(c);
    if (request.signal.aborted) endSse(c);
    else {
      request.signal.addEventListener('abort', onAbort, { once: true });
      disposers.set(c, () => request.signal.removeEventListener('abort', onAbort));
    }
    return new Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  };

  // ---------------------------------------------------------------- stats and lifecycle

  const stats = (): BroadcastStats => ({
    connections: {
      events: live.size - serversEndpointCount,
      servers: serversEndpointCount,
      mcp_status: omni.size,
      sse: sseClients.size,
    },
    delivered: counters.delivered,
    dropped: { total: counters.droppedTotal, by_type: Object.fromEntries(counters.droppedByType) },
    resyncs: counters.resyncs,
    replays: counters.replays,
  });

  const inspect = (): ClientInfo[] =>
    [...live, ...omni, ...sseClients].map((c) => ({
      id: c.id,
      endpoint: c.endpoint,
      lastSeq: c.lastSeq,
      queued: c.queued,
      queuedBytes: c.queuedBytes,
      peakQueued: c.peakQueued,
      peakQueuedBytes: c.peakQueuedBytes,
      buffered: c.buffered,
      needsResync: c.needsResync,
      dropped: c.droppedTotal,
      awaitingPong: c.awaitingPongSince !== undefined,
    }));

  const shutdown = async (): Promise<void> => {
    closed = true;
    unsubscribe();
    clock.clearTimeout(pingTimer);
    clock.clearTimeout(keepaliveTimer);
    clock.clearTimeout(batchTimer);
    for (const t of pongChecks) clock.clearTimeout(t);
    pongChecks.clear();
    pingTimer = keepaliveTimer = batchTimer = undefined;
    batchPending = [];
    for (const c of [...sseClients]) endSse(c);
    const sockets = [...live, ...omni].flatMap((c) => (c.ws ? [c.ws] : []));
    const waits: Promise<void>[] = [];
    for (const ws of sockets) {
      if (ws.readyState === ws.CLOSED) continue;
      waits.push(new Promise<void>((resolve) => ws.once('close', () => resolve())));
      try {
        ws.close(1001, 'server shutting down');
      } catch {
        ws.terminate();
      }
    }
    for (const c of [...live, ...omni]) c.closed = true;
    wss.close();
    if (waits.length > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.all(waits),
        new Promise<void>((resolve) => {
          timer = clock.setTimeout(resolve, closeTimeoutMs);
        }),
      ]);
      clock.clearTimeout(timer);
      for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
    }
    for (const c of [...live, ...omni]) remove(c);
  };

  const close = (): Promise<void> => {
    closing ??= shutdown();
    return closing;
  };

  return { handleUpgrade, sse, stats, inspect, close, [Symbol.asyncDispose]: close };
}
