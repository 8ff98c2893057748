import { parseServerConfig, type ServerConfig } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import {
  configInput,
  LIFECYCLE_STATES,
  type LifecycleEffect,
  type LifecycleInput,
  type LifecycleState,
  transition,
} from '../src/lifecycle.js';
import { DEFAULT_ACTOR_SETTINGS } from '../src/settings.js';

/** Every input the machine takes, with each variant of the data its rules branch on. */
const INPUTS: Record<string, LifecycleInput> = {
  start: { type: 'start', resting: null },
  'start (resting quarantined)': { type: 'start', resting: 'quarantined' },
  'start (resting disabled)': { type: 'start', resting: 'disabled' },
  restart: { type: 'restart', resting: null },
  'restart (resting quarantined)': { type: 'restart', resting: 'quarantined' },
  'restart (resting disabled)': { type: 'restart', resting: 'disabled' },
  stop: { type: 'stop' },
  enable: { type: 'enable', quarantined: false },
  'enable (quarantined)': { type: 'enable', quarantined: true },
  disable: { type: 'disable', quarantined: false },
  'disable (quarantined)': { type: 'disable', quarantined: true },
  quarantine: { type: 'quarantine' },
  'unquarantine (enabled)': { type: 'unquarantine', enabled: true },
  'unquarantine (disabled)': { type: 'unquarantine', enabled: false },
  'reconfigure (connection)': { type: 'reconfigure', connection: true, timers: false },
  'reconfigure (timers)': { type: 'reconfigure', connection: false, timers: true },
  'reconfigure (other)': { type: 'reconfigure', connection: false, timers: false },
  close: { type: 'close' },
  connected: { type: 'connected' },
  connect_failed: { type: 'connect_failed', reason: 'connect_failed', giveUp: false },
  'connect_failed (gives up)': { type: 'connect_failed', reason: 'init_timeout', giveUp: true },
  lost: { type: 'lost', reason: 'connection_lost' },
  retry_due: { type: 'retry_due' },
};

/**
 * The whole machine, one row per (state, input): the next state and the effects in order, written
 * `enter:STATE/REASON` (`!` when the last error is attached) and `connect/REASON`; "" is a row the machine
 * ignores.
 */
