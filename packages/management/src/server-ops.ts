import {
  type Config,
  formatValidationIssues,
  jsonEqual,
  parseServerConfig,
  type ServerConfig,
  type ServerSummary,
} from '@mcpproxy/contracts';
import type { Core } from './core.js';
import { ManagementError } from './errors.js';
import type { Gates } from './gates.js';
import { isPlainObject, mergePatch } from './merge.js';
import type { OperationName } from './rules.js';
import type { Caller, ManagementService } from './types.js';

/** Fields that say what is run or reached: an agent changing one sends the server back to quarantine. */
const LAUNCH_FIELDS = ['protocol', 'command', 'args', 'env', 'working_dir', 'url', 'headers'] as const;
/** Tool filters: only a person may change them. */
const FILTER_FIELDS = ['enabled_tools', 'disabled_tools'] as const;

/** The writes on one server, and the two steps the bulk writes reuse. */
export type ServerOps = Pick<ManagementService, Exclude<OperationName, 'enableAll' | 'disableAll' | 'restartAll'>> & {
  /** Restarts one server (no gate): `CONFLICT` while disabled or quarantined; bounded by `commandWaitMs`. */
  restartOne(name: string): Promise<ServerSummary>;
  /** An enable that is not a config change: clears an actor's auto-disable (bounded, like a restart). */
  wake(name: string): Promise<void>;
};

/** The refusal of enabling a quarantined server. */
export const quarantinedError = (name: string) =>
  new ManagementError(
    'CONFLICT',
    `server ${JSON.stringify(name)} is quarantined: a person must approve it (unquarantine) before it can be enabled`,
  );

