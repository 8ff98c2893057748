import type { EventDataMap, ServerSummary } from '@mcpproxy/contracts';
import { setAutoFreeze } from 'immer';
import { describe, expect, it } from 'vitest';
import { initialState, makeSummary, reduce, reducers, type ViewState } from '../src/index.js';
import { DEFAULT_APP, findServer } from '../src/reducers.js';
import { envelope, reachableObjects } from './helpers.js';

const names = (state: ViewState) => state.servers.map((s) => s.name);

/** Data of every event type that carries a summary, built around that summary. */
const withSummary = {
  server_state_changed: (summary) => ({
    from: 'connecting',
    to: 'ready',
    reason: 'connected',
    retry_count: 0,
    summary,
  }),
  server_config_changed: (summary) => ({ change: 'updated', summary }),
  server_auto_disabled: (summary) => ({ reason: 'too many failures', failures: 5, summary }),
  server_group_updated: (summary) => ({ groups: ['dev'], added: ['dev'], removed: [], summary }),
  connection_established: (summary) => ({ protocol: 'stdio', tool_count: 3, duration_ms: 12, summary }),
  connection_lost: (summary) => ({ error: 'EPIPE', summary }),
  tools_updated: (summary) => ({ tool_count: 3, added: ['a'], removed: [], changed: [], summary }),
  circuit_state_changed: (summary) => ({ from: 'closed', to: 'open', summary }),
  tool_quarantine_changed: (summary) => ({ tool: 'a', from: null, to: 'pending', summary }),
} satisfies { [K in keyof EventDataMap]?: (summary: ServerSummary) => EventDataMap[K] };
const summaryTypes = Object.keys(withSummary) as (keyof typeof withSummary)[];
/** Every server-scoped event but `server_config_changed`: these only update a row that already exists. */
const updateTypes = summaryTypes.filter((type) => type !== 'server_config_changed');

const upsertEvent = (type: keyof typeof withSummary, summary: ServerSummary) =>
  envelope(type, withSummary[type](summary) as never, { server: summary.name });

const seeded = () => initialState({ servers: [makeSummary('beta'), makeSummary('alpha'), makeSummary('delta')] });

