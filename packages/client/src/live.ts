import type { AppInfo, BusEvent, Clock, ServerSummary, Snapshot } from '@mcpproxy/contracts';
import { systemClock } from '@mcpproxy/contracts';
import { initialState, reduce, type ViewState } from '@mcpproxy/stateview';
import { type BackoffOptions, POLL_INTERVAL_MS, RECONNECT_DELAYS_MS, reconnectDelay } from './backoff.js';
import {
  type ConnEffect,
  type ConnInput,
  type ConnState,
  INITIAL,
  START_EFFECTS,
  statusOf,
  transition,
} from './connection.js';
import { createRestClient, liveParams, type RestClient, serverRoot } from './rest.js';
import type { FetchLike } from './types.js';
import { type Subscribable, type Unsubscribe, writable } from './value.js';

/**
 * The part of a WebSocket the live client uses: the browser's `WebSocket` and the `ws` package's both fit.
 * Handlers take `never` so that either implementation's own event types are accepted.
 */
export interface WebSocketLike {
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * `live`: the socket is up and the copy is current. `reconnecting`: the socket is down (or not up yet) and being
 * retried. `polling`: every reconnect delay has passed, so the copy is refreshed from `GET /api/v1/servers` every
 * 30 s while the socket is still retried.
 */
export type LiveStatus = 'live' | 'reconnecting' | 'polling';

/** Where the live connection stands. */
export interface ConnectionInfo {
  status: LiveStatus;
  /** Epoch of the server process the copy comes from; `null` before the first `hello`. */
  epoch: string | null;
  /** Seq of the last event applied; `null` before the first `hello`. */
  seq: number | null;
  /** Reconnect attempts made since the socket was last up. */
  attempts: number;
  /** When the next reconnect attempt is due (clock ms); `null` while live or connecting. */
  retryAt: number | null;
  /** Why the last attempt or connection ended; `null` while live. */
  lastError: string | null;
}

/** Why the local copy was replaced wholesale rather than patched by events (a gap the events did not cover). */
export type ResetReason = 'fresh' | 'resync' | 'poll';

/** Options of {@link createLiveClient}. */
export interface LiveClientOptions {
  /** The server's root, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The API key, sent as `?apikey=` on the socket (browsers cannot set headers there) and as a header on polls. */
  apiKey?: string | undefined;
  /** The WebSocket constructor. @default globalThis.WebSocket (in Node 20 pass `WebSocket` from `ws`) */
  WebSocket?: WebSocketConstructor | undefined;
  /** The fetch used for polling. @default globalThis.fetch */
  fetch?: FetchLike | undefined;
  /** Time source of every delay. @default systemClock */
  clock?: Clock | undefined;
  /** Only these event types (the server filters; the copy of the servers then follows only these). @default all */
  types?: readonly string[] | undefined;
  /** Only these servers' events and rows (the server filters). @default all */
  servers?: readonly string[] | undefined;
  /** Reconnect delays, then polling. @default 1, 2, 4, 8, 16, 32 s */
  delays?: BackoffOptions['delays'];
  /** Spread of each delay. @default 0.2 */
  jitter?: BackoffOptions['jitter'];
  /** Randomness of the jitter. @default Math.random */
  random?: BackoffOptions['random'];
  /** Period of the polling fallback. @default 30000 */
  pollIntervalMs?: number | undefined;
  /** An attempt that has not brought a `hello` in this long is given up. @default 10000 */
  connectTimeoutMs?: number | undefined;
  /** The REST client for polling. @default one made from `url`, `apiKey`, `fetch` and `clock` */
  rest?: RestClient | undefined;
  /** Called when a listener throws; the others are called regardless. @default ignore */
  onListenerError?: ((error: unknown) => void) | undefined;
}

/** A live copy of the server's read model. */
export interface LiveClient {
  /** `live` | `reconnecting` | `polling`. */
  readonly status: Subscribable<LiveStatus>;
  /** Every server (as filtered), ordered by name; a new frozen array on each change. */
  readonly servers: Subscribable<readonly ServerSummary[]>;
  /** Process-wide state of the server. */
  readonly app: Subscribable<AppInfo>;
  /** Status plus epoch, seq, attempts and the next retry time. */
  readonly connection: Subscribable<ConnectionInfo>;
  /**
   * Calls `listener` with every event, once each, in seq order — including the events replayed after a resume, so
   * a reconnect leaves no gap. When the server could not replay (it restarted, or the gap outgrew its buffer) the
   * copy is replaced instead and {@link onReset} listeners are told.
   */
  onEvent(listener: (event: BusEvent) => void): Unsubscribe;
  /** Calls `listener` whenever the copy was replaced by a snapshot rather than patched by events. */
  onReset(listener: (reason: ResetReason) => void): Unsubscribe;
  /** Closes the socket, cancels every timer and poll, and drops every listener. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;
}

const CONTROL_TYPES = new Set(['hello', 'resync', 'batch', 'subscribed', 'pong', 'error']);

interface HelloLike {
  type: 'hello' | 'resync';
  epoch: string;
  seq: number;
  snapshot: Snapshot;
  recovered?: boolean;
}

/**
 * Connects to `/ws/events` and keeps a local copy of the servers with the stateview reducers (the very functions the
 * server's read model uses). On a drop it reconnects after 1, 2, 4, 8, 16 and 32 s (±20 %), resuming with
 * `since`/`epoch`; past those it polls `GET /api/v1/servers` every 30 s while retrying the socket every 32 s, and it
 * stops polling the moment the socket is back. It never polls while the socket is up.
 *
 * @example
 * import WebSocket from 'ws'; // browsers: leave WebSocket out
 * const live = createLiveClient({ url: 'http://127.0.0.1:8080', WebSocket });
 * live.status.subscribe((s) => console.log('status', s));
 * live.servers.subscribe((rows) => console.table(rows.map((r) => ({ name: r.name, state: r.state }))));
 */
export function createLiveClient({
  url,
  apiKey,
  WebSocket: Socket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket,
  fetch: fetchFn,
  clock = systemClock,
  types,
  servers: serverFilter,
  delays = RECONNECT_DELAYS_MS,
  jitter,
  random,
  pollIntervalMs = POLL_INTERVAL_MS,
  connectTimeoutMs = 10_000,
  rest,
  onListenerError = () => {},
}: LiveClientOptions): LiveClient {
  if (!Socket) throw new TypeError('no WebSocket: pass one in the options (in Node 20, `WebSocket` from "ws")');
  const WebSocketCtor = Socket;
  const root = serverRoot(url);
  const wsBase = `${root.replace(/^http/i, 'ws')}/ws/events`;
  const api = rest ?? createRestClient({ url: root, apiKey, fetch: fetchFn, clock });

  let state: ViewState = initialState();
  const info = writable<ConnectionInfo>(
    { status: 'reconnecting', epoch: null, seq: null, attempts: 0, retryAt: null, lastError: null },
    onListenerError,
  );
  const status = writable<LiveStatus>('reconnecting', onListenerError);
  const servers = writable<readonly ServerSummary[]>(state.servers, onListenerError);
  const app = writable<AppInfo>(state.app, onListenerError);
  const eventListeners = new Set<(event: BusEvent) => void>();
  const resetListeners = new Set<(reason: ResetReason) => void>();

  let conn: ConnState = INITIAL;
  let socket: WebSocketLike | undefined;
  let retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  let retryAt: number | null = null;
  let connectTimer: ReturnType<Clock['setTimeout']> | undefined;
  let pollTimer: ReturnType<Clock['setTimeout']> | undefined;
  let pollAbort: AbortController | undefined;
  /** Why the current socket is going down (`ws` reports the error apart from the close). */
  let lastError: string | undefined;
  /** Why the last socket went down: `connection.lastError`. */
  let reason: string | null = null;

  const update = (patch: Partial<ConnectionInfo>) => {
    const next = { ...info.get(), ...patch };
    info.set(next);
    status.set(next.status);
  };
  const publishState = (next: ViewState) => {
    if (next === state) return;
    state = next;
    servers.set(state.servers);
    app.set(state.app);
  };
  const fanOut = <T>(listeners: Set<(value: T) => void>, value: T) => {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        onListenerError(error);
      }
    }
  };

