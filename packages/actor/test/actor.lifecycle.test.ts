import { ServerSummarySchema, UpstreamError } from '@mcpproxy/contracts';
import { createScriptedConnector, flush, manual, type ScriptedConnector } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { createServerActor } from '../src/index.js';
import { type FakeActorOptions, fakeActor, fakeWorld, server, settings } from './helpers/setup.js';

function setup(
  connector: ScriptedConnector = createScriptedConnector(),
  overrides: Omit<FakeActorOptions, 'connector' | 'server'> = {},
  serverInput: Parameters<typeof server>[0] = {},
) {
  return fakeActor({ connector, server: serverInput, random: () => 0.5, ...overrides });
}

describe('ServerActor lifecycle', () => {
  it('starts idle, then goes connecting → ready and publishes connection_established with the summary', async () => {
    const { actor, events, connector } = setup();
    expect(actor.getState().state).toBe('idle');
    await actor.start();
    expect(actor.getState().state).toBe('ready');
    expect(events.states()).toEqual(['connecting', 'ready']);
    const established = events.of('connection_established')[0];
    expect(established?.server).toBe('alpha');
    expect(established?.data).toMatchObject({ protocol: 'stdio', tool_count: 2 });
    expect(established?.data.summary).toBe(actor.getState());
    expect(actor.getState()).toMatchObject({ tool_count: 2, retry_count: 0, last_error: null });
    expect(actor.getState().connected_at).toBe('2026-01-01T00:00:00.000Z');
    expect(connector.connects).toHaveLength(1);
    expect(actor.connection()).toBe(connector.last());
    await actor.close();
  });

  it('returns the same frozen summary from getState() until something changes, and it validates', async () => {
    const { actor } = setup();
    const before = actor.getState();
    expect(actor.getState()).toBe(before);
    expect(Object.isFrozen(before)).toBe(true);
    expect(ServerSummarySchema.parse(before)).toEqual(before);
    await actor.start();
    expect(actor.getState()).not.toBe(before);
    expect(ServerSummarySchema.safeParse(actor.getState()).success).toBe(true);
    await actor.close();
  });

  it('puts the summary of the new state into every server_state_changed event', async () => {
    const { actor, events } = setup();
    await actor.start();
    await actor.stop();
    for (const e of events.of('server_state_changed')) {
      expect(e.server).toBe('alpha');
      expect(e.data.summary.state).toBe(e.data.to);
    }
  });

  it('stops: closes the connection, clears every timer and lands in stopped', async () => {
    const { actor, events, connector, clock } = setup(createScriptedConnector(), {
      config: {
        server: server(),
        settings: settings({ health_check_interval: 1_000, tool_discovery_interval: 5_000 }),
      },
    });
    await actor.start();
    expect(clock.pending()).toBeGreaterThan(0);
    await actor.stop();
    expect(actor.getState().state).toBe('stopped');
    expect(connector.last().closeCalls).toBe(1);
    expect(connector.last().listenerCount()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(events.states()).toEqual(['connecting', 'ready', 'stopped']);
    expect(actor.connection()).toBeUndefined();
  });

  it('starts again after a stop', async () => {
    const { actor, connector } = setup();
    await actor.start();
    await actor.stop();
    await actor.start();
    expect(actor.getState().state).toBe('ready');
    expect(connector.connects).toHaveLength(2);
    await actor.close();
  });

  it('restarts: closes the old connection and opens a new one', async () => {
    const { actor, events, connector } = setup();
    await actor.start();
    const first = connector.last();
    await actor.restart();
    expect(first.closeCalls).toBe(1);
    expect(connector.connections).toHaveLength(2);
    expect(actor.getState().state).toBe('ready');
    expect(events.states()).toEqual(['connecting', 'ready', 'connecting', 'ready']);
    expect(events.of('server_state_changed')[2]?.data.reason).toBe('restart');
    await actor.close();
  });

  it('disables and enables: disabled closes everything, enable connects again', async () => {
    const { actor, events, connector, clock } = setup();
    await actor.start();
    await actor.disable();
    expect(actor.getState()).toMatchObject({ state: 'disabled', enabled: false });
    expect(connector.last().closed).toBe(true);
    expect(clock.pending()).toBe(0);
    await actor.start();
    expect(actor.getState().state).toBe('disabled');
    expect(connector.connects).toHaveLength(1);
    await actor.enable();
    expect(actor.getState()).toMatchObject({ state: 'ready', enabled: true });
    expect(events.states()).toEqual(['connecting', 'ready', 'disabled', 'connecting', 'ready']);
    await actor.close();
  });

  it.each([
    ['idle', 'disabled'],
    ['connecting', 'disabled'],
    ['ready', 'disabled'],
    ['error', 'disabled'],
    ['idle', 'stopped'],
    ['connecting', 'stopped'],
    ['ready', 'stopped'],
    ['error', 'stopped'],
  ] as const)('goes from %s to %s, leaving no timer behind', async (from, to) => {
    const connector = createScriptedConnector({
      steps: [from === 'connecting' ? { kind: 'hang' } : from === 'error' ? { kind: 'fail' } : { kind: 'ok' }],
    });
    const { actor, clock, events } = setup(connector, {
      config: {
        server: server(),
        settings: settings({ health_check_interval: 1_000, tool_discovery_interval: 1_000 }),
      },
    });
    if (from !== 'idle') {
      void actor.start();
      await flush();
    }
    expect(actor.getState().state).toBe(from);
    if (to === 'disabled') await actor.disable();
    else await actor.stop();
    expect(actor.getState()).toMatchObject({ state: to, next_retry_at: null, connected_at: null });
    expect(events.of('server_state_changed').at(-1)?.data).toMatchObject({ from, to });
    expect(clock.pending()).toBe(0);
    await actor.close();
  });

  it('starts in disabled when the config says enabled: false, and start() leaves it there', async () => {
    const { actor, connector } = setup(createScriptedConnector(), {}, { enabled: false });
    expect(actor.getState()).toMatchObject({ state: 'disabled', enabled: false });
    await actor.start();
    await actor.restart();
    expect(actor.getState().state).toBe('disabled');
    expect(connector.connects).toHaveLength(0);
    await actor.close();
  });

  it('never starts a quarantined server: no command, restart, enable or update contacts it', async () => {
    const { actor, connector, events } = setup(createScriptedConnector(), {}, { quarantined: true });
    expect(actor.getState()).toMatchObject({ state: 'quarantined', quarantined: true });
    await actor.start();
    await actor.restart();
    await actor.enable();
    await actor.update({ server: server({ quarantined: true, command: 'other' }), settings: settings() });
    await actor.stop();
    await actor.start();
    expect(connector.connects).toHaveLength(0);
    expect(actor.getState().state).toBe('quarantined');
    expect(events.of('connection_established')).toHaveLength(0);
    await actor.close();
  });

  it('quarantines a running server through update and connects after unquarantine', async () => {
    const { actor, connector, events } = setup();
    await actor.start();
    await actor.update({ server: server({ quarantined: true }), settings: settings() });
    expect(actor.getState()).toMatchObject({ state: 'quarantined', quarantined: true });
    expect(connector.last().closed).toBe(true);
    await actor.update({ server: server(), settings: settings() });
    await events.waitFor('server_state_changed', (e) => e.data.to === 'ready' && e.data.summary.quarantined === false);
    expect(
      events.of('server_state_changed').find((e) => e.data.to === 'connecting' && e.data.from === 'quarantined'),
    ).toBeTruthy();
    expect(connector.connects).toHaveLength(2);
    await actor.close();
  });

  it('reconnects on update only when a connection field changed', async () => {
    const { actor, connector } = setup();
    await actor.start();
    await actor.update({ server: server({ groups: ['dev'], disabled_tools: ['sum'] }), settings: settings() });
    expect(connector.connects).toHaveLength(1);
    expect(actor.getState().groups).toEqual(['dev']);
    expect(actor.callableTools().map((t) => t.name)).toEqual(['echo']);
    for (const change of [{ args: ['--x'] }, { env: { A: '1' } }, { init_timeout: 2_000 }, { working_dir: '/tmp' }]) {
      await actor.update({ server: server(change), settings: settings() });
      await flush();
    }
    expect(connector.connects).toHaveLength(5);
    expect(connector.connects[2]?.server.env).toEqual({ A: '1' });
    expect(actor.getState().state).toBe('ready');
    await actor.close();
  });

  it('turns a failed connect into an error state, never an exception at the caller', async () => {
    const connector = createScriptedConnector({
      steps: [{ kind: 'fail', error: new UpstreamError('COMMAND_NOT_FOUND', 'spawn nope ENOENT') }],
    });
    const { actor, events } = setup(connector);
    await expect(actor.start()).resolves.toBeUndefined();
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'spawn nope ENOENT', retry_count: 1 });
    const failed = events.of('server_state_changed').at(-1);
    expect(failed?.data).toMatchObject({ from: 'connecting', to: 'error', error: 'spawn nope ENOENT', retry_count: 1 });
    expect(failed?.data.next_retry_at).toBe('2026-01-01T00:00:00.100Z');
    await actor.close();
  });

  it('fails a connect that hangs past init_timeout and aborts its signal', async () => {
    const handle = manual();
    const connector = createScriptedConnector({ steps: [{ kind: 'manual', handle }] });
    const { actor, clock, events } = setup(connector);
    const started = actor.start();
    await flush();
    expect(actor.getState().state).toBe('connecting');
    expect(connector.connects[0]?.options?.timeoutMs).toBe(1_000);
    await clock.advanceAsync(999);
    expect(actor.getState().state).toBe('connecting');
    await clock.advanceAsync(1);
    await started;
    expect(actor.getState()).toMatchObject({ state: 'error', last_error: 'initialize timed out after 1000 ms' });
    expect(handle.signal?.aborted).toBe(true);
    expect(events.of('server_state_changed').at(-1)?.data.reason).toBe('init_timeout');
    // The connector finishes late: that stray connection is closed, the actor stays in error.
    handle.resolve();
    await flush();
    expect(connector.last().closed).toBe(true);
    expect(actor.getState().state).toBe('error');
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('uses the server init_timeout over the global one', async () => {
    const connector = createScriptedConnector({ steps: [{ kind: 'hang', honourAbort: false }] });
    const { actor, clock } = setup(connector, {}, { init_timeout: 300 });
    void actor.start();
    await clock.advanceAsync(300);
    expect(actor.getState().last_error).toBe('initialize timed out after 300 ms');
    await actor.close();
  });

  it.each(['stop', 'disable', 'update'] as const)('aborts an in-flight connect at once on %s', async (command) => {
    const connector = createScriptedConnector({ steps: [{ kind: 'hang', honourAbort: false }] });
    const { actor, clock } = setup(connector);
    const started = actor.start();
    await flush();
    expect(actor.getState().state).toBe('connecting');
    const signal = connector.connects[0]?.options?.signal;
    if (command === 'stop') await actor.stop();
    else if (command === 'disable') await actor.disable();
    else await actor.update({ server: server({ command: 'fixed-server' }), settings: settings() });
    // No time passed: the command did not wait for init_timeout.
    expect(clock.now()).toBe(Date.UTC(2026, 0, 1));
    expect(signal?.aborted).toBe(true);
    await started;
    if (command === 'update') {
      // The new config connects at once with the next step of the script.
      await flush();
      expect(connector.connects[1]?.server.command).toBe('fixed-server');
    }
    expect(actor.getState().state).toBe(command === 'stop' ? 'stopped' : command === 'disable' ? 'disabled' : 'ready');
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('processes commands one at a time, in order, each one before a connect result queued after it', async () => {
    const { actor, events, connector } = setup();
    const done = Promise.all([actor.start(), actor.stop(), actor.start(), actor.disable()]);
    await done;
    // Both connects were aborted by the command right behind them; their late connections were closed.
    expect(events.states()).toEqual(['connecting', 'stopped', 'connecting', 'disabled']);
    await flush();
    expect(connector.connections.every((c) => c.closed)).toBe(true);
    await actor.close();
  });

  it('never runs a command on the caller stack: a listener that stops the actor waits for the current step', async () => {
    const { actor, events, bus, connector } = setup();
    bus.subscribe('server_state_changed', (e) => {
      if (e.data.to === 'ready') void actor.stop();
    });
    void actor.start();
    expect(connector.connects).toHaveLength(0);
    await events.waitFor('server_state_changed', (e) => e.data.to === 'stopped');
    // connection_established was published with the ready summary before the stop ran.
    const types = events.events.map((e) => (e.type === 'server_state_changed' ? e.data.to : e.type));
    expect(types).toEqual(['connecting', 'ready', 'connection_established', 'stopped']);
    await actor.close();
  });

  it('accepts the same commands through send()', async () => {
    const { actor } = setup();
    await actor.send({ type: 'start' });
    expect(actor.getState().state).toBe('ready');
    await actor.send({ type: 'update', config: { server: server({ groups: ['g'] }), settings: settings() } });
    expect(actor.getState().groups).toEqual(['g']);
    await actor.send({ type: 'stop' });
    expect(actor.getState().state).toBe('stopped');
    await actor.close();
  });

  it('rejects commands with BUSY once the mailbox is full, without losing the queued ones', async () => {
    const { actor } = setup(createScriptedConnector(), { mailboxLimit: 2 });
    const first = actor.start();
    const second = actor.stop(); // two commands wait: the mailbox is full
    await expect(actor.stop()).rejects.toMatchObject({ name: 'ActorError', code: 'BUSY' });
    await Promise.all([first, second]);
    expect(actor.getState().state).toBe('stopped');
    await actor.close();
  });

  it('closes idempotently, settles waiting starts and ignores later commands', async () => {
    const connector = createScriptedConnector({ steps: [{ kind: 'hang' }] });
    const { actor, clock, events } = setup(connector);
    const started = actor.start();
    await flush();
    const a = actor.close();
    const b = actor.close();
    expect(a).toBe(b);
    await a;
    await started;
    await actor.start();
    await actor.enable();
    expect(actor.getState().state).toBe('stopped');
    expect(connector.connects).toHaveLength(1);
    expect(events.of('server_state_changed').at(-1)?.data.reason).toBe('closed');
    expect(clock.pending()).toBe(0);
  });

  it('supports await using', async () => {
    const { clock, bus } = fakeWorld();
    const connector = createScriptedConnector();
    {
      await using actor = createServerActor('alpha', {
        config: { server: server(), settings: settings({ health_check_interval: 500 }) },
        connector,
        bus,
        clock,
      });
      await actor.start();
      expect(clock.pending()).toBe(1);
    }
    expect(connector.last().closed).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it('keeps the stderr tail of the last connection once it is gone', async () => {
    const { actor, connector } = setup(createScriptedConnector({ stderr: ['fake stderr line'] }));
    await actor.start();
    expect(actor.stderrTail()).toEqual(['fake stderr line']);
    connector.last().kill();
    await flush();
    expect(actor.connection()).toBeUndefined();
    expect(actor.stderrTail()).toEqual(['fake stderr line']);
    await actor.close();
  });
});
