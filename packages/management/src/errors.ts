import { ACTOR_API_CODES, ActorError, type ActorErrorCode } from '@mcpproxy/actor';
import { ConfigError, type ConfigErrorCode } from '@mcpproxy/configsvc';
import {
  type ErrorCode,
  statusOf,
  UpstreamError,
  type UpstreamErrorCode,
  type ValidationIssue,
} from '@mcpproxy/contracts';
import type { ManagementErrorCode } from './types.js';

export interface ManagementErrorOptions {
  /** The error this one stands for (a `ConfigError`, an `ActorError`, …). @default none */
  cause?: unknown;
  /** For `INVALID_CONFIG`: each broken rule with its JSON path. @default none */
  issues?: readonly ValidationIssue[] | undefined;
}

/**
 * The one error of `@mcpproxy/management`. `code` is an API error code (docs/rest.md), so the server maps every
 * failure of every surface (REST, CLI, MCP) in one place; `status` is its HTTP status. Match on `code`, never
 * on the message.
 */
export class ManagementError extends Error {
  /** For `INVALID_CONFIG`: what is wrong, with paths relative to what the caller sent. */
  readonly issues: readonly ValidationIssue[] | undefined;

  constructor(
    readonly code: ManagementErrorCode,
    message: string,
    { cause, issues }: ManagementErrorOptions = {},
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ManagementError';
    this.issues = issues;
  }

  /** The HTTP status of `code`. */
  get status(): number {
    return statusOf(this.code);
  }
}

/** How each `ConfigError` code reads to an API caller. */
const CONFIG_API_CODES: Readonly<Record<ConfigErrorCode, ErrorCode>> = Object.freeze({
  INVALID_CONFIG: 'INVALID_CONFIG',
  CONFLICT: 'CONFLICT',
  READ_ONLY: 'READ_ONLY',
  MANAGEMENT_DISABLED: 'MANAGEMENT_DISABLED',
  CONFIG_WRITE_FAILED: 'INTERNAL',
  CONFIG_READ_FAILED: 'INTERNAL',
  CLOSED: 'INTERNAL',
});

/** How each `UpstreamError` code reads to an API caller (for errors that come straight from a connection). */
const UPSTREAM_API_CODES: Readonly<Record<UpstreamErrorCode, ErrorCode>> = Object.freeze({
  COMMAND_NOT_FOUND: 'UPSTREAM_UNAVAILABLE',
  CONNECT_FAILED: 'UPSTREAM_UNAVAILABLE',
  INIT_TIMEOUT: 'UPSTREAM_TIMEOUT',
  AUTH_REQUIRED: 'UPSTREAM_UNAVAILABLE',
  CALL_TIMEOUT: 'UPSTREAM_TIMEOUT',
  CALL_FAILED: 'UPSTREAM_UNAVAILABLE',
  CLOSED: 'UPSTREAM_UNAVAILABLE',
  ABORTED: 'UPSTREAM_UNAVAILABLE',
  PROTOCOL_ERROR: 'UPSTREAM_UNAVAILABLE',
});

/** `instanceof`, or the same class from another copy of its package (matched by `name` and a known `code`). */
function isCoded<C extends string>(
  error: unknown,
  type: abstract new (...args: never[]) => Error,
  name: string,
  codes: Readonly<Record<C, unknown>>,
): error is Error & { code: C } {
  if (error instanceof type) return true;
  if (!(error instanceof Error) || error.name !== name) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(codes, code);
}

/**
 * Turns any failure into a {@link ManagementError}: `ConfigError` and `ActorError` codes are mapped (the latter
 * through the actor's `ACTOR_API_CODES`), `UpstreamError` codes too, and anything else becomes `INTERNAL` with
 * the original kept as `cause`. A `ManagementError` is returned as it is.
 */
export function toManagementError(error: unknown): ManagementError {
  if (error instanceof ManagementError) return error;
  if (isCoded<ConfigErrorCode>(error, ConfigError, 'ConfigError', CONFIG_API_CODES)) {
    const issues = (error as { issues?: readonly ValidationIssue[] | undefined }).issues;
    return new ManagementError(CONFIG_API_CODES[error.code] ?? 'INTERNAL', error.message, { cause: error, issues });
  }
  if (isCoded<ActorErrorCode>(error, ActorError, 'ActorError', ACTOR_API_CODES)) {
    return new ManagementError(ACTOR_API_CODES[error.code] ?? 'INTERNAL', error.message, { cause: error });
  }
  if (isCoded<UpstreamErrorCode>(error, UpstreamError, 'UpstreamError', UPSTREAM_API_CODES)) {
    return new ManagementError(UPSTREAM_API_CODES[error.code] ?? 'INTERNAL', error.message, { cause: error });
  }
  const message = error instanceof Error ? error.message || error.name : String(error);
  return new ManagementError('INTERNAL', message, { cause: error });
}
