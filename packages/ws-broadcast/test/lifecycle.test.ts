import { createFakeClock } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { createStateView } from '@mcpproxy/stateview';
import { waitFor } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { BroadcastError, createBroadcaster } from '../src/index.js';
import { publishCall, rawRequest, socketOf, startHub, TestClient, upgradeRequest } from './helpers.js';

const hello = (c: TestClient) => c.frame((f) => f.type === 'hello' || f.type === 'initial_status', 'first frame');

describe('liveness', () => {
  it('pings every ping_interval and terminates a client that does not pong within pong_timeout', async () => {
    await using hub = await startHub({ options: { ping_interval: 1_000, pong_timeout: 500 } });
    const clock = hub.clock!;
    await using alive = await TestClient.open(hub.ws('/ws/events'));
    await using mute = await TestClient.open(hub.ws('/ws/events'), { autoPong: false });
    await Promise.all([hello(alive), hello(mute)]);
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    let mutePings = 0;
    mute.ws.on('ping', () => mutePings++);

    clock.advance(999);
    expect(hub.b.inspect().some((c) => c.awaitingPong)).toBe(false);
    clock.advance(1);
    await waitFor(() => pings === 1 && mutePings === 1, { what: 'both clients to be pinged' });
    await waitFor(() => hub.b.inspect().filter((c) => c.awaitingPong).length === 1, {
      what: 'the pong of the live client',
    });

    clock.advance(500);
    expect((await mute.closed()).code).toBe(1006);
    await waitFor(() => hub.b.stats().connections.events === 1, { what: 'the mute client to be dropped' });
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);

    clock.advance(500);
    await waitFor(() => pings === 2, { what: 'the next round' });
    await waitFor(() => !hub.b.inspect()[0]?.awaitingPong, { what: 'the second pong' });
    clock.advance(1_000);
    await waitFor(() => pings === 3, { what: 'the third round' });
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
  });

  it('terminates an unresponsive client in real time with small intervals', async () => {
    await using hub = await startHub({ realClock: true, options: { ping_interval: 30, pong_timeout: 60 } });
    await using alive = await TestClient.open(hub.ws('/ws/events'));
    await using mute = await TestClient.open(hub.ws('/ws/events'), { autoPong: false });
    await Promise.all([hello(alive), hello(mute)]);
    let pings = 0;
    alive.ws.on('ping', () => pings++);
    expect((await mute.closed(5_000)).code).toBe(1006);
    await waitFor(() => pings >= 4, { what: 'four pings to the live client' });
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
  });
});

describe('close', () => {
  it('closes every WebSocket with 1001, ends SSE streams, leaves the bus, and is idempotent', async () => {
    const hub = await startHub();
    try {
      const listenersBefore = hub.bus.listenerCount();
      const events = await TestClient.open(hub.ws('/ws/events'));
      const servers = await TestClient.open(hub.ws('/ws/servers?server=beta'));
      const omni = await TestClient.open(hub.ws('/ws/mcp-status'));
      await Promise.all([events, servers, omni].map(hello));
      const res = await fetch(hub.http('/events'));
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      expect(hub.b.stats().connections).toEqual({ events: 1, servers: 1, mcp_status: 1, sse: 1 });

      const first = hub.b.close();
      expect(hub.b.close()).toBe(first);
      await first;
      for (const c of [events, servers, omni]) {
        expect(await c.closed()).toEqual({ code: 1001, reason: 'server shutting down' });
      }
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        // drain what was sent before the end
      }
      expect(hub.b.stats().connections).toEqual({ events: 0, servers: 0, mcp_status: 0, sse: 0 });
      expect(hub.bus.listenerCount()).toBe(listenersBefore - 1);
      expect(hub.clock?.pending()).toBe(0);

      const late = await rawRequest(hub.port, upgradeRequest('/ws/events', []));
      expect(late).toMatch(/^HTTP\/1\.1 503 /);
      expect(late).not.toContain('101 Switching');
      expect((await fetch(hub.http('/events'))).status).toBe(503);
      publishCall(hub.bus, 'alpha');
      expect(hub.b.stats().delivered).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('terminates a client that does not answer the close within closeTimeoutMs', async () => {
    await using hub = await startHub({ closeTimeoutMs: 2_000 });
    await using stuck = await TestClient.open(hub.ws('/ws/events'));
    await hello(stuck);
    socketOf(stuck.ws).pause();
    const closing = hub.b.close();
    await waitFor(() => (hub.clock?.pending() ?? 0) > 0, { what: 'the close deadline' });
    hub.clock?.advance(2_000);
    await closing;
    expect(hub.b.stats().connections.events).toBe(0);
    socketOf(stuck.ws).resume();
    expect((await stuck.closed()).code).toBe(1001);
  });

  it('supports await using', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const view = createStateView({ bus });
    {
      await using b = createBroadcaster({ bus, view });
      expect(bus.listenerCount()).toBe(2);
      expect(b.stats().delivered).toBe(0);
    }
    expect(bus.listenerCount()).toBe(1);
  });
});

describe('options', () => {
  it('refuses out-of-range options with INVALID_OPTIONS', () => {
    const bus = createEventBus();
    const view = createStateView({ bus });
    const clock = createFakeClock();
    expect(() => createBroadcaster({ bus, view, clock, options: { send_buffer: 0 } })).toThrow(BroadcastError);
    try {
      createBroadcaster({ bus, view, clock, options: { ping_interval: -1 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BroadcastError);
      expect((error as BroadcastError).code).toBe('INVALID_OPTIONS');
    }
  });
});
