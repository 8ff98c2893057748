import { describe, expect, it } from 'vitest';
import { type ConnEffect, type ConnInput, type ConnState, INITIAL, statusOf, transition } from '../src/connection.js';

const N = 6; // reconnect delays: 1, 2, 4, 8, 16, 32 s
const at = (phase: ConnState['phase'], retries = 0, polling = false): ConnState => ({ phase, retries, polling });
const fx = (...types: (ConnEffect['type'] | ['schedule_retry', number])[]): ConnEffect[] =>
  types.map((t) => (Array.isArray(t) ? { type: t[0], index: t[1] } : ({ type: t } as ConnEffect)));

// Every (state, input) row of the lifecycle, with the next state and the effects in order.
const rows: [string, ConnState, ConnInput['type'], ConnState, ConnEffect[]][] = [
  ['first hello', INITIAL, 'hello', at('live'), fx('disarm_connect_timeout')],
  [
    'first attempt fails',
    INITIAL,
    'lost',
    at('waiting'),
    fx('disarm_connect_timeout', 'close_socket', ['schedule_retry', 0]),
  ],
  ['live socket drops', at('live'), 'lost', at('waiting'), fx('close_socket', ['schedule_retry', 0])],
  ['retry is due', at('waiting', 2), 'retry_due', at('connecting', 3), fx('open_socket', 'arm_connect_timeout')],
  [
    'attempt 3 fails',
    at('connecting', 3),
    'lost',
    at('waiting', 3),
    fx('disarm_connect_timeout', 'close_socket', ['schedule_retry', 3]),
  ],
  [
    'attempt 6 fails: polling starts',
    at('connecting', 6),
    'lost',
    at('waiting', 6, true),
    fx('disarm_connect_timeout', 'close_socket', 'start_polling', ['schedule_retry', 5]),
  ],
  [
    'attempt 9 fails while polling: retries stay at the last delay',
    at('connecting', 9, true),
    'lost',
    at('waiting', 9, true),
    fx('disarm_connect_timeout', 'close_socket', ['schedule_retry', 5]),
  ],
  [
    'hello while polling stops polling',
    at('connecting', 7, true),
    'hello',
    at('live'),
    fx('disarm_connect_timeout', 'stop_polling'),
  ],
  ['close while live', at('live'), 'close', at('closed'), fx('cancel_retry', 'disarm_connect_timeout', 'close_socket')],
  [
    'close while polling',
    at('waiting', 7, true),
    'close',
    at('closed', 7),
    fx('cancel_retry', 'disarm_connect_timeout', 'close_socket', 'stop_polling'),
  ],
  ['a late loss while waiting', at('waiting', 1), 'lost', at('waiting', 1), []],
  ['a stray hello while waiting', at('waiting', 1), 'hello', at('waiting', 1), []],
  ['a retry while connecting', at('connecting', 1), 'retry_due', at('connecting', 1), []],
  ['a second hello while live', at('live'), 'hello', at('live'), []],
  ['anything after close', at('closed'), 'retry_due', at('closed'), []],
  ['close after close', at('closed'), 'close', at('closed'), []],
];

describe('connection lifecycle (functional core)', () => {
  it.each(rows)('%s', (_name, state, input, next, effects) => {
    const step = transition(state, { type: input }, N);
    expect(step.state).toEqual(next);
    expect(step.effects).toEqual(effects);
  });

  it('reports live, polling or reconnecting', () => {
    expect(statusOf(at('live'))).toBe('live');
    expect(statusOf(at('waiting', 6, true))).toBe('polling');
    expect(statusOf(at('connecting', 2))).toBe('reconnecting');
    expect(statusOf(INITIAL)).toBe('reconnecting');
  });

  it('walks 1, 2, 4, 8, 16, 32 s and then polls, from a drop to the seventh attempt', () => {
    let state = at('live');
    const scheduled: number[] = [];
    const drive = (type: ConnInput['type']) => {
      const step = transition(state, { type }, N);
      state = step.state;
      for (const e of step.effects) if (e.type === 'schedule_retry') scheduled.push(e.index);
      return step.effects;
    };
    drive('lost');
    for (let i = 0; i < 6; i++) {
      drive('retry_due');
      const effects = drive('lost');
      expect(effects.some((e) => e.type === 'start_polling')).toBe(i === 5);
    }
    expect(scheduled).toEqual([0, 1, 2, 3, 4, 5, 5]);
    expect(statusOf(state)).toBe('polling');
  });
});
