import { UpstreamError } from '@mcpproxy/contracts';
import { createScriptedConnector, flush } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { fakeActor } from './helpers/setup.js';

describe('ServerActor.health', () => {
  it('starts with no ping and no failure, frozen, the same object until something changes', async () => {
    const { actor } = fakeActor();
    const before = actor.health();
    expect(before).toEqual({ last_ping_at: null, last_ping_ms: null, last_error_code: null });
    expect(Object.isFrozen(before)).toBe(true);
    expect(actor.health()).toBe(before);
    await actor.start();
    expect(actor.health()).toBe(before);
    await actor.close();
  });

  it('records when a health ping answered and its round trip, on the injected clock', async () => {
    const { actor, clock, connector } = fakeActor({ settings: { health_check_interval: 1_000 } });
    await actor.start();
    const conn = connector.last();
    conn.onPing = () => new Promise<void>((resolve) => clock.setTimeout(resolve, 40));
    const startedAt = clock.now();
    await clock.advanceAsync(1_000);
    expect(conn.pings).toBe(1);
    expect(actor.health().last_ping_at).toBeNull();
    await clock.advanceAsync(40);
    await flush();
    expect(actor.health()).toEqual({
      last_ping_at: new Date(startedAt + 1_040).toISOString(),
      last_ping_ms: 40,
      last_error_code: null,
    });

    // The next ping is due a full interval after the last one answered, and replaces the record.
    conn.onPing = () => new Promise<void>((resolve) => clock.setTimeout(resolve, 7));
    await clock.advanceAsync(1_007);
    await flush();
    expect(conn.pings).toBe(2);
    expect(actor.health()).toMatchObject({ last_ping_at: new Date(startedAt + 2_047).toISOString(), last_ping_ms: 7 });
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('sets last_error_code from the UpstreamError of a failed connect, and ready clears it', async () => {
    const connector = createScriptedConnector();
    connector.script('alpha', {
      connect: [new UpstreamError('COMMAND_NOT_FOUND', 'command "fake-server" not found on PATH'), 'ok'],
    });
    const { actor, clock } = fakeActor({ connector, random: () => 0 });
    await actor.start();
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'command "fake-server" not found on PATH' });
    expect(actor.health().last_error_code).toBe('COMMAND_NOT_FOUND');
    await clock.advanceAsync(100);
    await flush();
    expect(actor.getState().state).toBe('ready');
    expect(actor.health().last_error_code).toBeNull();
    await actor.close();
  });

  it('keeps the code of the failure that auto-disabled the server', async () => {
    const connector = createScriptedConnector({
      fallback: new UpstreamError('AUTH_REQUIRED', 'https://h/mcp requires authentication (HTTP 401)'),
    });
    const { actor } = fakeActor({
      connector,
      settings: { retry: { initial_delay: 100, max_delay: 100, max_retries: 1 } },
    });
    await actor.start();
    expect(actor.getState().state).toBe('disabled');
    expect(actor.health().last_error_code).toBe('AUTH_REQUIRED');
    await actor.close();
  });

  it("names the actor's own init deadline INIT_TIMEOUT and a codeless connector failure UNKNOWN", async () => {
    const connector = createScriptedConnector();
    connector.script('alpha', { connect: ['hang', new TypeError('boom')] });
    const { actor, clock } = fakeActor({ connector, random: () => 0 });
    const started = actor.start();
    await clock.advanceAsync(1_000);
    await started;
    expect(actor.getState().last_error).toBe('initialize timed out after 1000 ms');
    expect(actor.health().last_error_code).toBe('INIT_TIMEOUT');
    await clock.advanceAsync(100);
    await flush();
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'boom' });
    expect(actor.health().last_error_code).toBe('UNKNOWN');
    await actor.close();
  });

  it('sets the code of a failed ping, PING_TIMEOUT for an unanswered one, and CLOSED for a connection that ended', async () => {
    const { actor, clock, connector } = fakeActor({ settings: { health_check_interval: 1_000 }, random: () => 0 });
    await actor.start();
    connector.last().onPing = async () => {
      throw new UpstreamError('CALL_FAILED', 'ping failed: broken pipe');
    };
    await clock.advanceAsync(1_000);
    await flush();
    expect(actor.getState().state).toBe('error');
    expect(actor.health().last_error_code).toBe('CALL_FAILED');

    await clock.advanceAsync(100);
    await flush();
    expect(actor.getState().state).toBe('ready');
    expect(actor.health().last_error_code).toBeNull();
    connector.last().onPing = () => new Promise(() => {});
    await clock.advanceAsync(2_000);
    await flush();
    expect(actor.getState().last_error).toBe('health check failed: ping timed out after 1000 ms');
    expect(actor.health().last_error_code).toBe('PING_TIMEOUT');

    await clock.advanceAsync(100);
    await flush();
    expect(actor.getState().state).toBe('ready');
    connector.last().kill(new UpstreamError('CLOSED', 'upstream exited'));
    await flush();
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'upstream exited' });
    expect(actor.health().last_error_code).toBe('CLOSED');
    await actor.close();
  });

  it('keeps the last ping record across a lost connection (it says when the upstream last answered)', async () => {
    const { actor, clock, connector } = fakeActor({ settings: { health_check_interval: 1_000 } });
    await actor.start();
    await clock.advanceAsync(1_000);
    await flush();
    const pinged = actor.health();
    expect(pinged.last_ping_ms).toBe(0);
    connector.last().kill();
    await flush();
    expect(actor.getState().state).toBe('error');
    expect(actor.health()).toMatchObject({
      last_ping_at: pinged.last_ping_at,
      last_ping_ms: 0,
      last_error_code: 'CLOSED',
    });
    await actor.close();
  });
});
