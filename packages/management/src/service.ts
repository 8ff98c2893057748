import { createBulkOps } from './bulk-ops.js';
import { createCore } from './core.js';
import { createGates } from './gates.js';
import { createReads } from './reads.js';
import { createServerOps } from './server-ops.js';
import { createToolSide } from './tools.js';
import type { ManagementOptions, ManagementService } from './types.js';

/**
 * Creates the management service. It subscribes to the bus at once; `close()` unsubscribes.
 *
 * The parts, one concern each: `core.ts` (lookups, bounded waits, the config write path), `gates.ts` (human-only
 * rule and gates), `server-ops.ts` (writes on one server), `bulk-ops.ts` (writes on many), `tools.ts` (search index
 * sync, tool calls and statistics), `reads.ts` (status, health, diagnostics).
 */
export function createManagementService(options: ManagementOptions): ManagementService {
  const core = createCore(options);
  const gates = createGates(core);
  const tools = createToolSide(core);
  const serverOps = createServerOps(core, gates);
  const { restartOne: _restartOne, wake: _wake, ...writes } = serverOps;

  const service: ManagementService = {
    allowed(operation, caller) {
      try {
        gates.guard(operation, caller);
        return true;
      } catch {
        return false;
      }
    },
    ...createReads(core, tools),
    ...writes,
    ...createBulkOps(core, gates, serverOps),
    searchTools: tools.searchTools,
    callTool: tools.callTool,
    toolStats: tools.toolStats,

    async close() {
      if (core.closed) return;
      core.close();
      tools.close();
    },

    [Symbol.asyncDispose]: () => service.close(),
  };
  return service;
}
