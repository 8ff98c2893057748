import { createFakeClock } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { EncodingCache } from '../src/codec.js';
import { createFanout } from '../src/fanout.js';
import { ClientRegistry } from '../src/registry.js';
import { fakeRawClient, toolCalled } from './parts.js';

function setup(batchWindow = 0) {
  const clock = createFakeClock();
  const registry = new ClientRegistry();
  const fanout = createFanout({ registry, cache: new EncodingCache(), clock, batchWindow });
  return { clock, registry, fanout };
}

describe('fan-out', () => {
  it('frames an event once for every client that accepts it, and moves every client past it', () => {
    const { registry, fanout } = setup();
    const all = fakeRawClient(registry);
    const other = fakeRawClient(registry);
    const onlyB = fakeRawClient(registry, { servers: new Set(['b']) });
    fanout.onEvent(toolCalled(1, 'a'));
    expect(all.messages().map((m) => m.seq)).toEqual([1]);
    expect(other.writes[0]).toBe(all.writes[0]);
    expect(onlyB.writes).toEqual([]);
    expect(onlyB.c.lastSeq).toBe(1);
  });

  it('sends a replay that overlaps what a client already has only once', () => {
    const { registry, fanout } = setup();
    const client = fakeRawClient(registry);
    fanout.onEvent(toolCalled(1));
    fanout.onEvent(toolCalled(2));
    fanout.deliverMany(client.c, [toolCalled(1), toolCalled(2), toolCalled(3)]);
    expect(client.messages().map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('with a batch window, sends one batch per window: built once for unfiltered clients, per client when filtered', () => {
    const { clock, registry, fanout } = setup(10);
    const a = fakeRawClient(registry);
    const b = fakeRawClient(registry);
    const onlyB = fakeRawClient(registry, { servers: new Set(['b']) });
    fanout.onEvent(toolCalled(1, 'a'));
    fanout.onEvent(toolCalled(2, 'b'));
    fanout.onEvent(toolCalled(3, 'a'));
    expect(a.writes).toEqual([]);
    clock.advance(10);
    expect(a.messages()).toEqual([expect.objectContaining({ type: 'batch' })]);
    expect(a.messages()[0]?.events?.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(b.writes[0]).toBe(a.writes[0]);
    expect(onlyB.messages()[0]?.events?.map((e) => e.seq)).toEqual([2]);
  });

  it('drops the pending window and delivers nothing once closed', () => {
    const { clock, registry, fanout } = setup(10);
    const a = fakeRawClient(registry);
    fanout.onEvent(toolCalled(1));
    fanout.close();
    fanout.onEvent(toolCalled(2));
    clock.advance(100);
    expect(a.writes).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('gives OMNI2 clients the dialect, and nothing for events it has no message for', () => {
    const { registry, fanout } = setup();
    const omni = fakeRawClient(registry, { endpoint: 'mcp_status' });
    fanout.onEvent(toolCalled(1));
    expect(omni.writes).toEqual([]);
    fanout.onEvent({
      seq: 2,
      epoch: 'e1',
      type: 'connection_lost',
      server: 's',
      time: '2026-01-01T00:00:00.000Z',
      data: { error: 'boom' } as never,
    });
    expect(omni.messages()).toEqual([expect.objectContaining({ type: 'health_event', event_type: 'failure' })]);
  });
});
