import type { BusEvent, ServerSummary } from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createStateView, makeSummary, type StateSnapshot, type StateView } from '../src/index.js';
import { reachableObjects } from './helpers.js';

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const closable of open.splice(0)) closable.close();
});

function setup(options: Partial<Parameters<typeof createStateView>[0]> = {}): { bus: EventBus; view: StateView } {
  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, ...options });
  open.push(view, bus);
  return { bus, view };
}

const stateChanged = (bus: EventBus, summary: ServerSummary) =>
  bus.publish({
    type: 'server_state_changed',
    server: summary.name,
    data: { from: 'idle', to: summary.state, reason: 'test', retry_count: summary.retry_count, summary },
  });

const added = (bus: EventBus, summary: ServerSummary) =>
  bus.publish({ type: 'server_config_changed', server: summary.name, data: { change: 'added', summary } });

const removed = (bus: EventBus, summary: ServerSummary) =>
  bus.publish({ type: 'server_config_changed', server: summary.name, data: { change: 'removed', summary } });

const toolCalled = (bus: EventBus, server: string) =>
  bus.publish({ type: 'tool_called', server, data: { tool: 'echo', duration_ms: 1, status: 'ok' } });

describe('createStateView', () => {
  it('starts at version 0 and seq 0 with the seeded servers in name order and the default app', () => {
    const { view } = setup({ servers: [makeSummary('b'), makeSummary('a')], app: { version: '9.9.9' } });
    const snap = view.snapshot();
    expect(snap.version).toBe(0);
    expect(snap.seq).toBe(0);
    expect(snap.servers.map((s) => s.name)).toEqual(['a', 'b']);
    expect(snap.app).toEqual({ state: 'starting', started_at: null, version: '9.9.9' });
  });

  it('bumps the version by one per changing event and tracks the seq of every event', () => {
    const { bus, view } = setup({ servers: [makeSummary('a')] });
    const e1 = stateChanged(bus, makeSummary('a', { state: 'connecting' }));
    expect(view.snapshot()).toMatchObject({ version: 1, seq: e1.seq });
    const e2 = stateChanged(bus, makeSummary('a', { state: 'ready' }));
    expect(view.snapshot()).toMatchObject({ version: 2, seq: e2.seq });
    const e3 = toolCalled(bus, 'a');
    expect(view.snapshot()).toMatchObject({ version: 2, seq: e3.seq });
    const e4 = stateChanged(bus, makeSummary('a', { state: 'ready' }));
    expect(view.snapshot()).toMatchObject({ version: 2, seq: e4.seq });
    const e5 = bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
    expect(view.snapshot()).toMatchObject({ version: 3, seq: e5.seq, app: { state: 'running' } });
  });

  it('keeps the servers and app references across a no-op event', () => {
    const { bus, view } = setup({ servers: [makeSummary('a')] });
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    const before = view.snapshot();
    expect(before.version).toBe(1);
    toolCalled(bus, 'a');
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    const after = view.snapshot();
    expect(after.servers).toBe(before.servers);
    expect(after.app).toBe(before.app);
  });

  it('returns the same snapshot object until the next event', () => {
    const { bus, view } = setup();
    added(bus, makeSummary('a'));
    const snap = view.snapshot();
    expect(view.snapshot()).toBe(snap);
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    expect(view.snapshot()).not.toBe(snap);
  });

  it('answers server(name) with the current row and undefined once it is removed', () => {
    const { bus, view } = setup({ servers: [makeSummary('seeded')] });
    expect(view.server('seeded')).toEqual(makeSummary('seeded'));
    expect(view.server('a')).toBeUndefined();
    added(bus, makeSummary('a'));
    expect(view.server('a')).toEqual(makeSummary('a'));
    stateChanged(bus, makeSummary('a', { state: 'connecting' }));
    stateChanged(bus, makeSummary('a', { state: 'ready', tool_count: 4 }));
    expect(view.server('a')).toBe(view.snapshot().servers.find((s) => s.name === 'a'));
    expect(view.server('a')).toMatchObject({ state: 'ready', tool_count: 4 });
    removed(bus, makeSummary('a'));
    expect(view.server('a')).toBeUndefined();
    expect(view.server('seeded')).toBe(view.snapshot().servers[0]);
  });

  it('a late state event after removed does not bring the server back', () => {
    const { bus, view } = setup({ servers: [makeSummary('keep'), makeSummary('gone', { state: 'ready' })] });
    const listener = vi.fn();
    view.subscribe(listener);
    removed(bus, makeSummary('gone', { state: 'ready' }));
    const afterRemoval = view.snapshot();
    const json = view.serialized();
    expect(afterRemoval.version).toBe(1);
    // The actor shutting down reports its last transition after the removal.
    const late = bus.publish({
      type: 'server_state_changed',
      server: 'gone',
      data: {
        from: 'ready',
        to: 'stopped',
        reason: 'removed',
        retry_count: 0,
        summary: makeSummary('gone', { state: 'stopped' }),
      },
    });
    expect(view.server('gone')).toBeUndefined();
    expect(view.snapshot()).toMatchObject({ version: 1, seq: late.seq });
    expect(view.snapshot().servers).toBe(afterRemoval.servers);
    expect(view.snapshot().servers.map((s) => s.name)).toEqual(['keep']);
    expect(view.serializedServers()).toBe(JSON.stringify({ servers: afterRemoval.servers }));
    expect(JSON.parse(view.serialized())).toEqual({ ...JSON.parse(json), seq: late.seq });
    expect(listener).toHaveBeenCalledOnce();
  });

  it('hands out deeply frozen snapshots whose rows throw when mutated', () => {
    const { bus, view } = setup({ servers: [makeSummary('seeded', { groups: ['g'] }), makeSummary('a')] });
    stateChanged(bus, makeSummary('a', { groups: ['dev'], state: 'ready' }));
    bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
    const snap = view.snapshot();
    for (const object of reachableObjects(snap)) expect(Object.isFrozen(object)).toBe(true);
    const row = view.server('a')! as { state: string; groups: string[] };
    // Test files are ES modules, so strict mode: writes to frozen objects throw.
    expect(() => {
      row.state = 'error';
    }).toThrow(TypeError);
    expect(() => row.groups.push('prod')).toThrow(TypeError);
    expect(() => (snap.servers as ServerSummary[]).pop()).toThrow(TypeError);
    expect(() => {
      (snap as { version: number }).version = 99;
    }).toThrow(TypeError);
    expect(view.server('a')).toMatchObject({ state: 'ready', groups: ['dev'] });
  });

  it('serialises the snapshot exactly as JSON.stringify would', () => {
    const { bus, view } = setup({ servers: [makeSummary('b'), makeSummary('a')] });
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    toolCalled(bus, 'a');
    expect(view.snapshot().version).toBe(1);
    expect(view.serialized()).toBe(JSON.stringify(view.snapshot()));
    expect(view.serializedServers()).toBe(JSON.stringify({ servers: view.snapshot().servers }));
  });

  it('serialises the servers once per version however often it is read', () => {
    const stringify = vi.fn((value: unknown) => JSON.stringify(value));
    const { bus, view } = setup({ stringify, servers: [makeSummary('a')] });
    const calls = () => stringify.mock.calls.length;

    const first = view.serialized();
    const firstServers = view.serializedServers();
    expect(calls()).toBe(2); // servers + app
    for (let i = 0; i < 100; i++) {
      expect(view.serialized()).toBe(first);
      expect(view.serializedServers()).toBe(firstServers);
    }
    expect(calls()).toBe(2);

    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    const second = view.serialized();
    view.serialized();
    view.serializedServers();
    expect(second).not.toBe(first);
    expect(calls()).toBe(3); // only the servers changed; the app JSON is reused

    bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
    view.serialized();
    view.serializedServers();
    expect(calls()).toBe(4); // only the app changed; the servers JSON is reused
  });

  it('does not re-serialise on a no-op event, only moves the seq in the envelope', () => {
    const stringify = vi.fn((value: unknown) => JSON.stringify(value));
    const { bus, view } = setup({ stringify, servers: [makeSummary('a')] });
    const servers = view.serializedServers();
    view.serialized();
    const before = stringify.mock.calls.length;

    const noop = toolCalled(bus, 'a');
    stateChanged(bus, makeSummary('a'));
    const sameRow = bus.seq;

    expect(view.serializedServers()).toBe(servers);
    const after = JSON.parse(view.serialized()) as StateSnapshot;
    expect(after.seq).toBe(sameRow);
    expect(after.seq).toBeGreaterThan(noop.seq);
    expect(after.version).toBe(0);
    expect(stringify.mock.calls.length).toBe(before);
  });

  it('keeps its state when a malformed event makes a reducer throw, and the bus reports the error', () => {
    const errors: unknown[] = [];
    const bus = createEventBus({ coalesceMs: 0, onListenerError: (error) => errors.push(error) });
    const view = createStateView({ bus, servers: [makeSummary('a')] });
    open.push(view, bus);
    const before = view.snapshot();
    bus.publish({ type: 'connection_lost', server: 'a', data: { error: 'x' } as never });
    expect(errors).toHaveLength(1);
    expect(view.snapshot().version).toBe(0);
    expect(view.snapshot().servers).toBe(before.servers);
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    expect(view.snapshot().version).toBe(1);
  });

  it('does not serialise anything until asked', () => {
    const stringify = vi.fn((value: unknown) => JSON.stringify(value));
    const { bus, view } = setup({ stringify });
    for (let i = 0; i < 10; i++) {
      added(bus, makeSummary(`s${i}`));
      stateChanged(bus, makeSummary(`s${i}`, { state: 'ready' }));
    }
    expect(view.snapshot().version).toBe(20);
    expect(stringify).not.toHaveBeenCalled();
  });
});

