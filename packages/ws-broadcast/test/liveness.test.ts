import { createFakeClock, silentLogger } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createLiveness } from '../src/liveness.js';
import { ClientRegistry } from '../src/registry.js';
import { fakeRawClient } from './parts.js';

function setup() {
  const clock = createFakeClock();
  const registry = new ClientRegistry();
  const liveness = createLiveness({
    registry,
    clock,
    logger: silentLogger,
    pingInterval: 100,
    pongTimeout: 50,
    sseKeepaliveMs: 0,
  });
  return { clock, registry, liveness };
}

describe('liveness', () => {
  it('pings every interval and terminates a client that has not answered within pong_timeout', () => {
    const { clock, registry, liveness } = setup();
    const silent = fakeRawClient(registry);
    const answering = fakeRawClient(registry);
    liveness.armPing();
    clock.advance(100);
    expect([silent.ws.pings, answering.ws.pings]).toEqual([1, 1]);
    answering.c.awaitingPongSince = undefined; // what the 'pong' listener does
    clock.advance(50);
    expect([silent.ws.terminated, answering.ws.terminated]).toEqual([true, false]);
    liveness.close();
  });

  it('sends OMNI2 clients the dialect ping as well as the protocol ping', () => {
    const { clock, registry, liveness } = setup();
    const omni = fakeRawClient(registry, { endpoint: 'mcp_status' });
    liveness.armPing();
    clock.advance(100);
    expect(omni.ws.pings).toBe(1);
    expect(omni.messages()).toEqual([expect.objectContaining({ type: 'ping' })]);
    liveness.close();
  });

  it('stops pinging once no client is left, and leaves no timer after close', () => {
    const { clock, registry, liveness } = setup();
    const c = fakeRawClient(registry);
    liveness.armPing();
    registry.remove(c.c);
    clock.advance(100);
    expect(c.ws.pings).toBe(0);
    expect(clock.pending()).toBe(0);
    fakeRawClient(registry);
    liveness.armPing();
    liveness.close();
    expect(clock.pending()).toBe(0);
    liveness.armPing();
    expect(clock.pending()).toBe(0);
  });
});
