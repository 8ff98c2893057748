import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createEventBus } from '@mcpproxy/events';
import { createStateView, makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMetrics } from '../src/index.js';
import { scriptedConnector, startServer, waitForEvent, waitForState } from './helpers.js';

function promtool(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (run.error) {
    throw new Error(
      `promtool is needed for this test (Debian: apt-get install -y prometheus; tooling/ci/system-deps.sh): ${run.error.message}`,
    );
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** The value of one series line, e.g. `mcpproxy_servers{state="ready"}`. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('passes `promtool check metrics` and reports servers, tools, calls, actors, supervisor, live and HTTP series', async () => {
    await using s = await startServer({
      processMetrics: true,
      connector: scriptedConnector({ down: { connect: 'fail' } }),
      config: {
        retry: { initial_delay: '10m', max_delay: '10m' },
        mcpServers: [
          { name: 'one', command: 'scripted' },
          { name: 'down', command: 'scripted' },
        ],
      },
    });
    await waitForState(s.view, 'one', 'ready');
    await waitForState(s.view, 'down', 'error');
    const ws = new WebSocket(`${s.url.replace('http:', 'ws:')}/ws/events`);
    try {
      await once(ws, 'open');
      const called = waitForEvent(s.bus, (e) => e.type === 'tool_called');
      expect(
        (await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'one:echo', arguments: { message: 'm' } } }))
          .status,
      ).toBe(200);
      await called;
      await s.api('/api/v1/servers/nope');

      const res = await s.api('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = res.text;

      const check = promtool(text);
      expect(check.output).toBe('');
      expect(check.status).toBe(0);

      const names = new Set(
        text
          .split('\n')
          .filter((l) => l.startsWith('# TYPE '))
          .map((l) => l.split(' ')[2]),
      );
      expect([...names].every((n) => n?.startsWith('mcpproxy_'))).toBe(true);

      expect(value(text, 'mcpproxy_servers{state="ready"}')).toBe(1);
      expect(value(text, 'mcpproxy_servers{state="error"}')).toBe(1);
      expect(value(text, 'mcpproxy_tools{approval="approved"}')).toBe(1);
      expect(value(text, 'mcpproxy_circuits{state="closed"}')).toBe(2);
      expect(value(text, 'mcpproxy_tool_calls_total{server="one",status="ok"}')).toBe(1);
      expect(value(text, 'mcpproxy_tool_call_duration_seconds_count{server="one"}')).toBe(1);
      expect(value(text, 'mcpproxy_actor_transitions_total{from="connecting",to="ready"}')).toBe(1);
      expect(value(text, 'mcpproxy_actor_transitions_total{from="connecting",to="error"}')).toBe(1);
      expect(value(text, 'mcpproxy_actor_connect_duration_seconds_count{protocol="stdio"}')).toBe(1);
      expect(value(text, 'mcpproxy_supervisor_reconciliations_total')).toBe(1);
      expect(value(text, 'mcpproxy_ws_connections{endpoint="events"}')).toBe(1);
      expect(value(text, 'mcpproxy_events_published_total{type="tool_called"}')).toBe(1);
      expect(value(text, 'mcpproxy_events_delivered_total')).toBeGreaterThan(0);
      expect(value(text, 'mcpproxy_app_state{state="running"}')).toBe(1);
      expect(value(text, 'mcpproxy_http_requests_total{method="POST",route="/api/v1/tools/call",status="200"}')).toBe(
        1,
      );
      expect(value(text, 'mcpproxy_http_requests_total{method="GET",route="/api/v1/servers/:name",status="404"}')).toBe(
        1,
      );
      expect(text).toContain('mcpproxy_process_resident_memory_bytes');
      expect(text).toContain('mcpproxy_build_info{version=');
    } finally {
      ws.terminate();
    }
  });

  it('counts retries, auto-disables, circuit transitions, config reloads and dropped events from the bus and broadcaster', async () => {
    const bus = createEventBus({ coalesceMs: 0 });
    const view = createStateView({ bus, servers: [makeSummary('a')] });
    let dropped = 0;
    const metrics = createMetrics({
      bus,
      view,
      processMetrics: false,
      broadcaster: () => ({
        connections: { events: 2, servers: 1, mcp_status: 0, sse: 3 },
        delivered: 10,
        dropped: { total: dropped, by_type: { server_state_changed: dropped } },
        resyncs: 1,
        replays: 0,
      }),
    });
    try {
      const summary = makeSummary('a');
      bus.publish({
        type: 'server_state_changed',
        server: 'a',
        data: { from: 'error', to: 'connecting', reason: 'retry', retry_count: 1, summary },
      });
      bus.publish({ type: 'server_auto_disabled', server: 'a', data: { reason: 'failures', failures: 10, summary } });
      bus.publish({ type: 'circuit_state_changed', server: 'a', data: { from: 'closed', to: 'open', summary } });
      bus.publish({ type: 'config_reloaded', data: { source: 'file', ok: false, error: 'bad' } });
      metrics.reconciled();
      dropped = 4;
      let text = await metrics.render();
      expect(value(text, 'mcpproxy_actor_retries_total{server="a"}')).toBe(1);
      expect(value(text, 'mcpproxy_actor_auto_disabled_total{server="a"}')).toBe(1);
      expect(value(text, 'mcpproxy_circuit_transitions_total{to="open"}')).toBe(1);
      expect(value(text, 'mcpproxy_config_reloads_total{source="file",result="failure"}')).toBe(1);
      expect(value(text, 'mcpproxy_supervisor_reconciliations_total')).toBe(1);
      expect(value(text, 'mcpproxy_events_dropped_total{type="server_state_changed"}')).toBe(4);
      expect(value(text, 'mcpproxy_ws_connections{endpoint="sse"}')).toBe(3);
      dropped = 6;
      text = await metrics.render();
      // Mirrored totals stay monotonic and equal to the broadcaster's own counters.
      expect(value(text, 'mcpproxy_events_dropped_total{type="server_state_changed"}')).toBe(6);
      expect(value(text, 'mcpproxy_events_delivered_total')).toBe(10);
      expect(promtool(text).status).toBe(0);
    } finally {
      metrics.close();
      view.close();
      bus.close();
    }
  });
});
