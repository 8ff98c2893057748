import type { ServerSummary } from '@mcpproxy/contracts';

export function summary(name: string, patch: Partial<ServerSummary> = {}): ServerSummary {
  return {
    name,
    protocol: 'stdio',
    enabled: true,
    quarantined: false,
    groups: [],
    state: 'idle',
    circuit: 'closed',
    tool_count: 0,
    retry_count: 0,
    next_retry_at: null,
    connected_at: null,
    last_error: null,
    auto_disabled: null,
    pending_tools: 0,
    changed_tools: 0,
    ...patch,
  };
}

export function stateChanged(server: string, to: ServerSummary['state'] = 'connecting') {
  return {
    type: 'server_state_changed' as const,
    server,
    data: { from: 'idle' as const, to, reason: 'test', retry_count: 0, summary: summary(server, { state: to }) },
  };
}
