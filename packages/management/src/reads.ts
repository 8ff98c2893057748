import {
  type Diagnostic,
  maskConfig,
  maskServerConfig,
  type ServerHealth,
  type StatusResponse,
  scrubSecrets,
  secretValues,
} from '@mcpproxy/contracts';
import type { Core } from './core.js';
import { diagnoseServer, sortDiagnostics } from './diagnose.js';
import type { ToolSide } from './tools.js';
import type { ManagementService, ServerDetail } from './types.js';

const STDERR_LINES = 20;

/** The reads: status, servers, health and diagnostics, from the read model, the config and the actors. */
export function createReads(
  core: Core,
  { failures }: Pick<ToolSide, 'failures'>,
): Pick<
  ManagementService,
  'status' | 'listServers' | 'getServer' | 'getServerTools' | 'getServerHealth' | 'runDiagnostics' | 'maskedConfig'
> {
  const { config, supervisor, view, bus, requireEntry, summaryOf } = core;
  return {
    status(): StatusResponse {
      const snap = view.snapshot();
      const servers = { total: snap.servers.length, ready: 0, error: 0, disabled: 0, quarantined: 0 };
      for (const s of snap.servers) {
        if (s.state === 'ready') servers.ready++;
        else if (s.state === 'error') servers.error++;
        else if (s.state === 'disabled') servers.disabled++;
        else if (s.state === 'quarantined') servers.quarantined++;
      }
      return { app: snap.app, listen: config.snapshot().listen, epoch: bus.epoch, seq: bus.seq, servers };
    },

    listServers: () => view.snapshot().servers,

    getServer(name): ServerDetail {
      const entry = requireEntry(name);
      return { summary: summaryOf(name), config: maskServerConfig(entry) };
    },

    getServerTools(name) {
      requireEntry(name);
      return supervisor.getActor(name)?.tools() ?? [];
    },

    getServerHealth(name): ServerHealth {
      requireEntry(name);
      const s = summaryOf(name);
      const secrets = secretValues(config.snapshot());
      const actor = supervisor.getActor(name);
      const tail = actor ? actor.stderrTail().slice(-STDERR_LINES) : [];
      const actorHealth = actor?.health();
      return {
        name,
        state: s.state,
        circuit: s.circuit,
        healthy: s.state === 'ready' && s.circuit === 'closed',
        last_error: s.last_error === null ? null : scrubSecrets(s.last_error, secrets),
        last_ping_at: actorHealth?.last_ping_at ?? null,
        last_ping_ms: actorHealth?.last_ping_ms ?? null,
        retry_count: s.retry_count,
        next_retry_at: s.next_retry_at,
        stderr_tail: tail.map((line) => scrubSecrets(line, secrets)),
      };
    },

    runDiagnostics(): Diagnostic[] {
      const cfg = config.snapshot();
      const entries = core.entriesOf(cfg);
      const secrets = secretValues(cfg);
      const found: Diagnostic[] = [];
      for (const summary of view.snapshot().servers) {
        const entry = entries.get(summary.name);
        if (!entry) continue;
        const actor = supervisor.getActor(summary.name);
        const tools = actor?.tools() ?? [];
        found.push(
          ...diagnoseServer({
            summary,
            entry,
            failureReason: failures.get(summary.name),
            failureCode: actor ? actor.health().last_error_code : null,
            changedTools: tools.filter((t) => t.approval === 'changed').map((t) => t.name),
            pendingTools: tools.filter((t) => t.approval === 'pending').map((t) => t.name),
            secrets,
            initTimeoutMs: entry.init_timeout ?? cfg.init_timeout,
          }),
        );
      }
      return sortDiagnostics(found);
    },

    maskedConfig: () => maskConfig(config.snapshot()),
  };
}