const TABLE: readonly [LifecycleState, string, LifecycleState, string][] = [
  // start
  ['idle', 'start', 'connecting', 'connect/start'],
  ['connecting', 'start', 'connecting', 'join'],
  ['ready', 'start', 'ready', ''],
  ['error', 'start', 'connecting', 'connect/start'],
  ['disabled', 'start', 'disabled', ''],
  ['quarantined', 'start', 'quarantined', ''],
  ['stopped', 'start', 'connecting', 'connect/start'],
  ['closed', 'start', 'closed', ''],
  // start (resting quarantined)
  ['idle', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['connecting', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['ready', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['error', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['disabled', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['quarantined', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['stopped', 'start (resting quarantined)', 'quarantined', 'enter:quarantined/start'],
  ['closed', 'start (resting quarantined)', 'closed', ''],
  // start (resting disabled)
  ['idle', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['connecting', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['ready', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['error', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['disabled', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['quarantined', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['stopped', 'start (resting disabled)', 'disabled', 'enter:disabled/start'],
  ['closed', 'start (resting disabled)', 'closed', ''],
  // restart
  ['idle', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['connecting', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['ready', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['error', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['disabled', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['quarantined', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['stopped', 'restart', 'connecting', 'teardown reset_failures connect/restart'],
  ['closed', 'restart', 'closed', ''],
  // restart (resting quarantined)
  ['idle', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['connecting', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['ready', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['error', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['disabled', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['quarantined', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['stopped', 'restart (resting quarantined)', 'quarantined', 'enter:quarantined/restart'],
  ['closed', 'restart (resting quarantined)', 'closed', ''],
  // restart (resting disabled)
  ['idle', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['connecting', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['ready', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['error', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['disabled', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['quarantined', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['stopped', 'restart (resting disabled)', 'disabled', 'enter:disabled/restart'],
  ['closed', 'restart (resting disabled)', 'closed', ''],
  // stop
  ['idle', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['connecting', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['ready', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['error', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['disabled', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['quarantined', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['stopped', 'stop', 'stopped', 'teardown enter:stopped/stop'],
  ['closed', 'stop', 'closed', ''],
  // enable
  ['idle', 'enable', 'idle', 'clear_auto_disable reset_failures refresh'],
  ['connecting', 'enable', 'connecting', 'clear_auto_disable reset_failures refresh'],
  ['ready', 'enable', 'ready', 'clear_auto_disable reset_failures refresh'],
  ['error', 'enable', 'error', 'clear_auto_disable reset_failures refresh'],
  ['disabled', 'enable', 'connecting', 'clear_auto_disable reset_failures connect/enable'],
  ['quarantined', 'enable', 'quarantined', 'clear_auto_disable reset_failures refresh'],
  ['stopped', 'enable', 'stopped', 'clear_auto_disable reset_failures refresh'],
  ['closed', 'enable', 'closed', ''],
  // enable (quarantined)
  ['idle', 'enable (quarantined)', 'idle', 'clear_auto_disable reset_failures refresh'],
  ['connecting', 'enable (quarantined)', 'connecting', 'clear_auto_disable reset_failures refresh'],
  ['ready', 'enable (quarantined)', 'ready', 'clear_auto_disable reset_failures refresh'],
  ['error', 'enable (quarantined)', 'error', 'clear_auto_disable reset_failures refresh'],
  ['disabled', 'enable (quarantined)', 'disabled', 'clear_auto_disable reset_failures refresh'],
  ['quarantined', 'enable (quarantined)', 'quarantined', 'clear_auto_disable reset_failures refresh'],
  ['stopped', 'enable (quarantined)', 'stopped', 'clear_auto_disable reset_failures refresh'],
  ['closed', 'enable (quarantined)', 'closed', ''],
  // disable
  ['idle', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['connecting', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['ready', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['error', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['disabled', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['quarantined', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['stopped', 'disable', 'disabled', 'teardown enter:disabled/disable'],
  ['closed', 'disable', 'closed', ''],
  // disable (quarantined)
  ['idle', 'disable (quarantined)', 'idle', 'refresh'],
  ['connecting', 'disable (quarantined)', 'connecting', 'refresh'],
  ['ready', 'disable (quarantined)', 'ready', 'refresh'],
  ['error', 'disable (quarantined)', 'error', 'refresh'],
  ['disabled', 'disable (quarantined)', 'disabled', 'refresh'],
  ['quarantined', 'disable (quarantined)', 'quarantined', 'refresh'],
  ['stopped', 'disable (quarantined)', 'stopped', 'refresh'],
  ['closed', 'disable (quarantined)', 'closed', ''],
  // quarantine
  ['idle', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['connecting', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['ready', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['error', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['disabled', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['quarantined', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['stopped', 'quarantine', 'quarantined', 'teardown enter:quarantined/quarantined'],
  ['closed', 'quarantine', 'closed', ''],
  // unquarantine (enabled)
  [
    'idle',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'connecting',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'ready',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'error',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'disabled',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'quarantined',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  [
    'stopped',
    'unquarantine (enabled)',
    'connecting',
    'forget_tools clear_auto_disable reset_failures connect/unquarantined',
  ],
  ['closed', 'unquarantine (enabled)', 'closed', ''],
  // unquarantine (disabled)
  ['idle', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['connecting', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['ready', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['error', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['disabled', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['quarantined', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['stopped', 'unquarantine (disabled)', 'disabled', 'forget_tools enter:disabled/unquarantined'],
  ['closed', 'unquarantine (disabled)', 'closed', ''],
  // reconfigure (connection)
  ['idle', 'reconfigure (connection)', 'idle', 'refresh'],
  ['connecting', 'reconfigure (connection)', 'connecting', 'teardown reset_failures connect/config_changed'],
  ['ready', 'reconfigure (connection)', 'connecting', 'teardown reset_failures connect/config_changed'],
  ['error', 'reconfigure (connection)', 'connecting', 'teardown reset_failures connect/config_changed'],
  ['disabled', 'reconfigure (connection)', 'disabled', 'refresh'],
  ['quarantined', 'reconfigure (connection)', 'quarantined', 'refresh'],
  ['stopped', 'reconfigure (connection)', 'stopped', 'refresh'],
  ['closed', 'reconfigure (connection)', 'closed', ''],
  // reconfigure (timers)
  ['idle', 'reconfigure (timers)', 'idle', 'refresh'],
  ['connecting', 'reconfigure (timers)', 'connecting', 'refresh'],
  ['ready', 'reconfigure (timers)', 'ready', 'reschedule refresh'],
  ['error', 'reconfigure (timers)', 'error', 'refresh'],
  ['disabled', 'reconfigure (timers)', 'disabled', 'refresh'],
  ['quarantined', 'reconfigure (timers)', 'quarantined', 'refresh'],
  ['stopped', 'reconfigure (timers)', 'stopped', 'refresh'],
  ['closed', 'reconfigure (timers)', 'closed', ''],
  // reconfigure (other)
  ['idle', 'reconfigure (other)', 'idle', 'refresh'],
  ['connecting', 'reconfigure (other)', 'connecting', 'refresh'],
  ['ready', 'reconfigure (other)', 'ready', 'refresh'],
  ['error', 'reconfigure (other)', 'error', 'refresh'],
  ['disabled', 'reconfigure (other)', 'disabled', 'refresh'],
  ['quarantined', 'reconfigure (other)', 'quarantined', 'refresh'],
  ['stopped', 'reconfigure (other)', 'stopped', 'refresh'],
  ['closed', 'reconfigure (other)', 'closed', ''],
  // close
  ['idle', 'close', 'closed', 'teardown enter:closed/closed'],
  ['connecting', 'close', 'closed', 'teardown enter:closed/closed'],
  ['ready', 'close', 'closed', 'teardown enter:closed/closed'],
  ['error', 'close', 'closed', 'teardown enter:closed/closed'],
  ['disabled', 'close', 'closed', 'teardown enter:closed/closed'],
  ['quarantined', 'close', 'closed', 'teardown enter:closed/closed'],
  ['stopped', 'close', 'closed', 'teardown enter:closed/closed'],
  ['closed', 'close', 'closed', ''],
  // connected
  ['idle', 'connected', 'idle', 'discard'],
  ['connecting', 'connected', 'ready', 'attach enter:ready/connected announce'],
  ['ready', 'connected', 'ready', 'discard'],
  ['error', 'connected', 'error', 'discard'],
  ['disabled', 'connected', 'disabled', 'discard'],
  ['quarantined', 'connected', 'quarantined', 'discard'],
  ['stopped', 'connected', 'stopped', 'discard'],
  ['closed', 'connected', 'closed', 'discard'],
  // connect_failed
  ['idle', 'connect_failed', 'idle', ''],
  ['connecting', 'connect_failed', 'error', 'record_failure schedule_retry enter:error/connect_failed!'],
  ['ready', 'connect_failed', 'ready', ''],
  ['error', 'connect_failed', 'error', ''],
  ['disabled', 'connect_failed', 'disabled', ''],
  ['quarantined', 'connect_failed', 'quarantined', ''],
  ['stopped', 'connect_failed', 'stopped', ''],
  ['closed', 'connect_failed', 'closed', ''],
  // connect_failed (gives up)
  ['idle', 'connect_failed (gives up)', 'idle', ''],
  [
    'connecting',
    'connect_failed (gives up)',
    'disabled',
    'record_failure auto_disable enter:disabled/auto_disabled! publish_auto_disabled',
  ],
  ['ready', 'connect_failed (gives up)', 'ready', ''],
  ['error', 'connect_failed (gives up)', 'error', ''],
  ['disabled', 'connect_failed (gives up)', 'disabled', ''],
  ['quarantined', 'connect_failed (gives up)', 'quarantined', ''],
  ['stopped', 'connect_failed (gives up)', 'stopped', ''],
  ['closed', 'connect_failed (gives up)', 'closed', ''],
  // lost
  ['idle', 'lost', 'idle', ''],
  ['connecting', 'lost', 'connecting', ''],
  ['ready', 'lost', 'error', 'detach schedule_retry enter:error/connection_lost!'],
  ['error', 'lost', 'error', ''],
  ['disabled', 'lost', 'disabled', ''],
  ['quarantined', 'lost', 'quarantined', ''],
  ['stopped', 'lost', 'stopped', ''],
  ['closed', 'lost', 'closed', ''],
  // retry_due
  ['idle', 'retry_due', 'idle', ''],
  ['connecting', 'retry_due', 'connecting', ''],
  ['ready', 'retry_due', 'ready', ''],
  ['error', 'retry_due', 'connecting', 'connect/retry'],
  ['disabled', 'retry_due', 'disabled', ''],
  ['quarantined', 'retry_due', 'quarantined', ''],
  ['stopped', 'retry_due', 'stopped', ''],
  ['closed', 'retry_due', 'closed', ''],
];

const show = (e: LifecycleEffect): string =>
  e.type === 'enter'
    ? `enter:${e.state}/${e.reason}${e.error ? '!' : ''}`
    : e.type === 'connect'
      ? `connect/${e.reason}`
      : e.type;

describe('lifecycle transition table', () => {
  it('has one row for every state and every input', () => {
    const keys = new Set(TABLE.map(([state, input]) => `${state} × ${input}`));
    expect(keys.size).toBe(TABLE.length);
    expect(TABLE.length).toBe(LIFECYCLE_STATES.length * Object.keys(INPUTS).length);
    for (const state of LIFECYCLE_STATES) {
      for (const input of Object.keys(INPUTS)) expect(keys).toContain(`${state} × ${input}`);
    }
  });

  it.each(TABLE)('%s × %s → %s [%s]', (state, name, next, effects) => {
    const input = INPUTS[name];
    if (!input) throw new Error(`no input ${name}`);
    const step = transition(state, input);
    expect(step.next).toBe(next);
    expect(step.effects.map(show).join(' ')).toBe(effects);
  });

  it('ends every step in the state its last enter or connect entered (the shell publishes from those)', () => {
    for (const state of LIFECYCLE_STATES) {
      for (const input of Object.values(INPUTS)) {
        const { next, effects } = transition(state, input);
        let reached = state;
        for (const e of effects) {
          if (e.type === 'enter') reached = e.state;
          else if (e.type === 'connect') reached = 'connecting';
        }
        expect(reached, `${state} × ${input.type}`).toBe(next);
      }
    }
  });

  it('ignores everything once closed, except that a late connection is closed', () => {
    for (const input of Object.values(INPUTS)) {
      const { next, effects } = transition('closed', input);
      expect(next).toBe('closed');
      expect(effects.map(show)).toEqual(input.type === 'connected' ? ['discard'] : []);
    }
  });

  it('is pure: the same state and input give an equal step', () => {
    for (const state of LIFECYCLE_STATES) {
      for (const input of Object.values(INPUTS)) expect(transition(state, input)).toEqual(transition(state, input));
    }
  });
});

describe('configInput', () => {
  const entry = (patch: Record<string, unknown> = {}): ServerConfig => {
    const parsed = parseServerConfig({ name: 'a', command: 'x', ...patch });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.value;
  };
  const input = (prev: ServerConfig, next: ServerConfig, nextSettings = DEFAULT_ACTOR_SETTINGS) =>
    configInput(prev, DEFAULT_ACTOR_SETTINGS, next, nextSettings);

  it('puts quarantine first, then unquarantine, then the enabled flag', () => {
    expect(input(entry(), entry({ quarantined: true, enabled: false }))).toEqual({ type: 'quarantine' });
    expect(input(entry({ quarantined: true }), entry({ enabled: false }))).toEqual({
      type: 'unquarantine',
      enabled: false,
    });
    expect(input(entry({ quarantined: true }), entry({ quarantined: true, command: 'y' }))).toEqual({
      type: 'reconfigure',
      connection: false,
      timers: false,
    });
    expect(input(entry(), entry({ enabled: false, command: 'y' }))).toEqual({ type: 'disable', quarantined: false });
    expect(input(entry({ enabled: false }), entry({ command: 'y' }))).toEqual({ type: 'enable', quarantined: false });
  });

  it('says whether a connection field or a ready-time interval changed', () => {
    expect(input(entry(), entry({ args: ['--x'] }))).toEqual({ type: 'reconfigure', connection: true, timers: false });
    expect(input(entry(), entry({ health_check_interval: 5 }))).toEqual({
      type: 'reconfigure',
      connection: false,
      timers: true,
    });
    expect(input(entry(), entry(), { ...DEFAULT_ACTOR_SETTINGS, tool_discovery_interval: 1 })).toEqual({
      type: 'reconfigure',
      connection: false,
      timers: true,
    });
    expect(input(entry(), entry({ groups: ['g'] }))).toEqual({ type: 'reconfigure', connection: false, timers: false });
  });
});
