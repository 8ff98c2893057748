/**
 * The activity log inside the server: opens `activity.db` in the data dir (under the data-dir lock, which `serve()`
 * holds before anything is wired), and turns what the server hears into records — every tool call (from the
 * management service's `onToolCall` and the `/mcp/servers/{name}` passthrough), every management write (with who
 * made it) and server lifecycle steps from the bus. Each feed only queues: the call path never waits on the disk.
 */
import { type ActivityLog, type ActivityStatus, createActivityLog, type Surface } from '@mcpproxy/activity';
import type { ConfigService } from '@mcpproxy/configsvc';
import { type BusEvent, type Clock, type Diagnostic, type Logger, secretValues } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ActionReport, ToolCallOrigin, ToolCallReport } from '@mcpproxy/management';

/** What the server's parts call to record; every method is a no-op when `activity.enabled` is false. */
export interface ServerActivity {
  /** The open log; `undefined` when the activity log is off. */
  readonly log: ActivityLog | undefined;
  /** A call through the management service (`/mcp`, `/mcp/all`, REST, CLI). */
  toolCall(call: ToolCallReport): void;
  /** A call through the `/mcp/servers/{name}` passthrough. */
  passthroughCall(call: PassthroughCallReport): void;
  /** A management write. */
  action(action: ActionReport): void;
  /** Flushes what is queued and closes the database; idempotent. */
  close(): Promise<void>;
}

/** A passthrough tool call once it settled. */
export interface PassthroughCallReport {
  server: string;
  tool: string;
  origin: ToolCallOrigin;
  status: 'ok' | 'error' | 'timeout' | 'rejected';
  duration_ms: number;
  arguments: unknown;
  /** The JSON-RPC result, when there is one. */
  result?: unknown;
  /** The refusal or failure text (`CODE: message`), when there is one. */
  error?: string | undefined;
}

export interface ServerActivityOptions {
  dataDir: string;
  config: Pick<ConfigService, 'snapshot'>;
  bus: Pick<EventBus, 'subscribe'>;
  clock: Clock;
  logger: Logger;
}

/** Lifecycle events worth a row: the ones that answer "what happened to this server". */
const LIFECYCLE = [
  'server_state_changed',
  'server_auto_disabled',
  'connection_lost',
  'circuit_state_changed',
  'tool_quarantine_changed',
] as const;

/** Opens the log (when `activity.enabled`) and subscribes it to the bus. */
export function createServerActivity({ dataDir, config, bus, clock, logger }: ServerActivityOptions): ServerActivity {
  const cfg = config.snapshot().activity;
  if (!cfg.enabled) {
    return { log: undefined, toolCall() {}, passthroughCall() {}, action() {}, close: async () => {} };
  }
  // Secrets of the current config, recomputed only when the snapshot changes.
  let secretsOf: unknown;
  let secrets: readonly string[] = [];
  const log = createActivityLog({
    dir: dataDir,
    clock,
    logger,
    secrets: () => {
      const snap = config.snapshot();
      if (snap !== secretsOf) {
        secretsOf = snap;
        secrets = secretValues(snap);
      }
      return secrets;
    },
    recordPayloads: cfg.record_payloads,
    maxPayload: cfg.max_payload,
    retention: cfg.retention,
    maxSize: cfg.max_size,
  });

  const off = bus.subscribe([...LIFECYCLE, 'config_reloaded'], (event: BusEvent) => {
    const entry = lifecycleEntry(event);
    if (entry) log.record(entry);
  });

  let closed: Promise<void> | undefined;
  return {
    log,
    toolCall(call) {
      const result = call.result;
      log.record({
        server: call.server,
        tool: call.tool,
        surface: call.origin?.surface ?? 'rest',
        session: call.origin?.session,
        client: call.origin?.client,
        status: call.error ? statusOf(call.error.code) : result?.isError === true ? 'error' : 'ok',
        duration_ms: call.duration_ms,
        time: call.started,
        error: call.error ? { code: call.error.code, message: call.error.message } : undefined,
        arguments: call.arguments,
        result: result === undefined ? undefined : (resultText(result.content) ?? result),
      });
    },
    passthroughCall(call) {
      const parsed = call.error ? splitCode(call.error) : undefined;
      log.record({
        server: call.server,
        tool: call.tool,
        surface: call.origin.surface,
        session: call.origin.session,
        client: call.origin.client,
        status: parsed?.code ? passthroughStatus(call.status, parsed.code) : call.status,
        duration_ms: call.duration_ms,
        error: parsed,
        arguments: call.arguments,
        result:
          call.result === undefined
            ? undefined
            : (resultText((call.result as { content?: unknown }).content) ?? call.result),
      });
    },
    action({ operation, server, caller, error }) {
      log.record({
        kind: 'management',
        action: operation,
        server,
        actor: caller?.source === 'cli' ? 'cli' : caller?.source === 'mcp' ? 'mcp' : 'api',
        status: error ? 'error' : 'ok',
        error: error ? { code: error.code, message: error.message } : undefined,
      });
    },
    close() {
      closed ??= (async () => {
        off();
        await log.close();
      })();
      return closed;
    },
  };
}

