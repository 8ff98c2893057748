import type { BulkResult } from '@mcpproxy/contracts';
import type { Core } from './core.js';
import { toManagementError } from './errors.js';
import type { Gates } from './gates.js';
import { quarantinedError, type ServerOps } from './server-ops.js';
import type { BulkOptions, Caller, ManagementService } from './types.js';

type BulkEntry = BulkResult['results'][string];

/** The writes on every server (of a group): one result per server, never one failure for all. */
export function createBulkOps(
  core: Core,
  { run }: Gates,
  { restartOne, wake }: ServerOps,
): Pick<ManagementService, 'enableAll' | 'disableAll' | 'restartAll'> {
  const { config } = core;

  const targetsOf = ({ group }: BulkOptions): string[] =>
    config
      .snapshot()
      .mcpServers.filter((s) => group === undefined || s.groups.includes(group))
      .map((s) => s.name);

  const setAll = (operation: 'enableAll' | 'disableAll', options: BulkOptions, caller: Caller) =>
    run(operation, caller, undefined, async () => {
      const enabled = operation === 'enableAll';
      const names = targetsOf(options);
      const results = new Map<string, BulkEntry>();
      const changed: string[] = [];
      try {
        // One save for all: a recipe that refuses one server records it and goes on with the others.
        await core.applyConfig((draft) => {
          results.clear();
          changed.length = 0;
          for (const name of names) {
            const entry = draft.mcpServers.find((s) => s.name === name);
            if (!entry) results.set(name, { ok: false, error: `server ${JSON.stringify(name)} is not configured` });
            else if (enabled && entry.quarantined)
              results.set(name, { ok: false, error: quarantinedError(name).message });
            else {
              entry.enabled = enabled;
              changed.push(name);
            }
          }
        });
      } catch (error) {
        const message = toManagementError(error).message;
        for (const name of names) if (!results.has(name)) results.set(name, { ok: false, error: message });
        return bulkResult(names, results);
      }
      await Promise.all(
        changed.map(async (name) => {
          try {
            if (enabled) await wake(name);
            results.set(name, { ok: true });
          } catch (error) {
            results.set(name, { ok: false, error: toManagementError(error).message });
          }
        }),
      );
      return bulkResult(names, results);
    });

  return {
    enableAll: (options, caller) => setAll('enableAll', options ?? {}, caller),
    disableAll: (options, caller) => setAll('disableAll', options ?? {}, caller),

    restartAll: (options, caller) =>
      run('restartAll', caller, undefined, async () => {
        const names = targetsOf(options ?? {});
        const results = new Map<string, BulkEntry>();
        await Promise.all(
          names.map(async (name) => {
            try {
              await restartOne(name);
              results.set(name, { ok: true });
            } catch (error) {
              results.set(name, { ok: false, error: toManagementError(error).message });
            }
          }),
        );
        return bulkResult(names, results);
      }),
  };
}

function bulkResult(names: readonly string[], results: ReadonlyMap<string, BulkEntry>): BulkResult {
  const out: BulkResult = { total: names.length, successful: 0, failed: 0, results: {} };
  for (const name of names) {
    const entry = results.get(name) ?? { ok: false, error: 'not processed' };
    if (entry.ok) out.successful++;
    else out.failed++;
    out.results[name] = entry;
  }
  return out;
}
