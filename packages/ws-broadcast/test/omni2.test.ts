import { makeSummary } from '@mcpproxy/stateview';
import { waitFor } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { publishCall, publishState, startHub, TestClient } from './helpers.js';

describe('/ws/mcp-status (OMNI2 dialect)', () => {
  it('starts with initial_status listing every server', async () => {
    await using hub = await startHub();
    publishState(hub.bus, 'alpha', 'connecting', 'ready');
    publishState(hub.bus, 'beta', 'connecting', 'error');
    await using c = await TestClient.open(hub.ws('/ws/mcp-status'));
    const first = await c.frame(() => true);
    expect(first.type).toBe('initial_status');
    expect(first.timestamp).toMatch(/Z$/);
    expect(first.servers).toEqual(first.mcps);
    expect(first.servers.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['alpha', 'healthy'],
      ['beta', 'unhealthy'],
      ['gamma', 'unknown'],
    ]);
    expect(first.servers[0]).toMatchObject({ health_status: 'healthy', circuit_state: 'closed', state: 'ready' });
  });

  it('maps state changes, circuit changes, auto-disable and metrics, and leaves the rest out', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/mcp-status'));
    await c.frame((f) => f.type === 'initial_status');
    publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'alpha', 'ready', 'error');
    hub.bus.publish({
      type: 'circuit_state_changed',
      server: 'alpha',
      data: { from: 'closed', to: 'open', summary: makeSummary('alpha', { circuit: 'open' }) },
    });
    hub.bus.publish({
      type: 'server_auto_disabled',
      server: 'beta',
      data: { reason: 'max_retries', failures: 10, summary: makeSummary('beta', { state: 'disabled' }) },
    });
    hub.bus.publish({
      type: 'system_metrics',
      data: { total: 3, ready: 1, error: 1, disabled: 1, quarantined: 0, ws_clients: 1, events_per_s: 2.5 },
    });
    await c.waitFor((fs) => fs.length === 5);
    const [, status, circuit, disabled, metrics] = c.frames;
    expect(status).toMatchObject({
      type: 'mcp_status_change',
      data: { mcp_name: 'alpha', old_status: 'healthy', new_status: 'unhealthy', severity: 'error' },
    });
    expect(circuit).toMatchObject({
      type: 'health_event',
      mcp_name: 'alpha',
      event_type: 'circuit_open',
      data: { from: 'closed', to: 'open' },
    });
    expect(disabled).toMatchObject({
      type: 'health_event',
      mcp_name: 'beta',
      event_type: 'auto_disabled',
      data: { reason: 'max_retries', failures: 10 },
    });
    expect(metrics).toMatchObject({ type: 'system_metrics', metrics: { total: 3, events_per_s: 2.5 } });
  });

  it('sends an application-level ping every ping_interval and answers a client ping', async () => {
    await using hub = await startHub({ options: { ping_interval: 1_000, pong_timeout: 5_000 } });
    await using c = await TestClient.open(hub.ws('/ws/mcp-status'));
    await c.frame((f) => f.type === 'initial_status');
    hub.clock?.advance(1_000);
    expect(await c.frame((f) => f.type === 'ping')).toMatchObject({ type: 'ping', timestamp: expect.any(String) });
    c.send('{"type":"ping"}');
    expect(await c.frame((f) => f.type === 'pong')).toMatchObject({ type: 'pong' });
    await waitFor(() => hub.b.stats().connections.mcp_status === 1, { what: 'the connection' });
  });
});
