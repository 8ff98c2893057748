import type { ServerConfig, ServerState } from '@mcpproxy/contracts';
import { type ActorSettings, connectionChanged } from './settings.js';

/**
 * The actor's lifecycle as data: `transition(state, input)` answers the next state and the effects the shell runs,
 * in order. No timers, no I/O, no clock: the shell (actor.ts) runs the effects and feeds their results back as
 * inputs (`connected`, `connect_failed`, `lost`, `retry_due`). Decisions that depend on data the machine does not
 * hold (the config's flags, the failure count against `max_retries`) arrive as fields of the input.
 */

/** The actor's states plus `closed` (for good; shown as `stopped`). */
export type LifecycleState = ServerState | 'closed';

/** Where an actor rests instead of connecting: quarantined, or disabled (by config or auto-disable); `null` = nowhere. */
export type Resting = 'quarantined' | 'disabled' | null;

/** What can happen to an actor: a command, a config change, or the result of an effect. */
export type LifecycleInput =
  | { type: 'start'; resting: Resting }
  | { type: 'restart'; resting: Resting }
  | { type: 'stop' }
  /** `enable()` or a config entry that became enabled. */
  | { type: 'enable'; quarantined: boolean }
  /** `disable()` or a config entry that became disabled. */
  | { type: 'disable'; quarantined: boolean }
  | { type: 'quarantine' }
  | { type: 'unquarantine'; enabled: boolean }
  /** Any other config change: whether a connection field or a ready-time interval changed. */
  | { type: 'reconfigure'; connection: boolean; timers: boolean }
  | { type: 'close' }
  /** The current connect attempt opened a connection. */
  | { type: 'connected' }
  /** The current connect attempt failed or timed out; `giveUp` when this failure reaches `max_retries`. */
  | { type: 'connect_failed'; reason: 'connect_failed' | 'init_timeout'; giveUp: boolean }
  /** The live connection ended: closed by the upstream, or a failed health check. */
  | { type: 'lost'; reason: 'connection_lost' | 'health_check_failed' }
  /** The backoff timer fired. */
  | { type: 'retry_due' };

/** What the shell does, in the order given. */
export type LifecycleEffect =
  /** Abort the connect, clear every timer, abort pings, listings and calls, reset the circuit, close the connection. */
  | { type: 'teardown' }
  /** Zero the consecutive failure count. */
  | { type: 'reset_failures' }
  /** Forget an auto-disable. */
  | { type: 'clear_auto_disable' }
  /** Forget the tool listing and the approved hashes: the next listing is a new baseline (a person approved). */
  | { type: 'forget_tools' }
  /** Enter `connecting` (published) and open a connection; the command settles when that attempt settles. */
  | { type: 'connect'; reason: string }
  /** The command settles when the connect attempt under way settles. */
  | { type: 'join' }
  /** Enter `state` and publish `server_state_changed` if it differs; `error` attaches the last error. */
  | { type: 'enter'; state: LifecycleState; reason: string; error?: true }
  /** Republish nothing, but rebuild the summary (a flag of the config or the auto-disable changed). */
  | { type: 'refresh' }
  /** Take the new connection: reset failures and errors, apply its listing. */
  | { type: 'attach' }
  /** After `ready`: publish `connection_established` and the listing, start health pings and discovery. */
  | { type: 'announce' }
  /** Close a connection nobody waits for any more. */
  | { type: 'discard' }
  /** Count a failed connect and keep its message and code. */
  | { type: 'record_failure' }
  /** Detach the lost connection, close it, keep its error and publish `connection_lost`. */
  | { type: 'detach' }
  /** Start the backoff timer of the next retry. */
  | { type: 'schedule_retry' }
  /** Mark the server auto-disabled (before entering `disabled`). */
  | { type: 'auto_disable' }
  /** Publish `server_auto_disabled` (after entering `disabled`). */
  | { type: 'publish_auto_disabled' }
  /** Restart health pings and discovery with the new intervals. */
  | { type: 'reschedule' };

/** One step of the machine. */
export interface Step {
  readonly next: LifecycleState;
  readonly effects: readonly LifecycleEffect[];
}

/** Every state, for tables and tests. */
export const LIFECYCLE_STATES: readonly LifecycleState[] = Object.freeze([
  'idle',
  'connecting',
  'ready',
  'error',
  'disabled',
  'quarantined',
  'stopped',
  'closed',
]);

const NONE: readonly LifecycleEffect[] = Object.freeze([]);
/** Steps that stay without effects, one per state: the ignored rows allocate nothing. */
const IDLE_STEPS = new Map<LifecycleState, Step>();
const stay = (state: LifecycleState, effects: readonly LifecycleEffect[] = NONE): Step => {
  if (effects !== NONE) return { next: state, effects };
  let step = IDLE_STEPS.get(state);
  if (!step) {
    step = Object.freeze<Step>({ next: state, effects: NONE });
    IDLE_STEPS.set(state, step);
  }
  return step;
};
const go = (state: LifecycleState, reason: string, before: readonly LifecycleEffect[] = NONE): Step => ({
  next: state,
  effects: [...before, { type: 'enter', state, reason }],
});
/** Plain connects by reason (start, retry): the hot path of a large config allocates no step. */
const CONNECT_STEPS = new Map<string, Step>();
const connect = (reason: string, before: readonly LifecycleEffect[] = NONE): Step => {
  if (before !== NONE) return { next: 'connecting', effects: [...before, { type: 'connect', reason }] };
  let step = CONNECT_STEPS.get(reason);
  if (!step) {
    const effects: readonly LifecycleEffect[] = Object.freeze([{ type: 'connect', reason }]);
    step = Object.freeze<Step>({ next: 'connecting', effects });
    CONNECT_STEPS.set(reason, step);
  }
  return step;
};
const CONNECTED: Step = Object.freeze({
  next: 'ready',
  effects: Object.freeze<LifecycleEffect[]>([
    { type: 'attach' },
    { type: 'enter', state: 'ready', reason: 'connected' },
    { type: 'announce' },
  ]),
});

