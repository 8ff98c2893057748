import type { BusEvent } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createWaitList, nextEvent, recordEvents, type SubscribableBus, waitFor } from '../src/index.js';

/** The smallest bus a recorder can listen to: `emit` delivers one event to every listener. */
function tinyBus(): SubscribableBus & { emit(event: BusEvent): void; listeners(): number } {
  const listeners = new Set<(event: BusEvent) => void>();
  return {
    subscribe(_type, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      for (const l of [...listeners]) l(event);
    },
    listeners: () => listeners.size,
  };
}

let seq = 0;
const lost = (server: string): BusEvent =>
  ({
    seq: ++seq,
    epoch: 'e',
    time: '2026-01-01T00:00:00.000Z',
    type: 'connection_lost',
    server,
    data: { error: 'gone' },
  }) as unknown as BusEvent;

describe('waitFor', () => {
  it('resolves with the first truthy value of the check', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0))).toBe(3);
  });

  it('rejects naming what it waited for once the time is up', async () => {
    await expect(waitFor(() => false, { timeoutMs: 20, what: 'nothing' })).rejects.toThrow(/waiting for nothing/);
  });
});

describe('createWaitList', () => {
  it('re-checks on notify and leaves no wait behind', async () => {
    const waits = createWaitList();
    let value: string | undefined;
    const got = waits.until(() => value);
    expect(waits.pending()).toBe(1);
    value = 'x';
    waits.notify();
    expect(await got).toBe('x');
    expect(waits.pending()).toBe(0);
  });

  it('rejects with the detail after the timeout', async () => {
    const waits = createWaitList();
    await expect(waits.until(() => false, { timeoutMs: 10, what: 'y', detail: () => 'saw z' })).rejects.toThrow(
      'waiting for y; saw z',
    );
    expect(waits.pending()).toBe(0);
  });
});

describe('recordEvents', () => {
  it('records events, filters them by type and server, and stops listening', () => {
    const bus = tinyBus();
    const events = recordEvents(bus);
    bus.emit(lost('a'));
    bus.emit(lost('b'));
    expect(events.of('connection_lost').map((e) => e.server)).toEqual(['a', 'b']);
    expect(events.of('connection_lost', 'b')).toHaveLength(1);
    events.clear();
    expect(events.events).toEqual([]);
    events.stop();
    expect(bus.listeners()).toBe(0);
  });

  it('waitFor finds an event already seen; next only a later one, also after clear()', async () => {
    const bus = tinyBus();
    const events = recordEvents(bus);
    bus.emit(lost('a'));
    expect((await events.waitFor('connection_lost')).server).toBe('a');
    const later = events.next('connection_lost', (e) => e.server === 'b');
    events.clear();
    bus.emit(lost('c'));
    bus.emit(lost('b'));
    expect((await later).server).toBe('b');
  });

  it('rejects a wait that times out with the last events seen', async () => {
    const bus = tinyBus();
    const events = recordEvents(bus, { timeoutMs: 10 });
    bus.emit(lost('a'));
    await expect(events.next('connection_lost')).rejects.toThrow('last events: connection_lost(a)');
  });
});

describe('nextEvent', () => {
  it('reads the next event, and fails on a closed stream or after the timeout', async () => {
    const event = lost('a');
    expect(await nextEvent({ next: async () => event })).toBe(event);
    await expect(nextEvent({ next: async () => undefined })).rejects.toThrow('stream closed');
    await expect(nextEvent({ next: () => new Promise(() => {}) }, 10)).rejects.toThrow('timed out');
  });
});
