import { type BusEvent, createFakeClock } from '@mcpproxy/contracts';
import { describe, expect, it, vi } from 'vitest';
import { createEventBus } from '../src/index.js';
import { stateChanged } from './helpers.js';

const metrics = (n = 0) =>
  ({
    type: 'system_metrics',
    data: { total: n, ready: 0, error: 0, disabled: 0, quarantined: 0, ws_clients: 0, events_per_s: 0 },
  }) as const;

describe('publish', () => {
  it('stamps gapless increasing seq, the bus epoch and the clock time', () => {
    const clock = createFakeClock(Date.UTC(2026, 10, 21, 10));
    const bus = createEventBus({ clock, coalesceMs: 0 });
    const a = bus.publish(metrics());
    clock.advance(1500);
    const b = bus.publish(stateChanged('github'));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(bus.seq).toBe(2);
    expect(a.epoch).toBe(bus.epoch);
    expect(bus.epoch).toMatch(/^[0-9a-f]{16}$/);
    expect(a.time).toBe('2026-11-21T10:00:00.000Z');
    expect(b.time).toBe('2026-11-21T10:00:01.500Z');
    expect(b.server).toBe('github');
    expect(a.server).toBeUndefined();
    expect(JSON.parse(JSON.stringify(a))).not.toHaveProperty('server');
  });

  it('stamps events published in one synchronous run with one system-clock time, and reads it again next turn', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const before = Date.now();
    const a = bus.publish(metrics());
    const b = bus.publish(metrics());
    expect(b.time).toBe(a.time);
    expect(Date.parse(a.time)).toBeGreaterThanOrEqual(before);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const c = bus.publish(metrics());
    expect(Date.parse(c.time)).toBeGreaterThanOrEqual(Date.parse(a.time));
  });

  it('gives each bus its own random epoch', () => {
    expect(createEventBus().epoch).not.toBe(createEventBus().epoch);
  });
});

describe('subscribe', () => {
  it('delivers by type, by list of types and to wildcard listeners', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const one: string[] = [];
    const many: string[] = [];
    const all: string[] = [];
    bus.subscribe('system_metrics', (e) => one.push(`${e.type}:${e.data.total}`));
    bus.subscribe(['server_state_changed', 'app_state_changed'], (e) => many.push(e.type));
    bus.subscribe('*', (e) => all.push(e.type));
    bus.publish(metrics(3));
    bus.publish(stateChanged('a'));
    bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
    expect(one).toEqual(['system_metrics:3']);
    expect(many).toEqual(['server_state_changed', 'app_state_changed']);
    expect(all).toEqual(['system_metrics', 'server_state_changed', 'app_state_changed']);
  });

  it('keeps delivering to other listeners when one throws, and reports the error', () => {
    const onListenerError = vi.fn();
    const bus = createEventBus({ onListenerError, coalesceMs: 0 });
    const got: number[] = [];
    bus.subscribe('system_metrics', () => {
      throw new Error('boom');
    });
    bus.subscribe('system_metrics', (e) => got.push(e.seq));
    bus.subscribe('*', (e) => got.push(e.seq * 10));
    bus.publish(metrics());
    expect(got).toEqual([1, 10]);
    expect(onListenerError).toHaveBeenCalledOnce();
    expect(onListenerError).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'boom' }),
      expect.objectContaining({ seq: 1 }),
    );
  });

  it('survives an error reporter that throws too', () => {
    const bus = createEventBus({
      coalesceMs: 0,
      onListenerError: () => {
        throw new Error('reporter');
      },
    });
    const got: number[] = [];
    bus.subscribe('*', () => {
      throw new Error('boom');
    });
    bus.subscribe('*', (e) => got.push(e.seq));
    bus.publish(metrics());
    expect(got).toEqual([1]);
  });

  it('returns an unsubscribe that is safe to call twice', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const got: number[] = [];
    const off = bus.subscribe(['system_metrics', 'servers_changed'], (e) => got.push(e.seq));
    const other = bus.subscribe('*', () => {});
    expect(bus.listenerCount()).toBe(2);
    off();
    off();
    expect(bus.listenerCount()).toBe(1);
    bus.publish(metrics());
    expect(got).toEqual([]);
    other();
    other();
    expect(bus.listenerCount()).toBe(0);
  });

  it('delivers events published from inside a listener after the current event reaches everyone, in seq order', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const first: number[] = [];
    const second: number[] = [];
    bus.subscribe('*', (e) => {
      first.push(e.seq);
      if (e.seq === 1) {
        const nested = bus.publish(metrics(2));
        expect(nested.seq).toBe(2);
      }
    });
    bus.subscribe('*', (e) => second.push(e.seq));
    bus.publish(metrics(1));
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });
});

