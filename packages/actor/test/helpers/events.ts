import type { BusEvent, EventEnvelope, EventType } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';

export interface Recorder {
  readonly events: BusEvent[];
  of<K extends EventType>(type: K): EventEnvelope<K>[];
  /** States the server went through, from `server_state_changed`. */
  states(server?: string): string[];
  /** Resolves with the first matching event (already seen or yet to come); rejects after `timeoutMs` of real time. */
  waitFor<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  /** Like waitFor, but only for events published after this call. */
  next<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  clear(): void;
  stop(): void;
}

export function record(bus: EventBus): Recorder {
  const events: BusEvent[] = [];
  const waiters = new Set<(event: BusEvent) => void>();
  const off = bus.subscribe('*', (event) => {
    events.push(event);
    for (const w of [...waiters]) w(event);
  });
  const wait = <K extends EventType>(
    from: number,
    type: K,
    predicate: (event: EventEnvelope<K>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<EventEnvelope<K>> => {
    const matches = (e: BusEvent): e is EventEnvelope<K> & BusEvent =>
      e.type === type && predicate(e as unknown as EventEnvelope<K>);
    const seen = events.slice(from).find(matches);
    if (seen) return Promise.resolve(seen as unknown as EventEnvelope<K>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const tail = events
          .slice(-15)
          .map((e) => `${e.type}${'to' in e.data ? `→${String(e.data.to)}` : ''}`)
          .join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}; last events: ${tail}`));
      }, timeoutMs);
      const waiter = (e: BusEvent) => {
        if (!matches(e)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(e as unknown as EventEnvelope<K>);
      };
      waiters.add(waiter);
    });
  };
  return {
    events,
    of: <K extends EventType>(type: K) => events.filter((e) => e.type === type) as unknown as EventEnvelope<K>[],
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
}

/** Lets queued promise callbacks and actor mailboxes run. */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
