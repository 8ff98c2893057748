import type { ActivityMetrics } from '@mcpproxy/activity';
import {
  type AppState,
  AppStateSchema,
  type CircuitState,
  CircuitStateSchema,
  type ServerState,
  ServerStateSchema,
  type ServerSummary,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { BroadcastStats } from '@mcpproxy/ws-broadcast';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ScanStats } from './tool-scanner.js';

/** What the metrics read at scrape time from the read model (`StateView` satisfies it). */
export interface MetricsViewSource {
  snapshot(): { readonly servers: readonly ServerSummary[]; readonly app: { readonly state: AppState } };
}

export interface MetricsOptions {
  /** Events feed the counters (tool calls, transitions, retries, connect durations, reloads, events published). */
  bus: EventBus;
  /** Server, tool and app gauges are read from the snapshot at scrape time. */
  view: MetricsViewSource;
  /** Live-delivery figures, read at scrape time; `undefined` while there is no broadcaster. @default none */
  broadcaster?: (() => BroadcastStats | undefined) | undefined;
  /** Also export Node process metrics (`mcpproxy_process_*`, `mcpproxy_nodejs_*`). @default true */
  processMetrics?: boolean | undefined;
  /** Reported in `mcpproxy_build_info{version}`. @default '0.0.0' */
  version?: string | undefined;
  /** The tool scanner's counts, read at scrape time. @default none (no scanner series) */
  scanner?: (() => ScanStats) | undefined;
  /** The activity log's counts, read at scrape time. @default none (no activity series) */
  activity?: (() => ActivityMetrics | undefined) | undefined;
}

/** The Prometheus registry of one server and the hooks that feed it. */
export interface Metrics {
  readonly registry: Registry;
  /** `Content-Type` of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** Records one HTTP request (route = the matched route pattern, never the raw path). */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** Counts one supervisor reconcile (the first start and each config change). */
  reconciled(): void;
  /** The text exposition format. */
  render(): Promise<string>;
  /** Leaves the bus. Idempotent. */
  close(): void;
}

const SERVER_STATES = ServerStateSchema.options as readonly ServerState[];
const CIRCUIT_STATES = CircuitStateSchema.options as readonly CircuitState[];
const APP_STATES = AppStateSchema.options as readonly AppState[];
const ENDPOINTS = ['events', 'servers', 'mcp_status', 'sse'] as const;

/**
 * Creates the `mcpproxy_*` metrics: counters fed from bus events as they happen, gauges computed from the read
 * model and the broadcaster when scraped (so a scrape never touches an upstream).
 */