describe('routing', () => {
  it('lets a listener unsubscribe another during delivery without skipping the rest of that event', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const got: string[] = [];
    let offB: () => void = () => {};
    bus.subscribe('system_metrics', (e) => {
      got.push(`a${e.seq}`);
      offB();
    });
    offB = bus.subscribe('system_metrics', (e) => got.push(`b${e.seq}`));
    bus.subscribe('system_metrics', (e) => got.push(`c${e.seq}`));
    bus.publish(metrics());
    bus.publish(metrics());
    expect(got).toEqual(['a1', 'b1', 'c1', 'a2', 'c2']);
  });

  it('routes a type again after its last listener left, and runs type listeners before wildcard ones', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const got: string[] = [];
    bus.subscribe('*', (e) => got.push(`*${e.seq}`));
    const off = bus.subscribe('system_metrics', (e) => got.push(`t${e.seq}`));
    bus.publish(metrics());
    off();
    bus.publish(metrics());
    bus.subscribe('system_metrics', (e) => got.push(`u${e.seq}`));
    bus.publish(metrics());
    expect(got).toEqual(['t1', '*1', '*2', 'u3', '*3']);
    expect(bus.listenerCount()).toBe(2);
  });
});

describe('since (replay ring)', () => {
  it('returns the events after seq, [] when caught up, and null when too old or from the future', () => {
    const bus = createEventBus({ replayBuffer: 3, coalesceMs: 0 });
    for (let i = 0; i < 5; i++) bus.publish(metrics(i));
    expect(bus.since(5)).toEqual([]);
    expect(bus.since(4)?.map((e) => e.seq)).toEqual([5]);
    expect(bus.since(2)?.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(bus.since(1)).toBeNull();
    expect(bus.since(0)).toBeNull();
    expect(bus.since(6)).toBeNull();
    expect(bus.since(-1)).toBeNull();
    expect(bus.since(2.5)).toBeNull();
  });

  it('keeps the last events in order after the ring has wrapped many times', () => {
    const bus = createEventBus({ replayBuffer: 4, coalesceMs: 0 });
    for (let i = 0; i < 4 * 7 + 3; i++) bus.publish(metrics(i));
    expect(bus.since(bus.seq - 4)?.map((e) => e.seq)).toEqual([28, 29, 30, 31]);
    expect(bus.since(bus.seq - 5)).toBeNull();
  });

  it('replays from the very first event while the ring still holds it', () => {
    const bus = createEventBus({ replayBuffer: 10, coalesceMs: 0 });
    bus.publish(metrics());
    bus.publish(metrics());
    expect(bus.since(0)?.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('replays nothing with a zero-size ring but still says when a client is caught up', () => {
    const bus = createEventBus({ replayBuffer: 0, coalesceMs: 0 });
    bus.publish(metrics());
    expect(bus.since(1)).toEqual([]);
    expect(bus.since(0)).toBeNull();
  });
});

describe('servers_changed coalescer', () => {
  it('turns a burst of server changes into one servers_changed at the end of the 50 ms window', () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock });
    const coalesced: BusEvent[] = [];
    bus.subscribe('servers_changed', (e) => coalesced.push(e));
    for (let i = 0; i < 100; i++) bus.publish(stateChanged(`s${i}`));
    clock.advance(49);
    expect(coalesced).toHaveLength(0);
    clock.advance(1);
    expect(coalesced).toHaveLength(1);
    expect(coalesced[0]?.seq).toBe(101);
    bus.publish(stateChanged('again'));
    clock.advance(50);
    expect(coalesced).toHaveLength(2);
    clock.advance(500);
    expect(coalesced).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('ignores events that do not change a server row', () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock });
    bus.publish(metrics());
    bus.publish({ type: 'tool_called', server: 'a', data: { tool: 'echo', duration_ms: 1, status: 'ok' } });
    expect(clock.pending()).toBe(0);
  });

  it('can be turned off', () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock, coalesceMs: 0 });
    bus.publish(stateChanged('a'));
    expect(clock.pending()).toBe(0);
  });
});

describe('close', () => {
  it('drops listeners, ends streams, clears the coalescer timer and stops delivery; idempotent', async () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock });
    const got: number[] = [];
    bus.subscribe('*', (e) => got.push(e.seq));
    const stream = bus.stream();
    bus.publish(stateChanged('a'));
    expect(clock.pending()).toBe(1);
    bus.close();
    bus.close();
    expect(clock.pending()).toBe(0);
    expect(bus.listenerCount()).toBe(0);
    expect(stream.closed).toBe(true);
    await expect(stream.next()).resolves.toBeUndefined();
    const after = bus.publish(metrics());
    expect(after.seq).toBe(2);
    expect(got).toEqual([1]);
    expect(bus.subscribe('*', () => {})).toBeTypeOf('function');
    expect(bus.listenerCount()).toBe(0);
  });
});
