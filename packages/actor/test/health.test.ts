import { createFakeClock } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { HealthRecord, ReadySchedule } from '../src/health.js';

function setup() {
  const clock = createFakeClock();
  const calls = { ping: 0, relist: 0 };
  const host = { pingDue: () => calls.ping++, relistDue: () => calls.relist++ };
  const schedule = new ReadySchedule({ clock, host });
  return { clock, calls, schedule };
}

describe('ReadySchedule', () => {
  it('pings every interval once the last ping answered, and re-lists every discovery interval', () => {
    const { clock, calls, schedule } = setup();
    schedule.start(100, 250);
    clock.advance(100);
    expect(calls.ping).toBe(1);
    clock.advance(100);
    expect(calls.ping).toBe(1); // not re-armed until the ping answered
    schedule.pinged();
    clock.advance(100);
    expect(calls.ping).toBe(2);
    clock.advance(50);
    expect(calls.relist).toBe(1);
  });

  it('turns a timer off with an interval of zero', () => {
    const { clock, calls, schedule } = setup();
    schedule.start(0, 0);
    expect(clock.pending()).toBe(0);
    clock.advance(1_000_000);
    expect(calls).toEqual({ ping: 0, relist: 0 });
  });

  it('runs one re-listing at a time and once more when another was asked for meanwhile', () => {
    const { clock, schedule } = setup();
    schedule.start(0, 300);
    expect(schedule.beginRelist()).toBe(true);
    expect(clock.pending()).toBe(0); // the discovery timer waits for this listing
    expect(schedule.beginRelist()).toBe(false);
    expect(schedule.relisted()).toBe(true);
    expect(schedule.beginRelist()).toBe(true);
    expect(schedule.relisted()).toBe(false);
    expect(clock.pending()).toBe(1);
  });

  it('clears both timers on stop', () => {
    const { clock, calls, schedule } = setup();
    schedule.start(100, 100);
    schedule.stop();
    expect(clock.pending()).toBe(0);
    clock.advance(1_000);
    expect(calls).toEqual({ ping: 0, relist: 0 });
  });
});

describe('HealthRecord', () => {
  it('keeps the last ping and failure code in one frozen object until either changes', () => {
    const record = new HealthRecord();
    const first = record.read();
    expect(first).toEqual({ last_ping_at: null, last_ping_ms: null, last_error_code: null });
    expect(record.read()).toBe(first);
    record.setErrorCode(null);
    expect(record.read()).toBe(first);
    record.pinged(1_000, 1_025);
    expect(record.read()).toEqual({
      last_ping_at: new Date(1_025).toISOString(),
      last_ping_ms: 25,
      last_error_code: null,
    });
    record.setErrorCode('PING_TIMEOUT');
    expect(Object.isFrozen(record.read())).toBe(true);
    expect(record.read().last_error_code).toBe('PING_TIMEOUT');
  });
});