  // ------------------------------------------------------------------ the shell around connection.ts

  const queue: ConnInput[] = [];
  let feeding = false;
  /** Runs `input` through the core and its effects; inputs raised by an effect are queued, not nested. */
  const feed = (input: ConnInput) => {
    queue.push(input);
    if (feeding) return;
    feeding = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const before = conn;
        const step = transition(conn, next, delays.length);
        conn = step.state;
        for (const effect of step.effects) run(effect);
        if (conn !== before && conn.phase !== 'closed') {
          update({
            status: statusOf(conn),
            attempts: conn.retries,
            retryAt: conn.phase === 'waiting' ? retryAt : null,
            lastError: conn.phase === 'live' ? null : reason,
          });
        }
      }
    } finally {
      feeding = false;
    }
  };

  const run = (effect: ConnEffect) => {
    switch (effect.type) {
      case 'open_socket':
        openSocket();
        return;
      case 'close_socket':
        if (socket) drop(socket);
        if (lastError !== undefined) reason = lastError;
        lastError = undefined;
        return;
      case 'arm_connect_timeout':
        connectTimer = clock.setTimeout(() => {
          connectTimer = undefined;
          lastError = `no hello within ${connectTimeoutMs} ms`;
          feed({ type: 'lost' });
        }, connectTimeoutMs);
        return;
      case 'disarm_connect_timeout':
        clock.clearTimeout(connectTimer);
        connectTimer = undefined;
        return;
      case 'schedule_retry': {
        const delay = reconnectDelay(effect.index, { delays, jitter, random });
        retryAt = clock.now() + delay;
        retryTimer = clock.setTimeout(() => {
          retryTimer = undefined;
          retryAt = null;
          feed({ type: 'retry_due' });
        }, delay);
        return;
      }
      case 'cancel_retry':
        clock.clearTimeout(retryTimer);
        retryTimer = undefined;
        retryAt = null;
        return;
      case 'start_polling':
        poll();
        return;
      case 'stop_polling':
        clock.clearTimeout(pollTimer);
        pollTimer = undefined;
        pollAbort?.abort();
        pollAbort = undefined;
        return;
    }
  };

  // ------------------------------------------------------------------ frames

  const replace = (frame: HelloLike, reason: ResetReason) => {
    publishState(initialState({ servers: frame.snapshot.servers, app: frame.snapshot.app }));
    update({ epoch: frame.epoch, seq: frame.seq });
    fanOut(resetListeners, reason);
  };

  const applyEvent = (event: BusEvent) => {
    const seq = info.get().seq;
    // Replays after a resume may overlap what was already applied; each event counts once.
    if (seq !== null && event.seq <= seq) return;
    publishState(reduce(state, event));
    update({ seq: event.seq });
    fanOut(eventListeners, event);
  };

  const onFrame = (text: string) => {
    let frame: { type?: unknown; seq?: unknown; events?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return; // not ours to interpret (the server sends only JSON)
    }
    if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') return;
    if (frame.type === 'hello') {
      const hello = frame as unknown as HelloLike;
      const resumed = hello.recovered === true && hello.epoch === info.get().epoch;
      // A recovered hello is followed by the missed events, which bring the copy up to date one by one.
      if (!resumed) replace(hello, 'fresh');
      feed({ type: 'hello' });
    } else if (frame.type === 'resync') {
      replace(frame as unknown as HelloLike, 'resync');
    } else if (frame.type === 'batch' && Array.isArray(frame.events)) {
      for (const event of frame.events as BusEvent[]) applyEvent(event);
    } else if (!CONTROL_TYPES.has(frame.type) && typeof frame.seq === 'number') {
      applyEvent(frame as unknown as BusEvent);
    }
  };

  // ------------------------------------------------------------------ socket

  const openSocket = () => {
    const { epoch, seq } = info.get();
    const params = liveParams({
      types,
      servers: serverFilter,
      since: seq ?? undefined,
      epoch: epoch ?? undefined,
    }).toString();
    const key = apiKey ? `${params ? '&' : ''}apikey=${encodeURIComponent(apiKey)}` : '';
    let ws: WebSocketLike;
    try {
      ws = new WebSocketCtor(`${wsBase}${params || key ? '?' : ''}${params}${key}`);
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
      feed({ type: 'lost' });
      return;
    }
    socket = ws;
    ws.onmessage = ((event: { data: unknown }) => {
      if (socket === ws) onFrame(decode(event.data));
    }) as (event: never) => void;
    ws.onerror = ((event: { message?: string; error?: unknown }) => {
      if (socket === ws) lastError = event.message ?? (event.error instanceof Error ? event.error.message : 'error');
    }) as (event: never) => void;
    ws.onclose = ((event: { code?: number; reason?: string }) => {
      if (socket !== ws) return;
      lastError ??= `closed (${event.code ?? 'no code'}${event.reason ? `: ${event.reason}` : ''})`;
      feed({ type: 'lost' });
    }) as (event: never) => void;
  };

  /** Detaches and closes a socket; its late events are ignored (`socket !== ws`). */
  const drop = (ws: WebSocketLike) => {
    if (socket === ws) socket = undefined;
    // `ws` throws on an 'error' event without a listener, so a no-op one stays.
    ws.onerror = (() => {}) as (event: never) => void;
    ws.onmessage = null;
    ws.onclose = null;
    try {
      ws.close(1000);
    } catch {
      // already closing
    }
  };

  // ------------------------------------------------------------------ polling fallback

  const poll = () => {
    pollTimer = undefined;
    if (!conn.polling) return;
    const controller = new AbortController();
    pollAbort = controller;
    void api
      .listServers({ signal: controller.signal })
      .then(
        (body) => {
          if (pollAbort !== controller || !conn.polling) return;
          publishState(initialState({ servers: body.servers, app: state.app }));
          fanOut(resetListeners, 'poll');
        },
        () => {
          // The server is down too; the next poll or reconnect will tell.
        },
      )
      .finally(() => {
        if (pollAbort === controller) pollAbort = undefined;
        if (conn.polling && pollTimer === undefined) pollTimer = clock.setTimeout(poll, pollIntervalMs);
      });
  };

  // ------------------------------------------------------------------ lifecycle

  const close = () => {
    if (conn.phase === 'closed') return;
    feed({ type: 'close' });
    eventListeners.clear();
    resetListeners.clear();
    info.clear();
    status.clear();
    servers.clear();
    app.clear();
  };

  for (const effect of START_EFFECTS) run(effect);

  return {
    status,
    servers,
    app,
    connection: info,
    onEvent(listener) {
      const entry = (event: BusEvent) => listener(event);
      eventListeners.add(entry);
      return () => {
        eventListeners.delete(entry);
      };
    },
    onReset(listener) {
      const entry = (reason: ResetReason) => listener(reason);
      resetListeners.add(entry);
      return () => {
        resetListeners.delete(entry);
      };
    },
    close,
    [Symbol.dispose]: close,
    [Symbol.asyncDispose]: async () => close(),
  };
}

/** Text of a message: a string in browsers, a Buffer (a Uint8Array) or ArrayBuffer from `ws`. */
function decode(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data as ArrayBuffer);
  if (Array.isArray(data)) return data.map(decode).join('');
  return String(data);
}