/** Whether a connection may be open or opening: a connection field change reconnects only then. */
const live = (s: LifecycleState) => s === 'connecting' || s === 'ready' || s === 'error';

/** The next state and the effects of `input` in `state`. Pure: the same arguments give an equal step. */
export function transition(state: LifecycleState, input: LifecycleInput): Step {
  if (state === 'closed') return input.type === 'connected' ? stay(state, [{ type: 'discard' }]) : stay(state);
  switch (input.type) {
    case 'start':
      if (input.resting) return go(input.resting, 'start');
      if (state === 'idle' || state === 'stopped' || state === 'error') return connect('start');
      return state === 'connecting' ? stay(state, [{ type: 'join' }]) : stay(state);
    case 'restart':
      if (input.resting) return go(input.resting, 'restart');
      return connect('restart', [{ type: 'teardown' }, { type: 'reset_failures' }]);
    case 'stop':
      return go('stopped', 'stop', [{ type: 'teardown' }]);
    case 'enable': {
      const cleared: LifecycleEffect[] = [{ type: 'clear_auto_disable' }, { type: 'reset_failures' }];
      if (state === 'disabled' && !input.quarantined) return connect('enable', cleared);
      return stay(state, [...cleared, { type: 'refresh' }]);
    }
    case 'disable':
      if (input.quarantined) return stay(state, [{ type: 'refresh' }]);
      return go('disabled', 'disable', [{ type: 'teardown' }]);
    case 'quarantine':
      return go('quarantined', 'quarantined', [{ type: 'teardown' }]);
    case 'unquarantine':
      if (!input.enabled) return go('disabled', 'unquarantined', [{ type: 'forget_tools' }]);
      return connect('unquarantined', [
        { type: 'forget_tools' },
        { type: 'clear_auto_disable' },
        { type: 'reset_failures' },
      ]);
    case 'reconfigure':
      if (input.connection && live(state)) {
        return connect('config_changed', [{ type: 'teardown' }, { type: 'reset_failures' }]);
      }
      if (input.timers && state === 'ready') return stay(state, [{ type: 'reschedule' }, { type: 'refresh' }]);
      return stay(state, [{ type: 'refresh' }]);
    case 'close':
      return go('closed', 'closed', [{ type: 'teardown' }]);
    case 'connected':
      if (state !== 'connecting') return stay(state, [{ type: 'discard' }]);
      return CONNECTED;
    case 'connect_failed':
      if (state !== 'connecting') return stay(state);
      // max_retries reached: rest disabled instead of retrying.
      if (input.giveUp) {
        return failed('disabled', 'auto_disabled', [{ type: 'record_failure' }, { type: 'auto_disable' }], {
          type: 'publish_auto_disabled',
        });
      }
      return failed('error', input.reason, [{ type: 'record_failure' }, { type: 'schedule_retry' }]);
    case 'lost':
      if (state !== 'ready') return stay(state);
      return failed('error', input.reason, [{ type: 'detach' }, { type: 'schedule_retry' }]);
    case 'retry_due':
      return state === 'error' ? connect('retry') : stay(state);
  }
}

/**
 * The lifecycle input of a config change from `prev` to `next`: the first rule that applies of quarantine,
 * unquarantine, still quarantined, disable, enable, else a reconfigure saying whether a connection field or a
 * ready-time interval (health check, discovery) changed.
 */
export function configInput(
  prev: ServerConfig,
  prevSettings: ActorSettings,
  next: ServerConfig,
  nextSettings: ActorSettings,
): LifecycleInput {
  if (!prev.quarantined && next.quarantined) return { type: 'quarantine' };
  if (prev.quarantined && !next.quarantined) return { type: 'unquarantine', enabled: next.enabled };
  if (next.quarantined) return { type: 'reconfigure', connection: false, timers: false };
  if (prev.enabled && !next.enabled) return { type: 'disable', quarantined: false };
  if (!prev.enabled && next.enabled) return { type: 'enable', quarantined: false };
  return {
    type: 'reconfigure',
    connection: connectionChanged(prev, next),
    timers:
      (prev.health_check_interval ?? prevSettings.health_check_interval) !==
        (next.health_check_interval ?? nextSettings.health_check_interval) ||
      prevSettings.tool_discovery_interval !== nextSettings.tool_discovery_interval,
  };
}

/** A failure step: `before`, then enter `state` with the last error attached, then `after`. */
function failed(
  state: LifecycleState,
  reason: string,
  before: readonly LifecycleEffect[],
  ...after: LifecycleEffect[]
): Step {
  return { next: state, effects: [...before, { type: 'enter', state, reason, error: true }, ...after] };
}
