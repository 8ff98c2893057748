/**
 * What an actor tells the bus (and the log) when something changed. Module functions over the summary the actor
 * just refreshed, so the event shapes read in one place and an actor holds no publisher object (see bench/run.ts,
 * heap). Each event carries the summary; the server's name and tool count are read from it.
 */
import type { CircuitState, Logger, ServerSummary } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ApprovalChange, ListingChanges } from './catalog.js';

/** Where an actor publishes: its bus and logger. */
export interface Outlet {
  bus: EventBus;
  logger: Logger;
}

/** `server_state_changed`: the summary's state is the one entered; `from` is the state shown before. */
export function publishStateChange(
  { bus, logger }: Outlet,
  summary: ServerSummary,
  from: ServerSummary['state'],
  reason: string,
  error: string | undefined,
): void {
  const server = summary.name;
  const to = summary.state;
  logger.info('server state changed', { server, from, to, reason });
  bus.publish({
    type: 'server_state_changed',
    server,
    data: {
      from,
      to,
      reason,
      ...(error === undefined ? {} : { error }),
      retry_count: summary.retry_count,
      next_retry_at: summary.next_retry_at,
      summary,
    },
  });
}

/** `connection_established`, then the listing the connection brought. */
export function publishConnected(
  outlet: Outlet,
  summary: ServerSummary,
  protocol: string,
  durationMs: number,
  listing: ListingChanges | undefined,
): void {
  outlet.bus.publish({
    type: 'connection_established',
    server: summary.name,
    data: { protocol, tool_count: summary.tool_count, duration_ms: durationMs, summary },
  });
  if (listing) publishListing(outlet, summary, listing);
}

/** `connection_lost`. */
export function publishLost({ bus, logger }: Outlet, summary: ServerSummary, error: string): void {
  logger.warn('upstream connection lost', { server: summary.name, error });
  bus.publish({ type: 'connection_lost', server: summary.name, data: { error, summary } });
}

/** `server_auto_disabled`. */
export function publishAutoDisabled({ bus }: Outlet, summary: ServerSummary, reason: string, failures: number): void {
  bus.publish({ type: 'server_auto_disabled', server: summary.name, data: { reason, failures, summary } });
}

/** `circuit_state_changed`. */
export function publishCircuit({ bus, logger }: Outlet, summary: ServerSummary, from: CircuitState, to: CircuitState) {
  logger.info('circuit changed', { server: summary.name, from, to });
  bus.publish({ type: 'circuit_state_changed', server: summary.name, data: { from, to, summary } });
}

/** `tools_updated` when the listing added, removed or changed a tool, then its approval changes. */
export function publishListing(
  outlet: Outlet,
  summary: ServerSummary,
  { added, removed, changed, approvals }: ListingChanges,
): void {
  if (added.length + removed.length + changed.length > 0) {
    outlet.bus.publish({
      type: 'tools_updated',
      server: summary.name,
      data: { tool_count: summary.tool_count, added, removed, changed, summary },
    });
  }
  publishApprovals(outlet, summary, approvals);
}

/** `tool_quarantine_changed` for each change; one that leaves a tool unapproved is logged as a warning. */
export function publishApprovals({ bus, logger }: Outlet, summary: ServerSummary, changes: readonly ApprovalChange[]) {
  for (const c of changes) {
    if (c.to !== 'approved') logger.warn('tool needs approval', { server: summary.name, tool: c.tool, state: c.to });
    bus.publish({
      type: 'tool_quarantine_changed',
      server: summary.name,
      data: {
        tool: c.tool,
        from: c.from,
        to: c.to,
        reason: c.reason,
        ...(c.findings ? { findings: [...c.findings] } : {}),
        summary,
      },
    });
  }
}
