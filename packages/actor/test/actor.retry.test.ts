import { UpstreamError, type UpstreamTool } from '@mcpproxy/contracts';
import {
  createScriptedConnector,
  type EventRecorder,
  echoTool,
  flush,
  type ScriptedConnector,
} from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { type ActorSettings, backoffDelay, createServerActor } from '../src/index.js';
import { fakeActor, fakeWorld, server, settings } from './helpers/setup.js';

function setup(connector: ScriptedConnector, overrides: Partial<ActorSettings> = {}, random: () => number = () => 0.5) {
  return fakeActor({ connector, settings: overrides, random });
}

const failing = () =>
  createScriptedConnector({ fallback: { kind: 'fail', error: new UpstreamError('CONNECT_FAILED', 'refused') } });

/** Milliseconds from the error event to its scheduled retry. */
function delays(events: EventRecorder): number[] {
  return events
    .of('server_state_changed')
    .filter((e) => e.data.to === 'error')
    .map((e) => Date.parse(e.data.next_retry_at ?? '') - Date.parse(e.time));
}

describe('backoffDelay', () => {
  const retry = { initial_delay: 100, max_delay: 1_600, max_retries: 10 };

  it('stays between initial_delay and min(max_delay, initial_delay · 2^attempt)', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(1_600, 100 * 2 ** attempt);
      expect(backoffDelay(attempt, retry, () => 0)).toBe(100);
      expect(backoffDelay(attempt, retry, () => 0.999_999)).toBe(cap);
      for (const r of [0.1, 0.37, 0.5, 0.73, 0.9]) {
        const d = backoffDelay(attempt, retry, () => r);
        expect(d).toBeGreaterThanOrEqual(100);
        expect(d).toBeLessThanOrEqual(cap);
      }
    }
  });

  it('draws the full jitter range: the delay is initial + random · (cap − initial)', () => {
    expect(backoffDelay(3, retry, () => 0.5)).toBe(100 + 0.5 * (800 - 100));
    expect(backoffDelay(50_000, retry, () => 0.25)).toBe(100 + 0.25 * 1_500);
  });
});

