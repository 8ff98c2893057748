import { type BusEvent, createFakeClock, type ServerSummary, SnapshotSchema } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { describe, expect, it } from 'vitest';
import { createStateView, makeSummary, type StateSnapshot } from '../src/index.js';

describe('stateview on a real event bus', () => {
  it('folds a published sequence, including events published from inside bus and view listeners', () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock, coalesceMs: 50 });
    const view = createStateView({ bus, app: { version: '1.0.0', started_at: '2026-01-01T00:00:00.000Z' } });
    try {
      // A bus listener that reacts to a connection by publishing the tool listing, as an actor would.
      bus.subscribe('connection_established', (event) => {
        const summary = { ...event.data.summary, tool_count: event.data.tool_count, pending_tools: 1 };
        bus.publish({
          type: 'tools_updated',
          server: event.server,
          data: { tool_count: event.data.tool_count, added: ['t'], removed: [], changed: [], summary },
        });
      });
      // A view listener that publishes too: the app turns `running` once github is ready.
      const seen: Array<[number, number]> = [];
      view.subscribe((snap, event) => {
        seen.push([snap.version, event.seq]);
        if (event.type === 'server_state_changed' && event.data.to === 'ready' && snap.app.state === 'starting') {
          bus.publish({ type: 'app_state_changed', data: { from: 'starting', to: 'running' } });
        }
      });

      const github = makeSummary('github', { protocol: 'http', groups: ['dev'] });
      const memory = makeSummary('memory');
      const doomed = makeSummary('doomed');
      bus.publish({ type: 'server_config_changed', server: 'memory', data: { change: 'added', summary: memory } });
      bus.publish({ type: 'server_config_changed', server: 'github', data: { change: 'added', summary: github } });
      bus.publish({ type: 'server_config_changed', server: 'doomed', data: { change: 'added', summary: doomed } });
      const connecting = { ...github, state: 'connecting' as const };
      bus.publish({
        type: 'server_state_changed',
        server: 'github',
        data: { from: 'idle', to: 'connecting', reason: 'start', retry_count: 0, summary: connecting },
      });
      const connected = { ...connecting, tool_count: 26, connected_at: '2026-01-01T00:00:01.000Z' };
      bus.publish({
        type: 'connection_established',
        server: 'github',
        data: { protocol: 'http', tool_count: 26, duration_ms: 40, summary: connected },
      });
      const ready = { ...connected, state: 'ready' as const, pending_tools: 1 };
      bus.publish({
        type: 'server_state_changed',
        server: 'github',
        data: { from: 'connecting', to: 'ready', reason: 'connected', retry_count: 0, summary: ready },
      });
      bus.publish({ type: 'tool_called', server: 'github', data: { tool: 't', duration_ms: 5, status: 'ok' } });
      bus.publish({ type: 'server_config_changed', server: 'doomed', data: { change: 'removed', summary: doomed } });
      const lost = { ...memory, state: 'error' as const, last_error: 'EPIPE', retry_count: 1 };
      bus.publish({ type: 'connection_lost', server: 'memory', data: { error: 'EPIPE', summary: lost } });
      clock.advance(50); // the coalescer's servers_changed: a no-op for the view

      const expected = {
        servers: [ready, lost],
        app: { state: 'running', started_at: '2026-01-01T00:00:00.000Z', version: '1.0.0' },
      };
      const snap = view.snapshot();
      expect({ servers: snap.servers, app: snap.app }).toEqual(expected);
      expect(SnapshotSchema.parse(snap)).toEqual(expected);
      expect(snap.seq).toBe(bus.seq);
      expect(bus.since(snap.seq - 1)![0]!.type).toBe('servers_changed');
      // Changes: 3 added, connecting, connected, tools_updated (from the bus listener), ready,
      // app running (from the view listener), removed, lost.
      expect(snap.version).toBe(10);
      expect(seen.map(([version]) => version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const seqs = seen.map(([, seq]) => seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(view.server('github')).toEqual(ready);
      expect(JSON.parse(view.serialized())).toEqual(snap);
    } finally {
      view.close();
      bus.close();
    }
  });

  it('agrees with a naive model over a long random sequence of events', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const view = createStateView({ bus });
    const model = new Map<string, ServerSummary>();
    let appState: StateSnapshot['app']['state'] = 'starting';
    let changes = 0;
    let lastVersion = 0;
    let ignored = 0;
    view.subscribe((snap) => {
      changes++;
      lastVersion = snap.version;
    });
    // A small deterministic PRNG (xorshift32) keeps the sequence the same on every run. Exact in 32-bit integer
    // arithmetic: a float LCG such as `seed * 1103515245` loses its low bits and only ever rolls even numbers.
    let seed = 42;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const states = ['idle', 'connecting', 'ready', 'error', 'disabled', 'stopped'] as const;
    const configChanges = ['added', 'updated', 'enabled', 'disabled', 'quarantined', 'unquarantined'] as const;
    const randomSummary = (name: string) =>
      makeSummary(name, { state: states[random(states.length)]!, tool_count: random(3) });
    try {
      for (let i = 0; i < 3000; i++) {
        const name = `srv-${random(40)}`;
        const roll = random(10);
        if (roll === 0) {
          const summary = model.get(name) ?? makeSummary(name);
          model.delete(name);
          bus.publish({ type: 'server_config_changed', server: name, data: { change: 'removed', summary } });
        } else if (roll === 1) {
          const to = (['starting', 'running', 'degraded'] as const)[random(3)]!;
          bus.publish({ type: 'app_state_changed', data: { from: appState, to } });
          appState = to;
        } else if (roll === 2) {
          bus.publish({ type: 'tool_called', server: name, data: { tool: 'x', duration_ms: 1, status: 'ok' } });
        } else if (roll === 3) {
          // Only the config brings a server into the view (any change but `removed`).
          const summary = randomSummary(name);
          model.set(name, summary);
          const change = configChanges[random(configChanges.length)]!;
          bus.publish({ type: 'server_config_changed', server: name, data: { change, summary } });
        } else {
          // Every other server-scoped event only updates a known row; for an unknown server it is a no-op.
          const summary = randomSummary(name);
          if (model.has(name)) model.set(name, summary);
          else ignored++;
          bus.publish({
            type: 'server_state_changed',
            server: name,
            data: { from: 'idle', to: summary.state, reason: 'r', retry_count: 0, summary },
          });
        }
        if (i % 500 === 0) {
          const names = [...model.keys()].sort((a, b) => (a < b ? -1 : 1));
          expect(view.snapshot().servers.map((s) => s.name)).toEqual(names);
        }
      }
      const snap = view.snapshot();
      const names = [...model.keys()].sort((a, b) => (a < b ? -1 : 1));
      expect(snap.servers).toEqual(names.map((n) => model.get(n)));
      expect(snap.app.state).toBe(appState);
      for (let i = 0; i < 40; i++) expect(view.server(`srv-${i}`)).toEqual(model.get(`srv-${i}`));
      expect(snap.seq).toBe(bus.seq);
      expect(snap.version).toBe(changes);
      expect(lastVersion).toBe(changes);
      // Some events in the sequence were no-ops (repeated rows, tool calls, removals of absent servers, and
      // state events of servers the config never added or already removed).
      expect(changes).toBeLessThan(bus.seq);
      expect(ignored).toBeGreaterThan(0);
      expect(model.size).toBeGreaterThan(0);
    } finally {
      view.close();
      bus.close();
    }
  });

  it('leaves the rest of the bus alone: other subscribers see every event even if a view listener throws', () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const view = createStateView({ bus });
    const others: BusEvent[] = [];
    try {
      view.subscribe(() => {
        throw new Error('view listener failed');
      });
      bus.subscribe('*', (event) => others.push(event));
      bus.publish({ type: 'server_config_changed', server: 'a', data: { change: 'added', summary: makeSummary('a') } });
      bus.publish({
        type: 'server_state_changed',
        server: 'a',
        data: { from: 'idle', to: 'ready', reason: 'r', retry_count: 0, summary: makeSummary('a', { state: 'ready' }) },
      });
      expect(others.map((event) => event.type)).toEqual(['server_config_changed', 'server_state_changed']);
      expect(view.server('a')).toMatchObject({ state: 'ready' });
    } finally {
      view.close();
      bus.close();
    }
  });
});
