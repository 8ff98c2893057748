import type { BusEvent, ServerState, ServerSummary } from '@mcpproxy/contracts';
import { type Client, Mode } from './client.js';
import { frameText } from './codec.js';

/**
 * The OMNI2 dialect of `/ws/mcp-status`: a small, lossy adapter from mcpproxy's bus events to the messages an
 * OMNI2 dashboard understands, and their delivery to its clients. The mapping is documented in the README.
 */

/** OMNI2's coarse health of a server. */
export type Omni2HealthStatus = 'healthy' | 'unhealthy' | 'unknown';
/** OMNI2's status of a server: its health, or why it is not running. */
export type Omni2Status = Omni2HealthStatus | 'disabled' | 'quarantined' | 'inactive';

/** One row of `initial_status`. */
export interface Omni2ServerRow {
  name: string;
  status: Omni2Status;
  health_status: Omni2HealthStatus;
  circuit_state: ServerSummary['circuit'];
  /** mcpproxy's own state, for clients that know it. */
  state: ServerState;
  enabled: boolean;
  tool_count: number;
  last_error: string | null;
  /** When the server last became ready (OMNI2 calls it the last health check). */
  last_health_check: string | null;
}

export function omni2Status(state: ServerState): Omni2Status {
  switch (state) {
    case 'ready':
      return 'healthy';
    case 'error':
      return 'unhealthy';
    case 'disabled':
      return 'disabled';
    case 'quarantined':
      return 'quarantined';
    case 'stopped':
      return 'inactive';
    default:
      return 'unknown';
  }
}

function healthOf(state: ServerState): Omni2HealthStatus {
  return state === 'ready' ? 'healthy' : state === 'error' ? 'unhealthy' : 'unknown';
}

export function omni2Row(s: ServerSummary): Omni2ServerRow {
  return {
    name: s.name,
    status: omni2Status(s.state),
    health_status: healthOf(s.state),
    circuit_state: s.circuit,
    state: s.state,
    enabled: s.enabled,
    tool_count: s.tool_count,
    last_error: s.last_error,
    last_health_check: s.connected_at,
  };
}

/** The first message: every server's status. `servers` and `mcps` (OMNI2's name) hold the same rows. */
export function omni2InitialStatus(servers: readonly ServerSummary[], timestamp: string): string {
  const rows = JSON.stringify(servers.map(omni2Row));
  return `{"type":"initial_status","timestamp":${JSON.stringify(timestamp)},"servers":${rows},"mcps":${rows}}`;
}

/** The application-level keepalive OMNI2 dashboards expect. */
export function omni2Ping(timestamp: string): string {
  return JSON.stringify({ type: 'ping', timestamp });
}

function healthEvent(event: BusEvent, eventType: string, severity: string, data: Record<string, unknown>): string {
  return JSON.stringify({
    type: 'health_event',
    timestamp: event.time,
    mcp_name: event.server ?? null,
    event_type: eventType,
    severity,
    data,
  });
}

/** The OMNI2 message for a bus event, or `undefined` when the dialect has nothing to say about it. */
export function omni2Message(event: BusEvent): string | undefined {
  switch (event.type) {
    case 'server_state_changed': {
      const d = event.data;
      const to = omni2Status(d.to);
      return JSON.stringify({
        type: 'mcp_status_change',
        timestamp: event.time,
        data: {
          mcp_name: event.server ?? null,
          old_status: omni2Status(d.from),
          new_status: to,
          old_state: d.from,
          new_state: d.to,
          reason: d.reason,
          error: d.error ?? null,
          severity: to === 'unhealthy' ? 'error' : to === 'disabled' ? 'warning' : 'info',
        },
      });
    }
    case 'circuit_state_changed': {
      const { from, to } = event.data;
      return healthEvent(event, `circuit_${to}`, to === 'open' ? 'error' : to === 'half_open' ? 'warning' : 'info', {
        from,
        to,
      });
    }
    case 'server_auto_disabled': {
      const { reason, failures } = event.data;
      return healthEvent(event, 'auto_disabled', 'error', { reason, failures });
    }
    case 'connection_established': {
      const { protocol, tool_count, duration_ms } = event.data;
      return healthEvent(event, 'recovery', 'info', { protocol, tool_count, duration_ms });
    }
    case 'connection_lost':
      return healthEvent(event, 'failure', 'error', { error: event.data.error });
    case 'system_metrics':
      return JSON.stringify({ type: 'system_metrics', timestamp: event.time, metrics: event.data });
    default:
      return undefined;
  }
}

/** Delivers a bus event to every OMNI2 client in the dialect, framed once for all of them; most events map to none. */
export function deliverOmni2(clients: Iterable<Client>, event: BusEvent): void {
  const msg = omni2Message(event);
  if (msg === undefined) return;
  let frame: Buffer | undefined;
  for (const c of clients) {
    if (event.seq <= c.lastSeq) continue;
    c.lastSeq = event.seq;
    if (c.mode === Mode.Deflate) {
      c.out.offer(msg, msg.length, event.type, 1);
    } else {
      frame ??= frameText(msg);
      c.out.offer(frame, frame.length, event.type, 1);
    }
  }
}

/**
 * Whether a client frame is an OMNI2 ping: the text `ping`, or JSON with `type` or `op` "ping". Anything else is
 * ignored: the dialect has no error frames.
 */
export function isOmni2Ping(text: string): boolean {
  if (text.trim() === 'ping') return true;
  try {
    const msg = JSON.parse(text) as { type?: unknown; op?: unknown } | null;
    return msg?.type === 'ping' || msg?.op === 'ping';
  } catch {
    return false;
  }
}

/** The reply to an OMNI2 ping. */
export function omni2Pong(timestamp: string): string {
  return JSON.stringify({ type: 'pong', timestamp });
}
