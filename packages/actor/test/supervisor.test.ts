import { type Config, type ConfigInput, type Logger, parseConfig, type ServerConfigInput } from '@mcpproxy/contracts';
import {
  createScriptedConnector,
  type EventRecorder,
  flush,
  recordEvents,
  type ScriptedConnector,
} from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { type ConfigSource, createSupervisor } from '../src/index.js';
import { fakeWorld } from './helpers/setup.js';

interface TestSource extends ConfigSource {
  set(next: ConfigInput | Config): void;
  listeners(): number;
}

function parse(input: ConfigInput): Config {
  const parsed = parseConfig(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** The smallest config source: a value and its listeners. */
function createSource(initial: ConfigInput): TestSource {
  let current = parse(initial);
  const listeners = new Set<(config: Config, previous: Config) => void>();
  return {
    snapshot: () => current,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(next) {
      const previous = current;
      current =
        'mcpServers' in next && Array.isArray(next.mcpServers) && 'events' in next ? (next as Config) : parse(next);
      for (const l of listeners) l(current, previous);
    },
    listeners: () => listeners.size,
  };
}

const base = (servers: ServerConfigInput[], extra: Partial<ConfigInput> = {}): ConfigInput => ({
  retry: { initial_delay: '100ms', max_delay: '1s', max_retries: 5 },
  health_check_interval: 0,
  tool_discovery_interval: 0,
  ...extra,
  mcpServers: servers,
});

const stdio = (name: string, more: Partial<ServerConfigInput> = {}): ServerConfigInput => ({
  name,
  command: `${name}-server`,
  ...more,
});

function memoryLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> | undefined }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function setup(servers: ServerConfigInput[], connector: ScriptedConnector = createScriptedConnector()) {
  const { clock, bus } = fakeWorld();
  const events = recordEvents(bus);
  const source = createSource(base(servers));
  const { logger, lines } = memoryLogger();
  const supervisor = createSupervisor({ config: source, bus, connector, clock, logger });
  return { clock, bus, events, source, supervisor, connector, lines };
}

const changes = (events: EventRecorder, server?: string) =>
  events
    .of('server_config_changed')
    .filter((e) => server === undefined || e.server === server)
    .map((e) => e.data.change);

describe('Supervisor', () => {
  it('starts an actor for every configured server and publishes added with its summary', async () => {
    const { supervisor, events, connector } = setup([stdio('a'), stdio('b')]);
    supervisor.start();
    expect(supervisor.actors().map((a) => a.name)).toEqual(['a', 'b']);
    expect(changes(events)).toEqual(['added', 'added']);
    expect(events.of('server_config_changed')[0]?.data.summary).toMatchObject({ name: 'a', state: 'idle' });
    await events.waitFor('connection_established', (e) => e.server === 'b');
    expect(supervisor.getActor('a')?.getState().state).toBe('ready');
    expect(connector.connects.map((c) => c.server.name).sort()).toEqual(['a', 'b']);
    await supervisor.close();
  });

  it('never starts a quarantined server and leaves a disabled one down', async () => {
    const { supervisor, connector } = setup([
      stdio('q', { quarantined: true }),
      { name: 'u', url: 'http://127.0.0.1:9/mcp', quarantined: true },
      stdio('off', { enabled: false }),
    ]);
    supervisor.start();
    await flush();
    expect(connector.connects).toHaveLength(0);
    expect(supervisor.getActor('q')?.getState().state).toBe('quarantined');
    expect(supervisor.getActor('u')?.getState().state).toBe('quarantined');
    expect(supervisor.getActor('off')?.getState().state).toBe('disabled');
    await supervisor.close();
    expect(connector.connects).toHaveLength(0);
  });

  it('does not wait for connects while reconciling', async () => {
    const connector = createScriptedConnector({ fallback: { kind: 'hang' } });
    const { supervisor } = setup([stdio('a'), stdio('b')], connector);
    supervisor.start();
    await flush();
    expect(supervisor.actors().map((a) => a.getState().state)).toEqual(['connecting', 'connecting']);
    await supervisor.close();
  });

  it('adds and removes servers as the config changes', async () => {
    const { supervisor, source, events, connector } = setup([stdio('a')]);
    supervisor.start();
    await events.waitFor('connection_established');
    source.set(base([stdio('a'), stdio('b')]));
    await events.waitFor('connection_established', (e) => e.server === 'b');
    source.set(base([stdio('b')]));
    const removed = await events.waitFor('server_config_changed', (e) => e.data.change === 'removed');
    expect(removed.server).toBe('a');
    expect(removed.data.summary.state).toBe('stopped');
    expect(supervisor.getActor('a')).toBeUndefined();
    expect(supervisor.actors().map((a) => a.name)).toEqual(['b']);
    expect(connector.connections[0]?.closed).toBe(true);
    // The removed actor's last words come before `removed`.
    const stoppedAt = events.events.findIndex(
      (e) => e.server === 'a' && e.type === 'server_state_changed' && e.data.to === 'stopped',
    );
    expect(stoppedAt).toBeGreaterThan(-1);
    expect(stoppedAt).toBeLessThan(events.events.indexOf(removed as never));
    await supervisor.close();
  });

  it('publishes enabled, disabled, quarantined and unquarantined and drives the actor there', async () => {
    const { supervisor, source, events } = setup([stdio('a')]);
    supervisor.start();
    await events.waitFor('connection_established');
    source.set(base([stdio('a', { enabled: false })]));
    await events.waitFor('server_config_changed', (e) => e.data.change === 'disabled');
    expect(supervisor.getActor('a')?.getState().state).toBe('disabled');
    source.set(base([stdio('a')]));
    await events.waitFor('server_config_changed', (e) => e.data.change === 'enabled');
    await events.waitFor('server_state_changed', (e) => e.data.to === 'ready' && e.data.reason === 'connected');
    source.set(base([stdio('a', { quarantined: true })]));
    const q = await events.waitFor('server_config_changed', (e) => e.data.change === 'quarantined');
    expect(q.data.summary).toMatchObject({ state: 'quarantined', quarantined: true });
    source.set(base([stdio('a')]));
    await events.waitFor('server_config_changed', (e) => e.data.change === 'unquarantined');
    expect(changes(events)).toEqual(['added', 'disabled', 'enabled', 'quarantined', 'unquarantined']);
    await supervisor.close();
  });

  it('restarts an actor only when a connection field changed', async () => {
    const { supervisor, source, events, connector } = setup([stdio('a')]);
    supervisor.start();
    await events.waitFor('connection_established');
    source.set(base([stdio('a', { disabled_tools: ['sum'] })]));
    await events.waitFor('server_config_changed', (e) => e.data.change === 'updated');
    expect(connector.connects).toHaveLength(1);
    expect(
      supervisor
        .getActor('a')
        ?.callableTools()
        .map((t) => t.name),
    ).toEqual(['echo']);
    const reconnected = events.next('connection_established');
    source.set(base([stdio('a', { disabled_tools: ['sum'], args: ['--verbose'] })]));
    await reconnected;
    expect(connector.connects).toHaveLength(2);
    expect(connector.connects[1]?.server.args).toEqual(['--verbose']);
    await supervisor.close();
  });

  it('publishes server_group_updated when groups change, without a reconnect', async () => {
    const { supervisor, source, events, connector } = setup([stdio('a', { groups: ['dev', 'ops'] })]);
    supervisor.start();
    await events.waitFor('connection_established');
    source.set(base([stdio('a', { groups: ['ops', 'prod'] })]));
    const updated = await events.waitFor('server_group_updated');
    expect(updated.server).toBe('a');
    expect(updated.data).toMatchObject({ groups: ['ops', 'prod'], added: ['prod'], removed: ['dev'] });
    expect(updated.data.summary.groups).toEqual(['ops', 'prod']);
    expect(connector.connects).toHaveLength(1);
    await supervisor.close();
  });

  it('touches nothing when a new snapshot holds the same servers', async () => {
    const { supervisor, source, events, connector } = setup([stdio('a'), stdio('b')]);
    supervisor.start();
    await events.waitFor('connection_established', (e) => e.server === 'b');
    await flush();
    const before = events.events.length;
    source.set(base([stdio('a'), stdio('b')], { tools_limit: 30 }));
    await flush();
    expect(events.events.length).toBe(before);
    expect(connector.connects).toHaveLength(2);
    await supervisor.close();
  });

  it('hands changed global settings to every actor without a reconnect', async () => {
    const { supervisor, source, events, connector } = setup([stdio('a')]);
    supervisor.start();
    await events.waitFor('connection_established');
    source.set(base([stdio('a')], { call_tool_timeout: '7s' }));
    await flush();
    expect(supervisor.getActor('a')?.config().settings.call_tool_timeout).toBe(7_000);
    expect(connector.connects).toHaveLength(1);
    expect(changes(events)).toEqual(['added']);
    await supervisor.close();
  });

  it('lets a removed server finish stopping before a re-added one of the same name starts', async () => {
    const connector = createScriptedConnector();
    const { supervisor, source, events } = setup([stdio('a')], connector);
    supervisor.start();
    await events.waitFor('connection_established');
    let release!: () => void;
    connector.last().onCloseCall = () =>
      new Promise((resolve) => {
        release = resolve;
      });
    source.set(base([]));
    source.set(base([stdio('a', { args: ['v2'] })]));
    await flush();
    expect(supervisor.getActor('a')).toBeUndefined();
    const reconnected = events.next('connection_established');
    release();
    await reconnected;
    expect(connector.connects).toHaveLength(2);
    expect(changes(events, 'a')).toEqual(['added', 'removed', 'added']);
    expect(supervisor.getActor('a')?.config().server.args).toEqual(['v2']);
    await supervisor.close();
  });

  it('closes every actor in parallel, idempotently, leaving no timers and no subscription', async () => {
    const connector = createScriptedConnector();
    const { supervisor, source, events, clock } = setup([stdio('a'), stdio('b'), stdio('c')], connector);
    supervisor.start();
    await events.waitFor('connection_established', (e) => e.server === 'c');
    const releases: (() => void)[] = [];
    for (const conn of connector.connections) {
      conn.onCloseCall = () => new Promise((resolve) => releases.push(resolve));
    }
    const closing = supervisor.close();
    expect(supervisor.close()).toBe(closing);
    await flush();
    // All three closes began before any finished.
    expect(releases).toHaveLength(3);
    for (const r of releases) r();
    await closing;
    expect(supervisor.actors().every((a) => a.getState().state === 'stopped')).toBe(true);
    expect(source.listeners()).toBe(0);
    expect(clock.pending()).toBe(0);
    source.set(base([stdio('d')]));
    expect(supervisor.getActor('d')).toBeUndefined();
  });

  it('gives up waiting past the close deadline and says so in the log', async () => {
    const { supervisor, events, connector, clock, lines } = setup([stdio('a'), stdio('stuck')]);
    supervisor.start();
    await events.waitFor('connection_established', (e) => e.server === 'stuck');
    const stuck = connector.connections.find(
      (c) => connector.connects[connector.connections.indexOf(c)]?.server.name === 'stuck',
    );
    if (!stuck) throw new Error('no connection for stuck');
    stuck.onCloseCall = () => new Promise(() => {});
    const closing = supervisor.close({ deadlineMs: 1_000 });
    await flush();
    await clock.advanceAsync(1_000);
    await closing;
    const warn = lines.find((l) => l.level === 'warn' && l.msg.includes('gave up'));
    expect(warn?.fields).toMatchObject({ deadline_ms: 1_000, servers: ['stuck'] });
    expect(clock.pending()).toBe(0);
  });

  it('supports await using', async () => {
    const { clock, bus } = fakeWorld();
    const connector = createScriptedConnector();
    const source = createSource(base([stdio('a')]));
    {
      await using supervisor = createSupervisor({ config: source, bus, connector, clock });
      supervisor.start();
      await supervisor.getActor('a')?.start();
    }
    expect(connector.last().closed).toBe(true);
    expect(source.listeners()).toBe(0);
  });
});