/** The activity status of a failed call, from its API error code. */
export function statusOf(code: string): ActivityStatus {
  switch (code) {
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'CIRCUIT_OPEN':
      return 'circuit_open';
    case 'TOOL_BLOCKED':
    case 'HUMAN_ONLY':
      return 'blocked';
    case 'NOT_FOUND':
    case 'BAD_REQUEST':
    case 'UPSTREAM_UNAVAILABLE':
      return 'rejected';
    default:
      return 'error';
  }
}

function passthroughStatus(status: PassthroughCallReport['status'], code: string): ActivityStatus {
  if (status === 'timeout') return 'timeout';
  if (status === 'rejected') {
    const s = statusOf(code);
    return s === 'error' ? 'rejected' : s;
  }
  return status;
}

/** `"CODE: message"` → `{code, message}`; text without a code keeps it whole. */
function splitCode(text: string): { code?: string | undefined; message: string } {
  const m = /^([A-Z][A-Z_]+): /.exec(text);
  return m ? { code: m[1], message: text.slice(m[0].length) } : { message: text };
}

/** The text of an MCP result's content when it is text only (the common case), so it reads and searches as text. */
function resultText(content: unknown): string | undefined {
  if (!Array.isArray(content) || content.length === 0) return undefined;
  let text = '';
  for (const part of content) {
    if (typeof part !== 'object' || part === null || (part as { type?: unknown }).type !== 'text') return undefined;
    const t = (part as { text?: unknown }).text;
    if (typeof t !== 'string') return undefined;
    text += text === '' ? t : `\n${t}`;
  }
  return text;
}

function lifecycleEntry(event: BusEvent): Parameters<ActivityLog['record']>[0] | undefined {
  const server = event.server;
  switch (event.type) {
    case 'server_state_changed':
      return {
        kind: 'lifecycle',
        action: 'state_changed',
        server,
        status: event.data.to === 'error' ? 'error' : undefined,
        detail: { from: event.data.from, to: event.data.to, reason: event.data.reason || undefined },
      };
    case 'server_auto_disabled':
    case 'connection_lost':
    case 'circuit_state_changed':
    case 'tool_quarantine_changed': {
      const { summary: _summary, ...detail } = event.data as Record<string, unknown>;
      return { kind: 'lifecycle', action: event.type.replace(/^server_/, ''), server, detail };
    }
    case 'config_reloaded':
      // A hand edit of the config file (`file`) or POST /config/reload (`api`): an action with who made it.
      return {
        kind: 'management',
        action: 'config_reloaded',
        actor: event.data.source,
        status: event.data.ok ? 'ok' : 'error',
        error: event.data.ok ? undefined : { code: 'INVALID_CONFIG', message: event.data.error ?? 'invalid config' },
        detail: event.data.issues ? { issues: event.data.issues } : undefined,
      };
    default:
      return undefined;
  }
}

/** The surface of a REST call: `cli` when the CLI made it (its `X-MCPProxy-Client` header or User-Agent). */
export function restSurface(headers: { get(name: string): string | null | undefined }): Surface {
  const client = headers.get('x-mcpproxy-client');
  if (client === 'cli') return 'cli';
  return /^mcpproxy-cli\//.test(headers.get('user-agent') ?? '') ? 'cli' : 'rest';
}

/** A server needs this many calls in the last hour, at least half failing, before diagnostics flag it. */
const FAILING_MIN_CALLS = 5;

/**
 * `FAILING_CALLS` diagnostics from the last hour of the activity log: servers where at least half of at least
 * five tool calls did not end `ok`. A failed read of the log adds nothing (diagnostics never fail for it).
 */
export async function failingCalls(log: Pick<ActivityLog, 'stats'>, logger: Logger): Promise<Diagnostic[]> {
  try {
    const stats = await log.stats({ groupBy: 'server', window: '1h', bucket: '1h' });
    return stats.groups
      .filter((g) => g.calls >= FAILING_MIN_CALLS && g.errors * 2 >= g.calls)
      .map((g) => ({
        code: 'FAILING_CALLS' as const,
        severity: 'warning' as const,
        server: g.key,
        message: `${g.errors} of ${g.calls} tool calls to "${g.key}" in the last hour did not succeed`,
        fix: `see what failed with \`mcpproxy activity list --server ${g.key} --kind tool_call\` (or GET /api/v1/activity?server=${encodeURIComponent(g.key)})`,
      }));
  } catch (error) {
    logger.warn('diagnostics: reading the activity log failed', { error: String(error) });
    return [];
  }
}
