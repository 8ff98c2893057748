import type { BusEvent, EventEnvelope, EventType } from '@mcpproxy/contracts';
import { createWaitList, withTimeout } from './wait.js';

/** The part of `@mcpproxy/events`' `EventBus` a recorder needs (testkit does not depend on the bus package). */
export interface SubscribableBus {
  subscribe(type: '*', listener: (event: BusEvent) => void): () => void;
}

/** The part of `@mcpproxy/events`' `EventStream` {@link nextEvent} reads. */
export interface ReadableEventStream {
  next(): Promise<BusEvent | undefined>;
}

/** Options of {@link recordEvents}. */
export interface RecordEventsOptions {
  /** Default outer bound of `waitFor` / `next`, in real milliseconds. @default 10_000 */
  timeoutMs?: number | undefined;
}

/** Every event a bus published since {@link recordEvents}, with waits on what is yet to come. */
export interface EventRecorder {
  /** Every event seen, oldest first. */
  readonly events: BusEvent[];
  /** The events of one type, of one server when `server` is given. */
  of<K extends EventType>(type: K, server?: string): EventEnvelope<K>[];
  /** States the server went through (all servers when `server` is omitted), from `server_state_changed`. */
  states(server?: string): string[];
  /** Resolves with the first matching event (already seen or yet to come); rejects after `timeoutMs` of real time. */
  waitFor<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  /** Like {@link EventRecorder.waitFor}, but only for events published after this call. */
  next<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  /** Forgets the events seen so far. */
  clear(): void;
  /** Unsubscribes from the bus. */
  stop(): void;
}

const describeEvent = (e: BusEvent): string =>
  `${e.type}${e.server ? `(${e.server})` : ''}${'to' in e.data ? `→${String(e.data.to)}` : ''}`;

/** Subscribes to every event of `bus` and records it. */
export function recordEvents(
  bus: SubscribableBus,
  { timeoutMs: defaultTimeoutMs = 10_000 }: RecordEventsOptions = {},
): EventRecorder {
  const events: BusEvent[] = [];
  const waits = createWaitList();
  const off = bus.subscribe('*', (event) => {
    events.push(event);
    waits.notify();
  });
  const wait = <K extends EventType>(
    from: number,
    type: K,
    predicate: (event: EventEnvelope<K>) => boolean = () => true,
    timeoutMs = defaultTimeoutMs,
  ): Promise<EventEnvelope<K>> => {
    const matches = (e: BusEvent) => e.type === type && predicate(e as unknown as EventEnvelope<K>);
    let first = true;
    // The first check looks at what was already seen; each later one (one per published event) at the newest event.
    const found = () => {
      const candidates = first ? events.slice(from) : events.slice(-1);
      first = false;
      return candidates.find(matches) as unknown as EventEnvelope<K> | undefined;
    };
    return waits.until(found, {
      timeoutMs,
      what: type,
      detail: () => `last events: ${events.slice(-15).map(describeEvent).join(', ')}`,
    });
  };
  const recorder: EventRecorder = {
    events,
    of: <K extends EventType>(type: K, server?: string) =>
      events.filter(
        (e) => e.type === type && (server === undefined || e.server === server),
      ) as unknown as EventEnvelope<K>[],
    states: (server) =>
      events
        .filter((e) => e.type === 'server_state_changed' && (server === undefined || e.server === server))
        .map((e) => (e as EventEnvelope<'server_state_changed'>).data.to),
    waitFor: (type, predicate, timeoutMs) => wait(0, type, predicate, timeoutMs),
    next: (type, predicate, timeoutMs) => wait(events.length, type, predicate, timeoutMs),
    clear: () => {
      events.length = 0;
    },
    stop: off,
  };
  return recorder;
}

/** The next event of a bus stream; rejects once the stream ends or after `timeoutMs`. */
export async function nextEvent(stream: ReadableEventStream, timeoutMs = 5_000): Promise<BusEvent> {
  const event = await withTimeout(stream.next(), timeoutMs, 'the next event');
  if (!event) throw new Error('stream closed');
  return event;
}
