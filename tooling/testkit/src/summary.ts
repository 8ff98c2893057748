import type { ServerSummary } from '@mcpproxy/contracts';

/**
 * A valid `ServerSummary` for tests: idle, enabled, closed circuit, zero counters, with `patch` laid over it.
 * For packages below `@mcpproxy/stateview`; the others use its exported `makeSummary`.
 */
export function serverSummary(name: string, patch: Partial<ServerSummary> = {}): ServerSummary {
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
