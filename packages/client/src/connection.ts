/**
 * The live client's connection lifecycle as data (functional core): {@link transition} maps a state and an input to
 * the next state and the effects to run. The shell in `live.ts` runs the effects (sockets, timers, polls) and feeds
 * what happens back as inputs. No I/O and no time here, so every row is tested as a table.
 */

/** Where the connection is. */
export interface ConnState {
  /** `connecting`: a socket is opening (or waiting for its `hello`); `waiting`: a retry is scheduled. */
  readonly phase: 'connecting' | 'live' | 'waiting' | 'closed';
  /** Reconnect attempts made since the socket was last live. */
  readonly retries: number;
  /** Whether the polling fallback runs. */
  readonly polling: boolean;
}

/** What happened. */
export type ConnInput =
  /** The socket is up and its `hello` arrived. */
  | { readonly type: 'hello' }
  /** The socket closed or failed, or brought no `hello` in time. */
  | { readonly type: 'lost' }
  /** The retry timer fired. */
  | { readonly type: 'retry_due' }
  /** `close()` was called. */
  | { readonly type: 'close' };

/** What the shell must do, in order. */
export type ConnEffect =
  | { readonly type: 'open_socket' }
  | { readonly type: 'close_socket' }
  /** Start the timer that gives up an attempt without a `hello`. */
  | { readonly type: 'arm_connect_timeout' }
  | { readonly type: 'disarm_connect_timeout' }
  /** Schedule `retry_due` after the `index`-th reconnect delay (with jitter). */
  | { readonly type: 'schedule_retry'; readonly index: number }
  | { readonly type: 'cancel_retry' }
  | { readonly type: 'start_polling' }
  | { readonly type: 'stop_polling' };

/** The state before the first socket opens; the shell starts it with `open_socket` and `arm_connect_timeout`. */
export const INITIAL: ConnState = Object.freeze({ phase: 'connecting', retries: 0, polling: false });

/** The effects that start the first attempt. */
export const START_EFFECTS: readonly ConnEffect[] = Object.freeze([
  { type: 'open_socket' },
  { type: 'arm_connect_timeout' },
]);

/** The status users see: `live`, else `polling` once the fallback runs, else `reconnecting`. */
export function statusOf(state: ConnState): 'live' | 'reconnecting' | 'polling' {
  if (state.phase === 'live') return 'live';
  return state.polling ? 'polling' : 'reconnecting';
}

const same = (state: ConnState) => ({ state, effects: [] as ConnEffect[] });

/**
 * The next state and effects. `delays` is how many reconnect delays there are: once that many attempts have failed
 * since the socket was last live, polling starts, and retries go on at the last delay. Inputs that do not apply to
 * a phase (a late `lost` while waiting, anything after `close`) change nothing.
 */
export function transition(
  state: ConnState,
  input: ConnInput,
  delays: number,
): { state: ConnState; effects: ConnEffect[] } {
  if (state.phase === 'closed') return same(state);
  if (input.type === 'close') {
    const effects: ConnEffect[] = [
      { type: 'cancel_retry' },
      { type: 'disarm_connect_timeout' },
      { type: 'close_socket' },
    ];
    if (state.polling) effects.push({ type: 'stop_polling' });
    return { state: { ...state, phase: 'closed', polling: false }, effects };
  }
  switch (state.phase) {
    case 'connecting':
      if (input.type === 'hello') {
        const effects: ConnEffect[] = [{ type: 'disarm_connect_timeout' }];
        if (state.polling) effects.push({ type: 'stop_polling' });
        return { state: { phase: 'live', retries: 0, polling: false }, effects };
      }
      if (input.type === 'lost') {
        const exhausted = state.retries >= delays;
        const effects: ConnEffect[] = [{ type: 'disarm_connect_timeout' }, { type: 'close_socket' }];
        if (exhausted && !state.polling) effects.push({ type: 'start_polling' });
        effects.push({ type: 'schedule_retry', index: Math.min(state.retries, delays - 1) });
        return { state: { ...state, phase: 'waiting', polling: state.polling || exhausted }, effects };
      }
      return same(state);
    case 'live':
      if (input.type === 'lost') {
        return {
          state: { phase: 'waiting', retries: 0, polling: false },
          effects: [{ type: 'close_socket' }, { type: 'schedule_retry', index: 0 }],
        };
      }
      return same(state);
    case 'waiting':
      if (input.type === 'retry_due') {
        return {
          state: { ...state, phase: 'connecting', retries: state.retries + 1 },
          effects: [{ type: 'open_socket' }, { type: 'arm_connect_timeout' }],
        };
      }
      return same(state);
  }
}
