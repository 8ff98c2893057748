import { createBulkOps } from './bulk-ops.js';
import type { Core } from './core.js';
import { createCore } from './core.js';
import { toManagementError } from './errors.js';
import { createGates } from './gates.js';
import { createReads } from './reads.js';
import { createServerOps } from './server-ops.js';
import { createToolSide } from './tools.js';
import type { Caller, ManagementOptions, ManagementService } from './types.js';

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
    ...reported(core, writes),
    ...reported(core, createBulkOps(core, gates, serverOps)),
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

/**
 * Wraps each write so `onAction` hears it once it settled: the operation, the server it names (the first string
 * argument, or `name` of an added entry) and the caller (the last argument).
 */
function reported<T extends object>(core: Core, ops: T): T {
  if (!core.onAction) return ops;
  const onAction = core.onAction;
  const out: Record<string, unknown> = {};
  for (const [operation, fn] of Object.entries(ops)) {
    if (typeof fn !== 'function') {
      out[operation] = fn;
      continue;
    }
    out[operation] = async (...args: unknown[]) => {
      const first = args[0];
      const server =
        typeof first === 'string'
          ? first
          : typeof (first as { name?: unknown } | undefined)?.name === 'string'
            ? (first as { name: string }).name
            : undefined;
      const last = args.at(-1) as Partial<Caller> | undefined;
      const caller = typeof last?.source === 'string' ? (last as Caller) : undefined;
      const tell = (error?: unknown) => {
        try {
          onAction({ operation, server, caller, error: error === undefined ? undefined : toManagementError(error) });
        } catch (e) {
          core.logger.error('management: onAction failed', { error: String(e) });
        }
      };
      try {
        const value = await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        tell();
        return value;
      } catch (error) {
        tell(error);
        throw error;
      }
    };
  }
  return out as T;
}
