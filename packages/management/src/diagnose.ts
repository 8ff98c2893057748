import type { ActorFailureCode } from '@mcpproxy/actor';
import { type Diagnostic, type ServerConfig, type ServerSummary, scrubSecrets } from '@mcpproxy/contracts';

/** A connect failure the diagnostics can name. */
export type FailureKind = 'COMMAND_NOT_FOUND' | 'INIT_TIMEOUT' | 'AUTH_REQUIRED';

/**
 * Classifies a failure from the actor's structured code (`ServerActor.health().last_error_code`): the kind it names,
 * or `undefined` for a code without a finding of its own (`CONNECT_FAILED`, `CLOSED`, `PING_TIMEOUT`…).
 */
export function failureKindOfCode(code: Exclude<ActorFailureCode, 'UNKNOWN'>): FailureKind | undefined {
  switch (code) {
    case 'COMMAND_NOT_FOUND':
    case 'INIT_TIMEOUT':
    case 'AUTH_REQUIRED':
      return code;
    default:
      return undefined;
  }
}

/**
 * Classifies a connect failure from its message: the fallback of {@link diagnoseServer} when the actor has no code
 * for it (no actor, or a connector failure that carried none). The actor's `reason` is structured and wins
 * (`init_timeout`); for the rest the message is read here, in this one place, against the wording of
 * `@mcpproxy/upstream` and of the actor's own init deadline.
 */
export function classifyFailure(
  reason: string | undefined,
  message: string | null | undefined,
): FailureKind | undefined {
  if (reason === 'init_timeout') return 'INIT_TIMEOUT';
  if (!message) return undefined;
  // @mcpproxy/upstream: `command "x" not found on PATH` (spawn ENOENT → COMMAND_NOT_FOUND).
  if (/\bcommand "[^"]*" not found\b/.test(message) || /\bspawn \S+ ENOENT\b/.test(message)) return 'COMMAND_NOT_FOUND';
  // @mcpproxy/upstream: `<url> requires authentication (HTTP 401)` / `…: the upstream requires authentication`.
  if (/\brequires authentication\b/.test(message) || /\bHTTP 40[13]\b/.test(message)) return 'AUTH_REQUIRED';
  // The connector's own init deadline can fire before the actor's (both get the same bound).
  if (/\bdid not finish connect, initialize and tools\/list within\b/.test(message)) return 'INIT_TIMEOUT';
  if (/\binitialize timed out after\b/.test(message)) return 'INIT_TIMEOUT';
  return undefined;
}

/** What the diagnostics know about one server. */
export interface ServerFacts {
  summary: ServerSummary;
  entry: ServerConfig;
  /** `reason` of the server's last failed attempt (from `server_state_changed`), if it has not connected since. */
  failureReason: string | undefined;
  /** Code of the failure behind the summary's `last_error` (`ServerActor.health()`); `null` without an actor. */
  failureCode: ActorFailureCode | null;
  /** Names of tools in `changed` state. */
  changedTools: readonly string[];
  /** Names of tools in `pending` state. */
  pendingTools: readonly string[];
  /** Secret values to scrub from quoted error text. */
  secrets: readonly string[];
  /** The effective `init_timeout` of the server in ms. */
  initTimeoutMs: number;
}

/** Retries at or past this count are a finding of their own. */
export const REPEATED_FAILURES_THRESHOLD = 3;

const SEVERITY_ORDER: Record<Diagnostic['severity'], number> = { error: 0, warning: 1, info: 2 };