describe('ServerActor retries', () => {
  it('retries a failing connect with delays whose upper bound doubles up to max_delay', async () => {
    const { actor, clock, events, connector } = setup(failing(), {}, () => 0.999_999);
    await actor.start();
    for (let i = 0; i < 7; i++) {
      const retryAt = Date.parse(actor.getState().next_retry_at ?? '');
      await clock.advanceAsync(retryAt - clock.now());
      await flush();
    }
    expect(connector.connects).toHaveLength(8);
    expect(delays(events)).toEqual([100, 200, 400, 800, 1_600, 1_600, 1_600, 1_600]);
    expect(actor.getState().retry_count).toBe(8);
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('keeps every jittered delay within its bounds', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const { actor, clock, events } = setup(
      failing(),
      { retry: { initial_delay: 100, max_delay: 1_600, max_retries: 20 } },
      random,
    );
    await actor.start();
    for (let i = 0; i < 15; i++) {
      await clock.advanceAsync(Date.parse(actor.getState().next_retry_at ?? '') - clock.now());
      await flush();
    }
    const seen = delays(events);
    expect(seen).toHaveLength(16);
    seen.forEach((d, attempt) => {
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(Math.min(1_600, 100 * 2 ** attempt));
    });
    await actor.close();
  });

  it('does not retry before next_retry_at', async () => {
    const { actor, clock, connector } = setup(failing());
    await actor.start();
    await clock.advanceAsync(99);
    expect(connector.connects).toHaveLength(1);
    await clock.advanceAsync(1);
    expect(connector.connects).toHaveLength(2);
    await actor.close();
  });

  it('auto-disables after max_retries consecutive failures and says why', async () => {
    const { actor, clock, events, connector } = setup(failing(), {
      retry: { initial_delay: 100, max_delay: 1_000, max_retries: 3 },
    });
    await actor.start();
    await clock.advanceAsync(10_000);
    await flush();
    expect(connector.connects).toHaveLength(3);
    expect(actor.getState()).toMatchObject({
      state: 'disabled',
      enabled: false,
      retry_count: 3,
      next_retry_at: null,
      last_error: 'refused',
    });
    expect(actor.getState().auto_disabled).toEqual({ reason: 'refused', failures: 3, at: expect.any(String) });
    const auto = events.of('server_auto_disabled');
    expect(auto).toHaveLength(1);
    expect(auto[0]?.data).toMatchObject({ reason: 'refused', failures: 3 });
    expect(auto[0]?.data.summary.auto_disabled).not.toBeNull();
    expect(events.states()).toEqual(['connecting', 'error', 'connecting', 'error', 'connecting', 'disabled']);
    expect(clock.pending()).toBe(0);
    // It stays down: no timer, start() and restart() leave it alone.
    await actor.start();
    await actor.restart();
    expect(connector.connects).toHaveLength(3);
    await actor.close();
  });

  it('clears the auto-disable on enable and starts counting afresh', async () => {
    const connector = failing();
    const { actor, clock } = setup(connector, { retry: { initial_delay: 100, max_delay: 100, max_retries: 2 } });
    await actor.start();
    await clock.advanceAsync(1_000);
    expect(actor.getState().state).toBe('disabled');
    connector.fallback = { kind: 'ok' };
    await actor.enable();
    expect(actor.getState()).toMatchObject({ state: 'ready', enabled: true, auto_disabled: null, retry_count: 0 });
    await actor.close();
  });

  it('resets the failure count after a successful connect', async () => {
    const connector = createScriptedConnector({ steps: [{ kind: 'fail' }, { kind: 'fail' }, { kind: 'ok' }] });
    const { actor, clock } = setup(connector, { retry: { initial_delay: 100, max_delay: 100, max_retries: 3 } });
    await actor.start();
    await clock.advanceAsync(200);
    expect(actor.getState()).toMatchObject({ state: 'ready', retry_count: 0, last_error: null });
    connector.push({ kind: 'fail' }, { kind: 'fail' }, { kind: 'ok' });
    connector.last().kill();
    await clock.advanceAsync(1_000);
    // Two more failures after the loss did not reach max_retries (3): the count restarted at the success.
    expect(actor.getState().state).toBe('ready');
    await actor.close();
  });

  it('recovers from a lost connection: connection_lost → error → connecting → ready', async () => {
    const { actor, clock, events, connector } = setup(createScriptedConnector());
    await actor.start();
    connector.last().kill(new UpstreamError('CLOSED', 'process exited with signal SIGKILL'));
    await flush();
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'process exited with signal SIGKILL' });
    expect(events.of('connection_lost')[0]?.data.error).toBe('process exited with signal SIGKILL');
    const lostAt = events.events.findIndex((e) => e.type === 'connection_lost');
    const errorAt = events.events.findIndex((e) => e.type === 'server_state_changed' && e.data.to === 'error');
    expect(lostAt).toBeLessThan(errorAt);
    expect(actor.getState().next_retry_at).toBe(new Date(clock.now() + 100).toISOString());
    await clock.advanceAsync(100);
    expect(actor.getState().state).toBe('ready');
    expect(events.states()).toEqual(['connecting', 'ready', 'error', 'connecting', 'ready']);
    expect(connector.connections).toHaveLength(2);
    await actor.close();
  });

  it('pings every health_check_interval while ready and keeps the connection while pings answer', async () => {
    const { actor, clock, connector } = setup(createScriptedConnector(), { health_check_interval: 1_000 });
    await actor.start();
    await clock.advanceAsync(3_500);
    expect(connector.last().pings).toBe(3);
    expect(actor.getState().state).toBe('ready');
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('treats a failed ping as a lost connection', async () => {
    const { actor, clock, events, connector } = setup(createScriptedConnector(), { health_check_interval: 1_000 });
    await actor.start();
    const conn = connector.last();
    conn.onPing = async () => {
      throw new UpstreamError('CLOSED', 'broken pipe');
    };
    await clock.advanceAsync(1_000);
    expect(conn.closeCalls).toBe(1);
    expect(events.of('connection_lost')[0]?.data.error).toBe('health check failed: broken pipe');
    expect(events.of('server_state_changed').at(-1)?.data).toMatchObject({
      to: 'error',
      reason: 'health_check_failed',
    });
    await clock.advanceAsync(100);
    expect(actor.getState().state).toBe('ready');
    await actor.close();
  });

  it('treats a ping that hangs past its deadline as a lost connection', async () => {
    const { actor, clock, events, connector } = setup(createScriptedConnector(), { health_check_interval: 1_000 });
    await actor.start();
    const conn = connector.last();
    conn.onPing = () => new Promise(() => {});
    await clock.advanceAsync(1_000);
    expect(actor.getState().state).toBe('ready');
    await clock.advanceAsync(1_000);
    expect(events.of('connection_lost')[0]?.data.error).toBe('health check failed: ping timed out after 1000 ms');
    expect(conn.closeCalls).toBe(1);
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('uses the server health_check_interval over the global one', async () => {
    const { clock, bus } = fakeWorld();
    const connector = createScriptedConnector();
    const actor = createServerActor('alpha', {
      config: { server: server({ health_check_interval: 200 }), settings: settings({ health_check_interval: 1_000 }) },
      connector,
      bus,
      clock,
    });
    await actor.start();
    await clock.advanceAsync(1_000);
    expect(connector.last().pings).toBe(5);
    await actor.close();
  });
});

describe('ServerActor tool discovery', () => {
  const extra: UpstreamTool = { name: 'extra', description: 'new', inputSchema: { type: 'object' } };

  it('re-lists on tools/list_changed and publishes tools_updated with what changed', async () => {
    const { actor, events, connector } = setup(createScriptedConnector());
    await actor.start();
    const conn = connector.last();
    conn.onList = async () => [{ ...echoTool, description: 'Echoes, now louder' }, extra];
    conn.emitToolsChanged();
    const updated = await events.waitFor('tools_updated');
    expect(updated.data).toMatchObject({ tool_count: 2, added: ['extra'], removed: ['sum'], changed: ['echo'] });
    expect(updated.data.summary).toMatchObject({ tool_count: 2, pending_tools: 1, changed_tools: 1 });
    await actor.close();
  });

  it('publishes nothing when a re-listing finds the same tools', async () => {
    const { actor, events, connector } = setup(createScriptedConnector());
    await actor.start();
    connector.last().emitToolsChanged();
    await flush();
    expect(connector.last().lists).toBe(1);
    expect(events.of('tools_updated')).toHaveLength(0);
    await actor.close();
  });

  it('re-lists every tool_discovery_interval while ready', async () => {
    const { actor, clock, connector } = setup(createScriptedConnector(), { tool_discovery_interval: 10_000 });
    await actor.start();
    await clock.advanceAsync(35_000);
    expect(connector.last().lists).toBe(3);
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('runs one listing at a time and one more for notifications that came during it', async () => {
    const { actor, connector } = setup(createScriptedConnector());
    await actor.start();
    const conn = connector.last();
    let release!: () => void;
    conn.onList = () =>
      new Promise((resolve) => {
        release = () => resolve(conn.tools);
      });
    conn.emitToolsChanged();
    await flush();
    conn.emitToolsChanged();
    conn.emitToolsChanged();
    await flush();
    expect(conn.lists).toBe(1);
    release();
    await flush();
    expect(conn.lists).toBe(2);
    release();
    await flush();
    expect(conn.lists).toBe(2);
    await actor.close();
  });

  it('keeps the connection when a re-listing fails', async () => {
    const { actor, connector } = setup(createScriptedConnector());
    await actor.start();
    connector.last().onList = async () => {
      throw new Error('boom');
    };
    connector.last().emitToolsChanged();
    await flush();
    expect(actor.getState().state).toBe('ready');
    expect(actor.tools()).toHaveLength(2);
    await actor.close();
  });
});
