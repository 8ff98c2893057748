import type { ServerSummary } from '@mcpproxy/contracts';
import { serverSummary } from '@mcpproxy/testkit';

export function stateChanged(server: string, to: ServerSummary['state'] = 'connecting') {
  return {
    type: 'server_state_changed' as const,
    server,
    data: { from: 'idle' as const, to, reason: 'test', retry_count: 0, summary: serverSummary(server, { state: to }) },
  };
}
