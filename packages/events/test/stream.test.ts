import type { BusEvent } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../src/index.js';
import { stateChanged } from './helpers.js';

const metrics = () =>
  ({
    type: 'system_metrics',
    data: { total: 0, ready: 0, error: 0, disabled: 0, quarantined: 0, ws_clients: 0, events_per_s: 0 },
  }) as const;

describe('stream', () => {
  it('yields events in order as an async iterable', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const stream = bus.stream();
    const got: number[] = [];
    const reader = (async () => {
      for await (const e of stream) {
        got.push(e.seq);
        if (got.length === 3) break;
      }
    })();
    bus.publish(metrics());
    bus.publish(metrics());
    bus.publish(metrics());
    await reader;
    expect(got).toEqual([1, 2, 3]);
    expect(stream.closed).toBe(true);
    expect(bus.listenerCount()).toBe(0);
  });

  it('hands an event straight to a waiting reader', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const stream = bus.stream();
    const next = stream.next();
    bus.publish(metrics());
    await expect(next).resolves.toMatchObject({ seq: 1 });
    expect(stream.size).toBe(0);
  });

  it('keeps the newest events and counts the dropped oldest ones when the reader falls behind', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const stream = bus.stream({ capacity: 3 });
    for (let i = 0; i < 10; i++) bus.publish(metrics());
    expect(stream.size).toBe(3);
    expect(stream.dropped).toBe(7);
    const got: (BusEvent | undefined)[] = [await stream.next(), await stream.next(), await stream.next()];
    expect(got.map((e) => e?.seq)).toEqual([8, 9, 10]);
  });

  it('filters by type and by server (events without a server are left out of a server filter)', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const byType = bus.stream({ types: ['system_metrics'] });
    const byServer = bus.stream({ servers: ['b'] });
    bus.publish(stateChanged('a'));
    bus.publish(stateChanged('b'));
    bus.publish(metrics());
    expect((await byType.next())?.seq).toBe(3);
    expect(byType.size).toBe(0);
    expect((await byServer.next())?.server).toBe('b');
    expect(byServer.size).toBe(0);
  });

  it('ends a pending read with undefined on close and unsubscribes', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const stream = bus.stream();
    const pending = stream.next();
    stream.close();
    stream.close();
    await expect(pending).resolves.toBeUndefined();
    expect(bus.listenerCount()).toBe(0);
    bus.publish(metrics());
    expect(stream.size).toBe(0);
  });

  it('refuses a second concurrent read instead of losing an event', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const stream = bus.stream();
    const first = stream.next();
    await expect(stream.next()).rejects.toThrow(/before the last read settled/);
    bus.publish(metrics());
    await expect(first).resolves.toMatchObject({ seq: 1 });
  });
});