export function createMetrics({
  bus,
  view,
  broadcaster = () => undefined,
  processMetrics = true,
  version = '0.0.0',
  scanner,
  activity,
}: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];

  if (activity) {
    const totals = [
      ['mcpproxy_activity_recorded_total', 'Activity records queued since start.', 'recorded'],
      ['mcpproxy_activity_written_total', 'Activity records written to activity.db since start.', 'written'],
      [
        'mcpproxy_activity_dropped_total',
        'Activity records dropped (queue full or a failed write) since start.',
        'dropped',
      ],
      ['mcpproxy_activity_pruned_total', 'Activity records pruned by retention since start.', 'pruned'],
    ] as const;
    for (const [name, help, key] of totals) {
      // The log keeps the running totals; the counter catches up with them at each scrape.
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = activity()?.[key] ?? seen;
          if (now > seen) this.inc(now - seen);
          seen = Math.max(seen, now);
        },
      });
    }
    new Gauge({
      name: 'mcpproxy_activity_queue_depth',
      help: 'Activity records queued and not yet written.',
      registers,
      collect() {
        this.set(activity()?.queued ?? 0);
      },
    });
  }

  if (scanner) {
    new Gauge({
      name: 'mcpproxy_scanner_findings',
      help: 'Tool scanner findings on the current tool definitions, by tier (hard, soft) and check.',
      labelNames: ['tier', 'check'],
      registers,
      collect() {
        this.reset();
        for (const f of scanner().findings) this.set({ tier: f.tier, check: f.check }, f.count);
      },
    });
    new Gauge({
      name: 'mcpproxy_scanner_blocked_tools',
      help: 'Tools the tool scanner blocks (a hard finding) that no person has approved.',
      registers,
      collect() {
        this.set(scanner().blocked);
      },
    });
    new Gauge({
      name: 'mcpproxy_scanner_scanned_tools',
      help: 'Tool definitions scanned since start (a counter read at scrape time).',
      registers,
      collect() {
        this.set(scanner().scanned);
      },
    });
  }

  new Gauge({
    name: 'mcpproxy_build_info',
    help: 'Always 1; the version label says which mcpproxy is running.',
    labelNames: ['version'],
    registers,
  }).set({ version }, 1);

  new Gauge({
    name: 'mcpproxy_app_state',
    help: 'Process state: 1 for the current state (starting, running, degraded, stopping), 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = view.snapshot().app.state;
      for (const s of APP_STATES) this.set({ state: s }, s === current ? 1 : 0);
    },
  });

  new Gauge({
    name: 'mcpproxy_servers',
    help: 'Configured upstream servers by actor state.',
    labelNames: ['state'],
    registers,
    collect() {
      const counts = new Map<ServerState, number>(SERVER_STATES.map((s) => [s, 0]));
      for (const s of view.snapshot().servers) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  new Gauge({
    name: 'mcpproxy_circuits',
    help: 'Upstream servers by circuit breaker state.',
    labelNames: ['state'],
    registers,
    collect() {
      const counts = new Map<CircuitState, number>(CIRCUIT_STATES.map((s) => [s, 0]));
      for (const s of view.snapshot().servers) counts.set(s.circuit, (counts.get(s.circuit) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  new Gauge({
    name: 'mcpproxy_tools',
    help: 'Tools listed by all upstream servers, by approval state (pinning).',
    labelNames: ['approval'],
    registers,
    collect() {
      let total = 0;
      let pending = 0;
      let changed = 0;
      for (const s of view.snapshot().servers) {
        total += s.tool_count;
        pending += s.pending_tools;
        changed += s.changed_tools;
      }
      this.set({ approval: 'approved' }, Math.max(0, total - pending - changed));
      this.set({ approval: 'pending' }, pending);
      this.set({ approval: 'changed' }, changed);
    },
  });

  const toolCalls = new Counter({
    name: 'mcpproxy_tool_calls_total',
    help: 'Proxied tool calls by server and outcome (ok, error, timeout, rejected).',
    labelNames: ['server', 'status'],
    registers,
  });
  const toolCallSeconds = new Histogram({
    name: 'mcpproxy_tool_call_duration_seconds',
    help: 'Duration of proxied tool calls.',
    labelNames: ['server'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const transitions = new Counter({
    name: 'mcpproxy_actor_transitions_total',
    help: 'Actor state transitions.',
    labelNames: ['from', 'to'],
    registers,
  });
  const retries = new Counter({
    name: 'mcpproxy_actor_retries_total',
    help: 'Connect retries after a failure, by server.',
    labelNames: ['server'],
    registers,
  });
  const autoDisabled = new Counter({
    name: 'mcpproxy_actor_auto_disabled_total',
    help: 'Servers auto-disabled after too many consecutive failures.',
    labelNames: ['server'],
    registers,
  });
  const connectSeconds = new Histogram({
    name: 'mcpproxy_actor_connect_duration_seconds',
    help: 'Connect + initialize + first tools/list of upstream servers.',
    labelNames: ['protocol'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const circuitTransitions = new Counter({
    name: 'mcpproxy_circuit_transitions_total',
    help: 'Circuit breaker transitions by target state.',
    labelNames: ['to'],
    registers,
  });
  const reconciliations = new Counter({
    name: 'mcpproxy_supervisor_reconciliations_total',
    help: 'Reconciliations of the config into actors (start-up and every config change).',
    registers,
  });
  const configReloads = new Counter({
    name: 'mcpproxy_config_reloads_total',
    help: 'Config reloads by source (file, api) and result (success, failure).',
    labelNames: ['source', 'result'],
    registers,
  });
  const published = new Counter({
    name: 'mcpproxy_events_published_total',
    help: 'Events published on the bus, by type.',
    labelNames: ['type'],
    registers,
  });

  // Counters mirrored from the broadcaster's own monotonic totals at scrape time.
  const last = { delivered: 0, resyncs: 0, replays: 0, dropped: new Map<string, number>() };
  new Counter({
    name: 'mcpproxy_events_delivered_total',
    help: 'Events handed to WebSocket and SSE clients (a batch counts its events).',
    registers,
    collect() {
      const stats = broadcaster();
      if (!stats) return;
      if (stats.delivered > last.delivered) this.inc(stats.delivered - last.delivered);
      last.delivered = stats.delivered;
    },
  });
  new Counter({
    name: 'mcpproxy_events_dropped_total',
    help: 'Events dropped for slow live clients, by type.',
    labelNames: ['type'],
    registers,
    collect() {
      const stats = broadcaster();
      if (!stats) return;
      for (const [type, n] of Object.entries(stats.dropped.by_type)) {
        const before = last.dropped.get(type) ?? 0;
        if (n > before) this.inc({ type }, n - before);
        last.dropped.set(type, n);
      }
    },
  });
  new Counter({
    name: 'mcpproxy_ws_resyncs_total',
    help: 'Resync snapshots sent to live clients that had overflowed.',
    registers,
    collect() {
      const stats = broadcaster();
      if (!stats) return;
      if (stats.resyncs > last.resyncs) this.inc(stats.resyncs - last.resyncs);
      last.resyncs = stats.resyncs;
    },
  });
  new Counter({
    name: 'mcpproxy_ws_replays_total',
    help: 'Live connections that resumed from the replay buffer.',
    registers,
    collect() {
      const stats = broadcaster();
      if (!stats) return;
      if (stats.replays > last.replays) this.inc(stats.replays - last.replays);
      last.replays = stats.replays;
    },
  });
  new Gauge({
    name: 'mcpproxy_ws_connections',
    help: 'Open live connections by endpoint (events, servers, mcp_status, sse).',
    labelNames: ['endpoint'],
    registers,
    collect() {
      const stats = broadcaster();
      for (const endpoint of ENDPOINTS) this.set({ endpoint }, stats?.connections[endpoint] ?? 0);
    },
  });

  const httpRequests = new Counter({
    name: 'mcpproxy_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const httpSeconds = new Histogram({
    name: 'mcpproxy_http_request_duration_seconds',
    help: 'HTTP request duration until the response headers, by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers,
  });

  if (processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'mcpproxy_' });
    // prom-client names three gauges `*_total`, which Prometheus' lint rejects (only counters end in _total);
    // the same figures stay available without the suffix (`mcpproxy_nodejs_active_handles`, …).
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      registry.removeSingleMetric(`mcpproxy_nodejs_${name}`);
    }
  }

  const off = bus.subscribe('*', (event) => {
    published.inc({ type: event.type });
    switch (event.type) {
      case 'tool_called':
        toolCalls.inc({ server: event.server ?? '', status: event.data.status });
        toolCallSeconds.observe({ server: event.server ?? '' }, event.data.duration_ms / 1000);
        break;
      case 'server_state_changed':
        transitions.inc({ from: event.data.from, to: event.data.to });
        if (event.data.reason === 'retry') retries.inc({ server: event.server ?? '' });
        break;
      case 'connection_established':
        connectSeconds.observe({ protocol: event.data.protocol }, event.data.duration_ms / 1000);
        break;
      case 'server_auto_disabled':
        autoDisabled.inc({ server: event.server ?? '' });
        break;
      case 'circuit_state_changed':
        circuitTransitions.inc({ to: event.data.to });
        break;
      case 'config_reloaded':
        configReloads.inc({ source: event.data.source, result: event.data.ok ? 'success' : 'failure' });
        break;
      default:
        break;
    }
  });

  let closed = false;
  return {
    registry,
    contentType: registry.contentType,
    observeHttp(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpSeconds.observe({ method, route }, seconds);
    },
    reconciled: () => reconciliations.inc(),
    render: () => registry.metrics(),
    close() {
      if (closed) return;
      closed = true;
      off();
    },
  };
}