/** The writes on one server: each goes through `run` (gates) and, for a config change, the config service. */
export function createServerOps(core: Core, { run }: Gates): ServerOps {
  const { config, supervisor, commandWaitMs, summaryOf, requireEntry, requireActor, bounded, applyConfig } = core;

  const findIn = (draft: Config, name: string): ServerConfig => {
    const entry = draft.mcpServers.find((s) => s.name === name);
    if (!entry) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
    return entry;
  };

  /** An enable that is not a config change: clears an actor's auto-disable (bounded, like a restart). */
  const wake = async (name: string): Promise<void> => {
    const actor = supervisor.getActor(name);
    const entry = core.entriesOf(config.snapshot()).get(name);
    if (!actor || !entry?.enabled || entry.quarantined) return;
    const state = actor.getState();
    if (state.auto_disabled === null && state.state !== 'disabled') return;
    await bounded(actor.enable(), commandWaitMs);
  };

  const setFlag = (
    operation: OperationName,
    name: string,
    field: 'enabled' | 'quarantined',
    value: boolean,
    caller: Caller,
  ): Promise<ServerSummary> =>
    run(operation, caller, name, async () => {
      await applyConfig((draft) => {
        const entry = findIn(draft, name);
        if (field === 'enabled' && value && entry.quarantined) throw quarantinedError(name);
        entry[field] = value;
      });
      if (field === 'enabled' && value) await wake(name);
      return summaryOf(name);
    });

  const restartOne = async (name: string): Promise<ServerSummary> => {
    requireEntry(name);
    const actor = requireActor(name);
    const state = actor.getState();
    if (state.quarantined) {
      throw new ManagementError(
        'CONFLICT',
        `server ${JSON.stringify(name)} is quarantined: a person must approve it before it can start`,
      );
    }
    if (!state.enabled || state.state === 'disabled') {
      throw new ManagementError('CONFLICT', `server ${JSON.stringify(name)} is disabled: enable it instead`);
    }
    await bounded(actor.restart(), commandWaitMs);
    return summaryOf(name);
  };

  return {
    restartOne,
    wake,

    addServer: (input, caller) =>
      run('addServer', caller, nameOf(input), async () => {
        if (!isPlainObject(input)) throw new ManagementError('BAD_REQUEST', 'a server entry must be a JSON object');
        const server = parseEntry(input);
        const explicit = (input as { quarantined?: unknown }).quarantined;
        await applyConfig((draft) => {
          if (draft.mcpServers.some((s) => s.name === server.name)) {
            throw new ManagementError('CONFLICT', `a server named ${JSON.stringify(server.name)} already exists`);
          }
          // An agent never skips quarantine; a person may, by saying `quarantined: false` outright.
          const quarantined =
            caller.source === 'mcp' || (typeof explicit === 'boolean' ? explicit : draft.quarantine_enabled);
          draft.mcpServers.push({ ...server, quarantined });
        });
        return summaryOf(server.name);
      }),

    updateServer: (name, patch, caller) =>
      run('updateServer', caller, name, async () => {
        if (!isPlainObject(patch)) throw new ManagementError('BAD_REQUEST', 'a server patch must be a JSON object');
        if (Object.hasOwn(patch, 'name') && patch.name !== name) {
          throw new ManagementError(
            'BAD_REQUEST',
            `a server cannot be renamed (${JSON.stringify(name)} → ${JSON.stringify(patch.name)}); remove it and add it under the new name`,
          );
        }
        await applyConfig((draft) => {
          const i = draft.mcpServers.findIndex((s) => s.name === name);
          if (i < 0) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
          // A plain copy of the draft entry, so the merge never mixes immer proxies into new objects.
          const current = JSON.parse(JSON.stringify(draft.mcpServers[i])) as ServerConfig;
          const merged = mergePatch(current, patch) as Record<string, unknown>;
          merged.name = name;
          const next = parseEntry(merged);
          if (caller.source === 'mcp') {
            if (current.quarantined && !next.quarantined) {
              throw new ManagementError(
                'HUMAN_ONLY',
                'unquarantining a server is human-only: use the REST API, the CLI or the dashboard',
              );
            }
            // A person's tool filter stands: an agent lifting it would call what a person blocked.
            if (FILTER_FIELDS.some((f) => !jsonEqual(current[f], next[f]))) {
              throw new ManagementError(
                'HUMAN_ONLY',
                'changing a server\'s "enabled_tools" / "disabled_tools" is human-only: use the REST API, the CLI or the dashboard',
              );
            }
            // What runs or is reached changed at an agent's request: a person approves it again.
            if (LAUNCH_FIELDS.some((f) => !jsonEqual(current[f], next[f]))) next.quarantined = true;
          }
          draft.mcpServers[i] = next;
        });
        return summaryOf(name);
      }),

    removeServer: (name, caller) =>
      run('removeServer', caller, name, async () => {
        await applyConfig((draft) => {
          const i = draft.mcpServers.findIndex((s) => s.name === name);
          if (i < 0) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(name)} is not configured`);
          draft.mcpServers.splice(i, 1);
        });
      }),

    enableServer: (name, caller) => setFlag('enableServer', name, 'enabled', true, caller),
    disableServer: (name, caller) => setFlag('disableServer', name, 'enabled', false, caller),
    quarantineServer: (name, caller) => setFlag('quarantineServer', name, 'quarantined', true, caller),
    unquarantineServer: (name, caller) => setFlag('unquarantineServer', name, 'quarantined', false, caller),

    restartServer: (name, caller) => run('restartServer', caller, name, () => restartOne(name)),

    approveTools: (name, tools, caller) =>
      run('approveTools', caller, name, async () => {
        requireEntry(name);
        return requireActor(name).approveTools(tools);
      }),
  };
}

/** A server entry from a request; `INVALID_CONFIG` with the issues when it does not validate. */
function parseEntry(input: unknown): ServerConfig {
  const parsed = parseServerConfig(input);
  if (!parsed.ok) {
    throw new ManagementError('INVALID_CONFIG', `invalid server entry:\n${formatValidationIssues(parsed.issues)}`, {
      issues: parsed.issues,
    });
  }
  return parsed.value;
}

function nameOf(input: unknown): string | undefined {
  return isPlainObject(input) && typeof input.name === 'string' ? input.name : undefined;
}