describe('reducers', () => {
  it('has a reducer for every event type of the catalogue', () => {
    expect(Object.keys(reducers).sort()).toEqual(
      [
        ...summaryTypes,
        'tool_called',
        'app_state_changed',
        'config_reloaded',
        'servers_changed',
        'system_metrics',
      ].sort(),
    );
  });

  it('server_config_changed inserts an unknown server in name order', () => {
    const state = seeded();
    const summary = makeSummary('charlie', { state: 'ready' });
    const next = reduce(state, envelope('server_config_changed', { change: 'added', summary }));
    expect(names(next)).toEqual(['alpha', 'beta', 'charlie', 'delta']);
    expect(next.servers[2]).toEqual(summary);
    expect(next.servers[0]).toBe(state.servers[0]);
    expect(next.servers[3]).toBe(state.servers[2]);
  });

  it.each(updateTypes)('%s ignores an unknown server (same reference)', (type) => {
    const state = seeded();
    const charlie = upsertEvent(type, makeSummary('charlie', { state: 'ready' }));
    expect(reducers[type]!(state, charlie as never)).toBe(state);
    expect(reduce(state, charlie)).toBe(state);
    const empty = initialState();
    expect(reduce(empty, upsertEvent(type, makeSummary('alpha', { state: 'error' })))).toBe(empty);
  });

  it.each(updateTypes)('%s after "removed" does not bring the server back', (type) => {
    const removed = reduce(
      seeded(),
      envelope('server_config_changed', { change: 'removed', summary: makeSummary('beta') }),
    );
    const late = reduce(removed, upsertEvent(type, makeSummary('beta', { state: 'stopped' })));
    expect(late).toBe(removed);
    expect(names(late)).toEqual(['alpha', 'delta']);
  });

  it('a late state event after removed does not bring the server back', () => {
    let state = seeded();
    state = reduce(state, upsertEvent('server_state_changed', makeSummary('beta', { state: 'ready' })));
    state = reduce(state, envelope('server_config_changed', { change: 'removed', summary: state.servers[1]! }));
    const removed = state;
    // The actor shutting down publishes its last transition after the config said the server is gone.
    const stopped = makeSummary('beta', { state: 'stopped' });
    state = reduce(
      state,
      envelope(
        'server_state_changed',
        { from: 'ready', to: 'stopped', reason: 'removed', retry_count: 0, summary: stopped },
        { server: 'beta' },
      ),
    );
    expect(state).toBe(removed);
    expect(names(state)).toEqual(['alpha', 'delta']);
    // Only the config can bring it back.
    state = reduce(state, envelope('server_config_changed', { change: 'added', summary: stopped }));
    expect(names(state)).toEqual(['alpha', 'beta', 'delta']);
    expect(state.servers[1]).toEqual(stopped);
  });

  it.each(summaryTypes)('%s replaces the row of a known server and shares every other row', (type) => {
    const state = seeded();
    const summary = makeSummary('beta', { state: 'error', last_error: 'boom', retry_count: 2 });
    const next = reducers[type]!(state, upsertEvent(type, summary) as never);
    expect(next).not.toBe(state);
    expect(next.servers[1]).toEqual(summary);
    expect(next.servers[0]).toBe(state.servers[0]);
    expect(next.servers[2]).toBe(state.servers[2]);
    expect(next.app).toBe(state.app);
  });

  it.each(summaryTypes)('%s with a summary deep-equal to the row returns the same state reference', (type) => {
    const state = seeded();
    // A different object with equal content, including a fresh groups array.
    const next = reducers[type]!(state, upsertEvent(type, makeSummary('beta')) as never);
    expect(next).toBe(state);
  });

  it('treats a nested difference (groups, auto_disabled) as a change', () => {
    const state = seeded();
    const grouped = reduce(state, upsertEvent('server_group_updated', makeSummary('beta', { groups: ['dev'] })));
    expect(grouped).not.toBe(state);
    const disabled = makeSummary('beta', {
      groups: ['dev'],
      auto_disabled: { reason: 'failures', failures: 3, at: '2026-01-01T00:00:00.000Z' },
    });
    const next = reduce(grouped, upsertEvent('server_auto_disabled', disabled));
    expect(next).not.toBe(grouped);
    expect(next.servers[1]!.auto_disabled).toEqual(disabled.auto_disabled);
    expect(reduce(next, upsertEvent('server_auto_disabled', structuredClone(disabled)))).toBe(next);
  });

  it('server_config_changed with change "removed" deletes the row', () => {
    const state = seeded();
    const next = reduce(state, envelope('server_config_changed', { change: 'removed', summary: makeSummary('beta') }));
    expect(names(next)).toEqual(['alpha', 'delta']);
    expect(next.servers[0]).toBe(state.servers[0]);
    expect(next.servers[1]).toBe(state.servers[2]);
  });

  it('removing a server that is not there returns the same state reference', () => {
    const state = seeded();
    const next = reduce(state, envelope('server_config_changed', { change: 'removed', summary: makeSummary('zulu') }));
    expect(next).toBe(state);
  });

  it.each(['added', 'updated', 'enabled', 'disabled', 'quarantined', 'unquarantined'] as const)(
    'server_config_changed with change "%s" upserts the summary',
    (change) => {
      const summary = makeSummary('echo', { enabled: change !== 'disabled', quarantined: change === 'quarantined' });
      const next = reduce(seeded(), envelope('server_config_changed', { change, summary }));
      expect(next.servers.find((s) => s.name === 'echo')).toEqual(summary);
    },
  );

  it('app_state_changed sets app.state and keeps the servers array', () => {
    const state = seeded();
    const next = reduce(state, envelope('app_state_changed', { from: 'starting', to: 'running' }));
    expect(next.app).toEqual({ ...DEFAULT_APP, state: 'running' });
    expect(next.servers).toBe(state.servers);
  });

  it('app_state_changed to the current state returns the same state reference', () => {
    const state = seeded();
    expect(reduce(state, envelope('app_state_changed', { from: 'starting', to: 'starting' }))).toBe(state);
  });

  it('tool_called, servers_changed, system_metrics and config_reloaded return the same state reference', () => {
    const state = seeded();
    const events = [
      envelope('tool_called', { tool: 'echo', duration_ms: 3, status: 'ok' }, { server: 'beta' }),
      envelope('servers_changed', {}),
      envelope('system_metrics', {
        total: 3,
        ready: 1,
        error: 0,
        disabled: 0,
        quarantined: 0,
        ws_clients: 2,
        events_per_s: 4,
      }),
      envelope('config_reloaded', { source: 'file', ok: true }),
    ];
    for (const event of events) expect(reduce(state, event)).toBe(state);
  });

  it('an event type it does not know returns the same state reference', () => {
    const state = seeded();
    const unknown = { ...envelope('servers_changed', {}), type: 'something_new' } as unknown as Parameters<
      typeof reduce
    >[1];
    expect(reduce(state, unknown)).toBe(state);
  });

  it.each([
    ['server_config_changed inserting', 'charlie', 'server_config_changed'],
    ['server_state_changed updating', 'beta', 'server_state_changed'],
  ] as const)(
    'stores a frozen copy of the summary when %s a row and leaves the publisher object alone',
    (_, name, type) => {
      const summary = makeSummary(name, { groups: ['dev'] });
      const next = reduce(seeded(), upsertEvent(type, summary));
      const row = next.servers.find((s) => s.name === name)!;
      expect(row).toEqual(summary);
      expect(row).not.toBe(summary);
      expect(Object.isFrozen(summary)).toBe(false);
      expect(Object.isFrozen(summary.groups)).toBe(false);
      summary.groups.push('prod');
      summary.state = 'ready';
      expect(row.groups).toEqual(['dev']);
      expect(row.state).toBe('idle');
    },
  );

  it('produces deeply frozen states even when immer auto-freeze is switched off globally', () => {
    setAutoFreeze(false);
    try {
      let state = seeded();
      state = reduce(state, upsertEvent('server_config_changed', makeSummary('charlie')));
      state = reduce(state, upsertEvent('server_group_updated', makeSummary('charlie', { groups: ['x'] })));
      state = reduce(state, upsertEvent('connection_lost', makeSummary('alpha', { last_error: 'gone' })));
      expect(state.servers.find((s) => s.name === 'charlie')!.groups).toEqual(['x']);
      state = reduce(state, envelope('app_state_changed', { from: 'starting', to: 'running' }));
      state = reduce(state, envelope('server_config_changed', { change: 'removed', summary: makeSummary('beta') }));
      for (const object of reachableObjects(state)) expect(Object.isFrozen(object)).toBe(true);
    } finally {
      setAutoFreeze(true);
    }
  });

  it('never mutates the state it is given', () => {
    const state = seeded();
    const before = structuredClone(state);
    reduce(state, upsertEvent('tools_updated', makeSummary('alpha', { tool_count: 9 })));
    reduce(state, envelope('server_config_changed', { change: 'removed', summary: makeSummary('delta') }));
    reduce(state, envelope('app_state_changed', { from: 'starting', to: 'degraded' }));
    expect(state).toEqual(before);
  });
});

