import { randomBytes } from 'node:crypto';
import {
  type BusEvent,
  type Clock,
  type EventEnvelope,
  type EventType,
  SERVER_EVENT_TYPES,
  systemClock,
} from '@mcpproxy/contracts';
import { Ring } from './ring.js';
import { BoundedQueue, type EventStream } from './stream.js';

/** A listener of one event type, or of every type with `'*'`. */
export type Listener<K extends EventType = EventType> = (event: EventEnvelope<K>) => void;
/** Removes a listener; safe to call more than once. */
export type Unsubscribe = () => void;

/** What a stream lets through. */
export interface StreamOptions {
  /** Only these event types. @default every type */
  types?: readonly EventType[] | undefined;
  /** Only events scoped to these servers (events without a server are left out). @default every event */
  servers?: readonly string[] | undefined;
  /** Queue bound; the oldest queued event is dropped past it. @default 1024 */
  capacity?: number | undefined;
}

export interface EventBusOptions {
  /** Time source for `time` stamps and the coalescer. @default systemClock */
  clock?: Clock | undefined;
  /** How many recent events `since()` can replay. @default 1024 */
  replayBuffer?: number | undefined;
  /** Called when a listener throws; delivery to the other listeners goes on regardless. @default ignore */
  onListenerError?: ((error: unknown, event: BusEvent) => void) | undefined;
  /** The process epoch. @default 16 random hex chars */
  epoch?: string | undefined;
  /**
   * Window of the `servers_changed` coalescer: after any server change, one `servers_changed` is published
   * at the end of the window, however many changes it saw. `0` turns the coalescer off. @default 50
   */
  coalesceMs?: number | undefined;
}

/** The typed event bus every mcpproxy component publishes to. */
export interface EventBus {
  /** Seq of the last published event; 0 before the first. */
  readonly seq: number;
  /** Random per bus: a new epoch tells clients that `seq` restarted. */
  readonly epoch: string;
  /** Stamps the event with the next `seq`, `epoch` and `time`, delivers it, and returns the envelope. */
  publish<K extends EventType>(event: {
    type: K;
    server?: string | undefined;
    data: EventEnvelope<K>['data'];
  }): EventEnvelope<K>;
  /** Listens to one type, several, or every type (`'*'`). */
  subscribe<K extends EventType>(type: K, listener: Listener<K>): Unsubscribe;
  subscribe(type: readonly EventType[] | '*', listener: (event: BusEvent) => void): Unsubscribe;
  /** A bounded async stream; the oldest queued events are dropped (and counted) when the reader falls behind. */
  stream(options?: StreamOptions): EventStream;
  /**
   * Events published after `seq`, oldest first, from the replay ring: `[]` when `seq` is the latest, `null` when
   * `seq` is older than the ring reaches or newer than the bus has published (the caller must resync).
   */
  since(seq: number): BusEvent[] | null;
  /** Number of listeners and streams attached. */
  listenerCount(): number;
  /** Ends every stream, drops every listener and the coalescer timer. Later publishes are stamped but not delivered. */
  close(): void;
}

/** Server changes that alter a ServerSummary and so feed the `servers_changed` coalescer (`tool_called` does not). */
const SERVER_CHANGE_TYPES: ReadonlySet<EventType> = new Set<EventType>(
  SERVER_EVENT_TYPES.filter((type) => type !== 'tool_called'),
);

/**
 * Creates the bus. Delivery is synchronous and in `seq` order: an event published from inside a listener is
 * queued and delivered after the current one has reached every listener, so no listener ever sees seq 6 before 5.
 */