/** Sorts findings by severity (errors first), keeping the order within a severity. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => SEVERITY_ORDER[a.d.severity] - SEVERITY_ORDER[b.d.severity] || a.i - b.i)
    .map(({ d }) => d);
}

function list(names: readonly string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown}, … (${names.length} in all)` : shown;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Every finding for one server. */
export function diagnoseServer(facts: ServerFacts): Diagnostic[] {
  const { summary: s, entry, secrets } = facts;
  const name = s.name;
  const out: Diagnostic[] = [];
  const quote = JSON.stringify(name);

  if (s.quarantined || s.state === 'quarantined') {
    const target = entry.command ? `command ${JSON.stringify([entry.command, ...entry.args].join(' '))}` : 'its URL';
    out.push({
      code: 'QUARANTINED',
      severity: 'warning',
      server: name,
      message: `server ${quote} is quarantined: it has not been started (no command run, no URL contacted) and waits for a person to approve it`,
      fix: `review ${scrubSecrets(target, secrets)}, then approve it: mcpproxy upstream approve ${name} (or POST /api/v1/servers/${name}/unquarantine, or the dashboard)`,
    });
    return out;
  }

  const lastError = s.last_error === null ? null : scrubSecrets(s.last_error, secrets);
  const autoDisabled = s.auto_disabled;
  if (autoDisabled) {
    out.push({
      code: 'AUTO_DISABLED',
      severity: 'error',
      server: name,
      message: `server ${quote} was disabled after ${autoDisabled.failures} consecutive failed connects: ${scrubSecrets(autoDisabled.reason, secrets)}`,
      fix: `fix the cause, then enable it again: mcpproxy upstream enable ${name} (or POST /api/v1/servers/${name}/enable)`,
    });
  }

  const failing = autoDisabled !== null || s.state === 'error' || (s.state === 'connecting' && s.retry_count > 0);
  if (failing) {
    const text = autoDisabled ? scrubSecrets(autoDisabled.reason, secrets) : lastError;
    // A structured code wins; the message is read only when there is none to go by.
    const code = facts.failureCode;
    const kind =
      code !== null && code !== 'UNKNOWN'
        ? failureKindOfCode(code)
        : classifyFailure(autoDisabled ? undefined : facts.failureReason, text);
    if (kind === 'COMMAND_NOT_FOUND') {
      const command = entry.command ?? '';
      out.push({
        code: 'COMMAND_NOT_FOUND',
        severity: 'error',
        server: name,
        message: `server ${quote}: ${text}`,
        fix: `install ${JSON.stringify(command)} or give its absolute path (upstreams get only PATH, HOME, USER, LANG, TERM and the server's own env): PATCH /api/v1/servers/${name} {"command":"/absolute/path/to/${command.split('/').pop() || 'command'}"}`,
      });
    } else if (kind === 'INIT_TIMEOUT') {
      out.push({
        code: 'INIT_TIMEOUT',
        severity: 'error',
        server: name,
        message: `server ${quote} did not finish connect, initialize and tools/list within ${seconds(facts.initTimeoutMs)}${text ? `: ${text}` : ''}`,
        fix: `check that it starts and answers on its own (stderr tail: GET /api/v1/servers/${name}/health), or allow it longer: PATCH /api/v1/servers/${name} {"init_timeout":"${seconds(facts.initTimeoutMs * 2)}"}`,
      });
    } else if (kind === 'AUTH_REQUIRED') {
      out.push({
        code: 'AUTH_REQUIRED',
        severity: 'error',
        server: name,
        message: `server ${quote} requires authentication: ${text}`,
        fix: `give the credentials it expects in "headers": PATCH /api/v1/servers/${name} {"headers":{"Authorization":"Bearer <token>"}}, then mcpproxy upstream restart ${name}`,
      });
    }
    if (!autoDisabled && s.retry_count >= REPEATED_FAILURES_THRESHOLD) {
      out.push({
        code: 'REPEATED_FAILURES',
        severity: 'warning',
        server: name,
        message: `server ${quote} failed ${s.retry_count} consecutive connects${lastError ? ` (last: ${lastError})` : ''}${s.next_retry_at ? `; next retry at ${s.next_retry_at}` : ''}`,
        fix: `read its stderr tail (GET /api/v1/servers/${name}/health), fix the cause, then retry at once: mcpproxy upstream restart ${name}`,
      });
    }
  }

  if (s.changed_tools > 0) {
    const names = facts.changedTools.length > 0 ? ` (${list(facts.changedTools)})` : '';
    out.push({
      code: 'CHANGED_TOOLS',
      severity: 'error',
      server: name,
      message: `${s.changed_tools} tool(s) of ${quote} changed since they were approved${names}: they are hidden and refused until a person approves them again`,
      fix: `review the changes (mcpproxy upstream tools ${name}, or GET /api/v1/servers/${name}/tools), then approve: POST /api/v1/servers/${name}/tools/approve {"tools":${JSON.stringify(facts.changedTools)}}`,
    });
  }
  if (s.pending_tools > 0) {
    const names = facts.pendingTools.length > 0 ? ` (${list(facts.pendingTools)})` : '';
    out.push({
      code: 'PENDING_TOOLS',
      severity: 'warning',
      server: name,
      message: `${s.pending_tools} new tool(s) of ${quote} wait for approval${names}: they are hidden and refused until then`,
      fix: `review them (mcpproxy upstream tools ${name}, or GET /api/v1/servers/${name}/tools), then approve: POST /api/v1/servers/${name}/tools/approve {"tools":${JSON.stringify(facts.pendingTools)}}`,
    });
  }
  return out;
}