describe('subscribe', () => {
  it('calls listeners after each changing event with the new snapshot and the event, not after no-ops', () => {
    const { bus, view } = setup();
    const seen: Array<[StateSnapshot, BusEvent]> = [];
    view.subscribe((snap, event) => seen.push([snap, event]));
    const e1 = added(bus, makeSummary('a'));
    toolCalled(bus, 'a');
    stateChanged(bus, makeSummary('a'));
    stateChanged(bus, makeSummary('unknown', { state: 'ready' }));
    const e2 = bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
    expect(seen.map(([, event]) => event)).toEqual([e1, e2]);
    expect(seen.map(([snap]) => [snap.version, snap.seq])).toEqual([
      [1, e1.seq],
      [2, e2.seq],
    ]);
    expect(seen[1]![0]).toBe(view.snapshot());
  });

  it('keeps delivering to the other listeners when one throws, and reports the error', () => {
    const errors: unknown[] = [];
    const { bus, view } = setup({ onListenerError: (error) => errors.push(error) });
    const before = vi.fn();
    const after = vi.fn();
    view.subscribe(before);
    view.subscribe(() => {
      throw new Error('listener failed');
    });
    view.subscribe(after);
    added(bus, makeSummary('a'));
    added(bus, makeSummary('b'));
    expect(before).toHaveBeenCalledTimes(2);
    expect(after).toHaveBeenCalledTimes(2);
    expect(errors).toHaveLength(2);
    expect((errors[0] as Error).message).toBe('listener failed');
    expect(view.snapshot().servers).toHaveLength(2);
  });

  it('survives an onListenerError that throws itself', () => {
    const { bus, view } = setup({
      onListenerError: () => {
        throw new Error('reporter failed');
      },
    });
    const after = vi.fn();
    view.subscribe(() => {
      throw new Error('listener failed');
    });
    view.subscribe(after);
    added(bus, makeSummary('a'));
    expect(after).toHaveBeenCalledOnce();
  });

  it('stops calling a listener once unsubscribed; unsubscribing twice is harmless', () => {
    const { bus, view } = setup();
    const listener = vi.fn();
    const other = vi.fn();
    const off = view.subscribe(listener);
    view.subscribe(other);
    added(bus, makeSummary('a'));
    off();
    off();
    added(bus, makeSummary('b'));
    expect(listener).toHaveBeenCalledOnce();
    expect(other).toHaveBeenCalledTimes(2);
  });

  it('treats the same function subscribed twice as two subscriptions', () => {
    const { bus, view } = setup();
    const listener = vi.fn();
    const off1 = view.subscribe(listener);
    view.subscribe(listener);
    added(bus, makeSummary('a'));
    expect(listener).toHaveBeenCalledTimes(2);
    off1();
    added(bus, makeSummary('b'));
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('does not call a listener that an earlier listener unsubscribed during the same delivery', () => {
    const { bus, view } = setup();
    const second = vi.fn();
    let offSecond = () => {};
    view.subscribe(() => offSecond());
    offSecond = view.subscribe(second);
    added(bus, makeSummary('a'));
    expect(second).not.toHaveBeenCalled();
  });
});

describe('close', () => {
  it('unsubscribes from the bus, is idempotent and keeps answering with the last snapshot', () => {
    const { bus, view } = setup();
    const baseline = bus.listenerCount();
    const extra = createStateView({ bus });
    expect(bus.listenerCount()).toBe(baseline + 1);
    added(bus, makeSummary('a'));
    stateChanged(bus, makeSummary('a', { state: 'ready' }));
    const listener = vi.fn();
    extra.subscribe(listener);
    const last = extra.snapshot();

    extra.close();
    expect(bus.listenerCount()).toBe(baseline);
    extra.close();
    expect(bus.listenerCount()).toBe(baseline);

    added(bus, makeSummary('b'));
    expect(listener).not.toHaveBeenCalled();
    expect(extra.snapshot()).toBe(last);
    expect(extra.server('a')).toMatchObject({ state: 'ready' });
    expect(extra.server('b')).toBeUndefined();
    expect(JSON.parse(extra.serialized())).toEqual(last);
    expect(view.server('b')).toBeDefined();
  });

  it('returns a harmless unsubscribe for a listener added after close', () => {
    const { view } = setup();
    view.close();
    const off = view.subscribe(() => {});
    expect(() => off()).not.toThrow();
  });

  it('closes through Symbol.dispose and Symbol.asyncDispose', async () => {
    const { bus } = setup();
    const baseline = bus.listenerCount();
    const a = createStateView({ bus });
    const b = createStateView({ bus });
    expect(bus.listenerCount()).toBe(baseline + 2);
    a[Symbol.dispose]();
    await b[Symbol.asyncDispose]();
    expect(bus.listenerCount()).toBe(baseline);
  });
});