describe('findServer', () => {
  const servers = initialState({ servers: ['b', 'd', 'f'].map((n) => makeSummary(n)) }).servers;

  it('returns the index of a present name', () => {
    expect(['b', 'd', 'f'].map((n) => findServer(servers, n))).toEqual([0, 1, 2]);
  });

  it('returns the bitwise complement of the insertion point for an absent name', () => {
    expect(['a', 'c', 'e', 'g'].map((n) => ~findServer(servers, n))).toEqual([0, 1, 2, 3]);
    expect(findServer([], 'a')).toBe(~0);
  });
});

describe('initialState', () => {
  it('sorts the rows by name, keeps the last row of a repeated name and freezes everything', () => {
    const state = initialState({
      servers: [makeSummary('b'), makeSummary('a', { tool_count: 1 }), makeSummary('a', { tool_count: 2 })],
      app: { version: '1.2.3', started_at: undefined },
    });
    expect(names(state)).toEqual(['a', 'b']);
    expect(state.servers[0]!.tool_count).toBe(2);
    expect(state.app).toEqual({ state: 'starting', started_at: null, version: '1.2.3' });
    for (const object of reachableObjects(state)) expect(Object.isFrozen(object)).toBe(true);
  });

  it('orders names by code unit, so upper case sorts before lower case', () => {
    const state = initialState({ servers: ['b', 'B', 'a.x', 'a-x', 'a_x', '0'].map((n) => makeSummary(n)) });
    expect(names(state)).toEqual(['0', 'B', 'a-x', 'a.x', 'a_x', 'b']);
  });
});