export function createEventBus({
  clock = systemClock,
  replayBuffer = 1024,
  onListenerError = () => {},
  epoch = randomBytes(8).toString('hex'),
  coalesceMs = 50,
}: EventBusOptions = {}): EventBus {
  const ring = new Ring<BusEvent>(replayBuffer);
  let seq = 0;
  let closed = false;
  let listeners = 0;
  let dispatching = false;
  const pending: BusEvent[] = [];
  let coalesceTimer: ReturnType<Clock['setTimeout']> | undefined;
  // Stamping must stay cheap next to mitt's emit: on this class of VM `Date.now()` alone costs as much as an emit.
  // With the system clock the time is read once per event-loop turn (events published in one synchronous run share
  // it) and formatted once per millisecond; an injected clock is read on every publish, so tests see exact times.
  const coarse = clock === systemClock;
  let tickNow: number | undefined;
  const endTick = () => {
    tickNow = undefined;
  };
  let lastMs = Number.NaN;
  let lastIso = '';

  // Routing is one Map lookup to a copy-on-write array per type, plus one array for wildcard listeners, walked
  // in place: unsubscribing during delivery replaces the array, never mutates the one being walked. This is what
  // mitt's emit did, minus its per-emit `slice()` + `map()` (two arrays per event) and one handler call per
  // route; each listener still runs inside its own try/catch, so a throwing listener never stops the others.
  type AnyListener = (event: BusEvent) => void;
  const NONE: readonly AnyListener[] = [];
  const routes = new Map<EventType, readonly AnyListener[]>();
  let wildcard: readonly AnyListener[] = NONE;

  const report = (error: unknown, event: BusEvent) => {
    try {
      onListenerError(error, event);
    } catch {
      // An error reporter that throws must not stop delivery either.
    }
  };

  const run = (listeners: readonly AnyListener[], event: BusEvent) => {
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as AnyListener)(event);
      } catch (error) {
        report(error, event);
      }
    }
  };

  const addListener = (key: EventType | '*', listener: AnyListener) => {
    if (key === '*') wildcard = [...wildcard, listener];
    else routes.set(key, [...(routes.get(key) ?? NONE), listener]);
  };

  const removeListener = (key: EventType | '*', listener: AnyListener) => {
    const list = key === '*' ? wildcard : routes.get(key);
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i < 0) return;
    const rest = list.length === 1 ? NONE : list.filter((_, j) => j !== i);
    if (key === '*') wildcard = rest;
    else if (rest.length === 0) routes.delete(key);
    else routes.set(key, rest);
  };

  // Type listeners first, then wildcard ones, the wildcard list read after the type listeners ran (mitt's order).
  const dispatch = (event: BusEvent): void => {
    const list = routes.get(event.type);
    if (list !== undefined) run(list, event);
    if (wildcard.length > 0) run(wildcard, event);
  };

  const deliver = (event: BusEvent): void => {
    if (dispatching) {
      pending.push(event);
      return;
    }
    dispatching = true;
    try {
      dispatch(event);
      if (pending.length > 0) {
        for (let next = pending.shift(); next; next = pending.shift()) dispatch(next);
      }
    } finally {
      dispatching = false;
    }
  };

  const publish = <K extends EventType>(input: {
    type: K;
    server?: string | undefined;
    data: EventEnvelope<K>['data'];
  }): EventEnvelope<K> => {
    let now: number;
    if (!coarse) now = clock.now();
    else if (tickNow === undefined) {
      now = tickNow = clock.now();
      queueMicrotask(endTick);
    } else now = tickNow;
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    // One literal, one hidden class: `server` is always present (undefined for process-wide events, which
    // JSON leaves out).
    const envelope: EventEnvelope<K> = {
      seq: ++seq,
      epoch,
      type: input.type,
      server: input.server,
      time: lastIso,
      data: input.data,
    };
    if (closed) return envelope;
    ring.push(envelope as BusEvent);
    if (coalesceMs > 0 && coalesceTimer === undefined && SERVER_CHANGE_TYPES.has(input.type)) {
      coalesceTimer = clock.setTimeout(() => {
        coalesceTimer = undefined;
        if (!closed) publish({ type: 'servers_changed', data: {} });
      }, coalesceMs);
    }
    deliver(envelope as BusEvent);
    return envelope;
  };

  function subscribe(type: EventType | readonly EventType[] | '*', listener: AnyListener): Unsubscribe {
    if (closed) return () => {};
    const keys: readonly (EventType | '*')[] = typeof type === 'string' ? [type] : [...new Set(type)];
    for (const key of keys) addListener(key, listener);
    listeners++;
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      listeners--;
      for (const key of keys) removeListener(key, listener);
    };
  }

  const streams = new Set<BoundedQueue>();

  const stream = ({ types, servers, capacity = 1024 }: StreamOptions = {}): EventStream => {
    const queue = new BoundedQueue(Math.max(1, capacity));
    const serverSet = servers ? new Set(servers) : undefined;
    const accept = serverSet
      ? (event: BusEvent) => {
          if (event.server !== undefined && serverSet.has(event.server)) queue.push(event);
        }
      : (event: BusEvent) => queue.push(event);
    const unsubscribe = subscribe(types ?? '*', accept);
    streams.add(queue);
    if (closed) queue.close();
    const close = () => {
      unsubscribe();
      streams.delete(queue);
      queue.close();
    };
    return {
      get dropped() {
        return queue.dropped;
      },
      get size() {
        return queue.size;
      },
      get closed() {
        return queue.closed;
      },
      next: () => queue.next(),
      close,
      [Symbol.asyncIterator](): AsyncIterator<BusEvent> {
        return {
          next: async () => {
            const value = await queue.next();
            return value === undefined ? { done: true, value: undefined } : { done: false, value };
          },
          return: async () => {
            close();
            return { done: true, value: undefined };
          },
        };
      },
    };
  };

  const since = (from: number): BusEvent[] | null => {
    if (!Number.isInteger(from) || from < 0 || from > seq) return null;
    if (from === seq) return [];
    const oldest = ring.at(0);
    if (!oldest || oldest.seq > from + 1) return null;
    return ring.sliceFrom(from + 1 - oldest.seq);
  };

  return {
    get seq() {
      return seq;
    },
    epoch,
    publish,
    subscribe: subscribe as EventBus['subscribe'],
    stream,
    since,
    listenerCount: () => listeners,
    close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(coalesceTimer);
      coalesceTimer = undefined;
      for (const q of [...streams]) q.close();
      streams.clear();
      routes.clear();
      wildcard = NONE;
      listeners = 0;
      ring.clear();
      pending.length = 0;
    },
  };
}
