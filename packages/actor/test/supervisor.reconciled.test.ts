import { type Config, type ConfigInput, parseConfig, type ServerConfigInput } from '@mcpproxy/contracts';
import { createScriptedConnector, flush, recordEvents } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { type ConfigSource, createSupervisor, type ReconcileReport } from '../src/index.js';
import { fakeWorld } from './helpers/setup.js';

function parse(input: ConfigInput): Config {
  const parsed = parseConfig(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const config = (servers: ServerConfigInput[]): Config =>
  parse({ health_check_interval: 0, tool_discovery_interval: 0, mcpServers: servers });

function setup(initial: ServerConfigInput[]) {
  let current = config(initial);
  const listeners = new Set<(c: Config, p: Config) => void>();
  const source: ConfigSource & { set(servers: ServerConfigInput[]): Config } = {
    snapshot: () => current,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(servers) {
      const previous = current;
      current = config(servers);
      for (const l of listeners) l(current, previous);
      return current;
    },
  };
  const { clock, bus } = fakeWorld();
  const events = recordEvents(bus);
  const connector = createScriptedConnector();
  const supervisor = createSupervisor({ config: source, bus, connector, clock });
  return { source, supervisor, events, connector };
}

const kinds = (report: ReconcileReport) => Object.fromEntries(report.changes);

describe('Supervisor.reconciled', () => {
  it('reports every kind of change per server, once each was published', async () => {
    const { source, supervisor, events } = setup([
      { name: 'a', command: 'a' },
      { name: 'b', command: 'b' },
      { name: 'c', command: 'c' },
    ]);
    supervisor.start();
    expect(kinds(await supervisor.reconciled(source.snapshot()))).toEqual({
      a: ['added'],
      b: ['added'],
      c: ['added'],
    });
    const next = source.set([
      { name: 'a', command: 'a', enabled: false, quarantined: true },
      { name: 'b', command: 'b2' },
      { name: 'd', command: 'd' },
    ]);
    const report = await supervisor.reconciled(next);
    expect(kinds(report)).toEqual({
      a: ['quarantined', 'disabled'],
      b: ['updated'],
      c: ['removed'],
      d: ['added'],
    });
    // Everything reported was published before the report resolved.
    const published = events.of('server_config_changed').map((e) => `${e.server}:${e.data.change}`);
    expect(published).toEqual(
      expect.arrayContaining(['a:quarantined', 'a:disabled', 'b:updated', 'c:removed', 'd:added']),
    );
    expect(supervisor.getActor('a')?.getState().state).toBe('quarantined');
    await supervisor.close();
  });

  it('answers the same report for a snapshot already reconciled, and none for an unchanged one', async () => {
    const { source, supervisor } = setup([{ name: 'a', command: 'a' }]);
    supervisor.start();
    const first = supervisor.reconciled(source.snapshot());
    expect(supervisor.reconciled(source.snapshot())).toBe(first);
    const same = source.set([{ name: 'a', command: 'a' }]);
    expect(kinds(await supervisor.reconciled(same))).toEqual({});
    await supervisor.close();
  });

  it('never reconciles a snapshot older than the current one', async () => {
    const { source, supervisor } = setup([{ name: 'a', command: 'a' }]);
    const old = source.snapshot();
    supervisor.start();
    await supervisor.reconciled(old);
    source.set([]);
    const stale = config([{ name: 'z', command: 'z' }]);
    expect(kinds(await supervisor.reconciled(stale))).toEqual({});
    expect(supervisor.getActor('z')).toBeUndefined();
    await supervisor.close();
  });

  it('reports a server re-added while its old actor stops once the new actor was added', async () => {
    const { source, supervisor, connector, events } = setup([{ name: 'a', command: 'a' }]);
    supervisor.start();
    await events.waitFor('connection_established');
    let release!: () => void;
    connector.last().onCloseCall = () =>
      new Promise((resolve) => {
        release = resolve;
      });
    const removal = supervisor.reconciled(source.set([]));
    const readd = supervisor.reconciled(source.set([{ name: 'a', command: 'a', args: ['v2'] }]));
    let settled = false;
    void readd.then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    release();
    expect(kinds(await removal)).toEqual({ a: ['removed'] });
    expect(kinds(await readd)).toEqual({ a: ['added'] });
    expect(supervisor.getActor('a')?.config().server.args).toEqual(['v2']);
    await supervisor.close();
  });
});
