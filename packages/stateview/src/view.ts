import type { BusEvent, ServerSummary } from '@mcpproxy/contracts';
import type { Unsubscribe } from '@mcpproxy/events';
import { findServer, initialState, reduce } from './reducers.js';
import type { StateListener, StateSnapshot, StateView, StateViewOptions, ViewState } from './types.js';

/**
 * Creates the read model and subscribes it to every event on `bus`. Each event goes through the pure reducers;
 * when the state reference changes, `version` bumps and the view's listeners are told. Reads never wait and never
 * re-serialise between versions.
 *
 * Create the view before anything publishes: events published earlier are not replayed into it.
 */
export function createStateView({
  bus,
  app,
  servers,
  stringify = JSON.stringify,
  onListenerError = () => {},
}: StateViewOptions): StateView {
  let state: ViewState = initialState({ servers, app });
  let version = 0;
  let seq = 0;
  let closed = false;

  // O(1) `server(name)`. Every reducer touches at most the row named in the event's summary, so after a change
  // only that name needs re-reading (a binary search in the new array).
  const byName = new Map<string, ServerSummary>();
  for (const row of state.servers) byName.set(row.name, row);

  // Caches, each keyed by the reference or counters it was built from.
  let snap: StateSnapshot | undefined;
  let serversJsonOf: readonly ServerSummary[] | undefined;
  let serversJson = '';
  let appJsonOf: ViewState['app'] | undefined;
  let appJson = '';
  let fullVersion = -1;
  let fullSeq = -1;
  let full = '';
  let serversBodyOf: readonly ServerSummary[] | undefined;
  let serversBody = '';

  const listeners = new Set<StateListener>();

  const snapshot = (): StateSnapshot => {
    if (snap === undefined || snap.seq !== seq || snap.version !== version) {
      snap = Object.freeze({ version, seq, servers: state.servers, app: state.app });
    }
    return snap;
  };

  const serversJsonNow = (): string => {
    if (serversJsonOf !== state.servers) {
      serversJson = stringify(state.servers);
      serversJsonOf = state.servers;
    }
    return serversJson;
  };

  const appJsonNow = (): string => {
    if (appJsonOf !== state.app) {
      appJson = stringify(state.app);
      appJsonOf = state.app;
    }
    return appJson;
  };

  const onEvent = (event: BusEvent): void => {
    seq = event.seq;
    const next = reduce(state, event);
    if (next === state) return;
    const before = state;
    state = next;
    version++;
    if (next.servers !== before.servers) {
      const name = (event.data as { summary?: ServerSummary }).summary?.name ?? event.server;
      if (name !== undefined) {
        const index = findServer(next.servers, name);
        if (index >= 0) byName.set(name, next.servers[index]!);
        else byName.delete(name);
      }
    }
    if (listeners.size === 0) return;
    const current = snapshot();
    for (const listener of [...listeners]) {
      // A listener removed by an earlier one during this delivery is not called.
      if (!listeners.has(listener)) continue;
      try {
        listener(current, event);
      } catch (error) {
        try {
          onListenerError(error, event);
        } catch {
          // An error reporter that throws must not stop delivery either.
        }
      }
    }
  };

  const offBus: Unsubscribe = bus.subscribe('*', onEvent);

  const close = (): void => {
    if (closed) return;
    closed = true;
    offBus();
    listeners.clear();
  };

  return {
    snapshot,
    server: (name) => byName.get(name),
    serialized() {
      if (fullVersion !== version || fullSeq !== seq) {
        // The heavy parts are cached per reference; a no-op event only changes `seq`, so it costs a concatenation.
        full = `{"version":${version},"seq":${seq},"servers":${serversJsonNow()},"app":${appJsonNow()}}`;
        fullVersion = version;
        fullSeq = seq;
      }
      return full;
    },
    serializedServers() {
      if (serversBodyOf !== state.servers) {
        serversBody = `{"servers":${serversJsonNow()}}`;
        serversBodyOf = state.servers;
      }
      return serversBody;
    },
    subscribe(listener) {
      if (closed) return () => {};
      // Wrapped so that subscribing the same function twice yields two independent subscriptions.
      const entry: StateListener = (s, e) => listener(s, e);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    close,
    [Symbol.dispose]: close,
    [Symbol.asyncDispose]: async () => close(),
  };
}
