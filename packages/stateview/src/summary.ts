import type { ServerSummary } from '@mcpproxy/contracts';

/**
 * A complete ServerSummary for tests and seeding: a stdio server that is enabled, not quarantined, `idle`, with a
 * `closed` circuit, no groups, no tools, no retries and no errors, with `patch` laid over it. `name` always wins
 * over `patch.name`. Keys come in the documented order (ServerSummary in docs/rest.md); the result is a fresh, unfrozen object whose
 * `groups` array is a copy.
 */
export function makeSummary(name: string, patch: Partial<ServerSummary> = {}): ServerSummary {
  return {
    name,
    protocol: patch.protocol ?? 'stdio',
    enabled: patch.enabled ?? true,
    quarantined: patch.quarantined ?? false,
    groups: [...(patch.groups ?? [])],
    state: patch.state ?? 'idle',
    circuit: patch.circuit ?? 'closed',
    tool_count: patch.tool_count ?? 0,
    retry_count: patch.retry_count ?? 0,
    next_retry_at: patch.next_retry_at ?? null,
    connected_at: patch.connected_at ?? null,
    last_error: patch.last_error ?? null,
    auto_disabled: patch.auto_disabled ?? null,
    pending_tools: patch.pending_tools ?? 0,
    changed_tools: patch.changed_tools ?? 0,
  };
}
