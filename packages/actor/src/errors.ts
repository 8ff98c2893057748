import type { ErrorCode } from '@mcpproxy/contracts';

/**
 * Why an actor refused or failed a call or a command.
 *
 * | code | meaning | API code |
 * |---|---|---|
 * | `NOT_READY` | the server is not `ready` (connecting, error, disabled, quarantined, stopped) | `UPSTREAM_UNAVAILABLE` |
 * | `CIRCUIT_OPEN` | the circuit is open, or half-open with its one probe in flight; the upstream was not contacted | `CIRCUIT_OPEN` |
 * | `TOOL_NOT_FOUND` | the upstream does not list this tool | `NOT_FOUND` |
 * | `TOOL_DISABLED` | the tool is filtered out by `enabled_tools` / `disabled_tools` | `NOT_FOUND` |
 * | `TOOL_NOT_APPROVED` | the tool is `pending` or `changed` (or held by the scanner) and needs a person's approval | `TOOL_BLOCKED` |
 * | `CALL_TIMEOUT` | the call passed its deadline | `UPSTREAM_TIMEOUT` |
 * | `CALL_FAILED` | the upstream failed the call (transport or protocol error) | `UPSTREAM_UNAVAILABLE` |
 * | `ABORTED` | the caller's signal aborted the call | `UPSTREAM_UNAVAILABLE` |
 * | `STOPPED` | the actor was stopped, disabled, restarted or closed while the call ran | `UPSTREAM_UNAVAILABLE` |
 * | `BUSY` | the mailbox is full; the command was not queued | `UPSTREAM_UNAVAILABLE` |
 */
export type ActorErrorCode =
  | 'NOT_READY'
  | 'CIRCUIT_OPEN'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_DISABLED'
  | 'TOOL_NOT_APPROVED'
  | 'CALL_TIMEOUT'
  | 'CALL_FAILED'
  | 'ABORTED'
  | 'STOPPED'
  | 'BUSY';

/** The one error class of this package; branch on `code`, never on the message. */
export class ActorError extends Error {
  constructor(
    readonly code: ActorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ActorError';
  }
}

/**
 * The API error code (docs/rest.md) of each actor error code, for the server's one `onError`.
 * `TOOL_NOT_APPROVED` maps to `TOOL_BLOCKED` (403): pending, changed or held by the tool scanner until a person approves it.
 */
export const ACTOR_API_CODES: Readonly<Record<ActorErrorCode, ErrorCode>> = Object.freeze({
  NOT_READY: 'UPSTREAM_UNAVAILABLE',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  TOOL_NOT_FOUND: 'NOT_FOUND',
  TOOL_DISABLED: 'NOT_FOUND',
  TOOL_NOT_APPROVED: 'TOOL_BLOCKED',
  CALL_TIMEOUT: 'UPSTREAM_TIMEOUT',
  CALL_FAILED: 'UPSTREAM_UNAVAILABLE',
  ABORTED: 'UPSTREAM_UNAVAILABLE',
  STOPPED: 'UPSTREAM_UNAVAILABLE',
  BUSY: 'UPSTREAM_UNAVAILABLE',
});
