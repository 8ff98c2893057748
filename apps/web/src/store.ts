import {
  type ConnectionInfo,
  createLiveClient,
  createRestClient,
  type LiveClient,
  type RestClient,
} from '@mcpproxy/client';
import type { BusEvent, ServerSummary } from '@mcpproxy/contracts';
import { batch, type Signal, signal } from '@preact/signals';

/** Events kept for the log (newest last); older ones fall off. */
export const LOG_LIMIT = 500;
/** Seconds of history behind the events-per-second chart. */
export const RATE_WINDOW_S = 300;

/** A connected dashboard: the REST client, the live copy and the signals the views read. */
export interface Session {
  /** The API key in use (empty: none). */
  key: string;
  api: RestClient;
  live: LiveClient;
  /** Every server, ordered by name (the live copy, at most one update per animation frame). */
  servers: Signal<readonly ServerSummary[]>;
  connection: Signal<ConnectionInfo>;
  /** The last events, oldest first, at most {@link LOG_LIMIT}. */
  events: Signal<readonly BusEvent[]>;
  /** Events received per second over the last {@link RATE_WINDOW_S} seconds, oldest first. */
  rate: Signal<readonly number[]>;
  /** The last `system_metrics` event's data (connections, server events per second). */
  metrics: Signal<Record<string, number> | null>;
  /** Times this page's copy was replaced because the server dropped events for it (it was too slow). */
  resyncs: Signal<number>;
  /**
   * The `seq` of the last `tool_quarantine_changed` event (a tool held by the scanner or the pins, or approved):
   * views showing tools re-read them when it moves, even when no server row changed.
   */
  toolChange: Signal<number>;
  /** A clock that ticks each second, for countdowns. */
  now: Signal<number>;
  close(): void;
}

/** What {@link openSession} needs from the page (tests and the bench pass their own). */
export interface SessionOptions {
  url: string;
  key: string;
  /** Frame scheduler for batching table updates. @default requestAnimationFrame */
  frame?: ((fn: () => void) => unknown) | undefined;
}

/**
 * Opens the REST and live clients and mirrors them into signals. Server updates are coalesced to one per animation
 * frame: a burst of 100 events a second repaints the table at most once a frame, not once an event.
 */
export function openSession({ url, key, frame = (fn) => requestAnimationFrame(fn) }: SessionOptions): Session {
  const apiKey = key || undefined;
  const api = createRestClient({ url, apiKey });
  const live = createLiveClient({ url, apiKey, rest: api });
  const servers = signal<readonly ServerSummary[]>(live.servers.get());
  const connection = signal<ConnectionInfo>(live.connection.get());
  const events = signal<readonly BusEvent[]>([]);
  const rate = signal<readonly number[]>(new Array<number>(RATE_WINDOW_S).fill(0));
  const metrics = signal<Record<string, number> | null>(null);
  const resyncs = signal(0);
  const now = signal(Date.now());
  const toolChange = signal(0);

  let pendingFrame = false;
  let pendingEvents: BusEvent[] = [];
  let thisSecond = 0;
  let lastToolChange = 0;
  const flush = () => {
    pendingFrame = false;
    batch(() => {
      servers.value = live.servers.get();
      if (pendingEvents.length > 0) {
        const merged = events.value.concat(pendingEvents);
        events.value = merged.length > LOG_LIMIT ? merged.slice(merged.length - LOG_LIMIT) : merged;
        pendingEvents = [];
      }
      toolChange.value = lastToolChange;
    });
  };
  const schedule = () => {
    if (pendingFrame) return;
    pendingFrame = true;
    frame(flush);
  };
  const unsubs = [
    live.servers.subscribe(schedule),
    live.connection.subscribe((info) => {
      connection.value = info;
    }),
    live.onEvent((event) => {
      pendingEvents.push(event);
      thisSecond++;
      if (event.type === 'tool_quarantine_changed') lastToolChange = event.seq;
      if (event.type === 'system_metrics') metrics.value = event.data as unknown as Record<string, number>;
      schedule();
    }),
    live.onReset((reason) => {
      if (reason === 'resync') resyncs.value++;
      schedule();
    }),
  ];
  const tick = setInterval(() => {
    batch(() => {
      now.value = Date.now();
      rate.value = [...rate.value.slice(1), thisSecond];
    });
    thisSecond = 0;
  }, 1000);

  return {
    key,
    api,
    live,
    servers,
    connection,
    events,
    rate,
    metrics,
    resyncs,
    toolChange,
    now,
    close() {
      clearInterval(tick);
      for (const u of unsubs) u();
      live.close();
    },
  };
}
