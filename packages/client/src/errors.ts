import { ERROR_CODES, type ErrorCode } from '@mcpproxy/contracts';

/**
 * What went wrong: one of the server's problem+json codes (docs/rest.md), or a failure on the client's side —
 * `UNREACHABLE` (no answer: the server is not running, or the network failed), `TIMEOUT` (no answer in time),
 * `BAD_RESPONSE` (an answer that is not what the API documents).
 */
export type ClientErrorCode = ErrorCode | 'HUMAN_ONLY' | 'TOOL_BLOCKED' | 'UNREACHABLE' | 'TIMEOUT' | 'BAD_RESPONSE';

const SERVER_CODES = new Set<string>([...ERROR_CODES, 'HUMAN_ONLY', 'TOOL_BLOCKED']);

/** One validation issue of a `BAD_REQUEST` or `INVALID_CONFIG` problem. */
export interface ClientIssue {
  path: string;
  rule: string;
  message: string;
}

/** Every failure of the REST client: an error answer from the server, or no usable answer at all. */
export class ClientError extends Error {
  /** HTTP status of the answer; `0` when there was none (`UNREACHABLE`, `TIMEOUT`). */
  readonly status: number;
  /** The problem's `detail` (or a description of the client-side failure). */
  readonly detail: string;
  /** Validation issues, when the server sent some. */
  readonly issues: readonly ClientIssue[] | undefined;
  /** The server's `request_id`, to quote in a bug report. */
  readonly requestId: string | undefined;
  /** The request that failed, e.g. `POST /servers/github/enable` (path under `/api/v1`). */
  readonly request: string | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options: {
      status?: number | undefined;
      detail?: string | undefined;
      issues?: readonly ClientIssue[] | undefined;
      requestId?: string | undefined;
      request?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.status = options.status ?? 0;
    this.detail = options.detail ?? message;
    this.issues = options.issues;
    this.requestId = options.requestId;
    this.request = options.request;
  }
}

/** Whether `code` is one the server sends (as opposed to a client-side failure). */
export function isServerCode(code: string): code is ClientErrorCode {
  return SERVER_CODES.has(code);
}

/** A status's code, for error answers that are not problem+json (a proxy in between, an old server). */
function codeOfStatus(status: number): ClientErrorCode {
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN_ORIGIN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 422) return 'INVALID_CONFIG';
  if (status === 503) return 'UPSTREAM_UNAVAILABLE';
  if (status === 504) return 'UPSTREAM_TIMEOUT';
  return 'INTERNAL';
}

/** Turns an error answer into a {@link ClientError}: the problem's code when it has a known one, else by status. */
export function errorFromResponse(status: number, body: unknown, what: string): ClientError {
  const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const rawCode = typeof problem.code === 'string' ? problem.code : undefined;
  const code = rawCode && isServerCode(rawCode) ? rawCode : codeOfStatus(status);
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : `HTTP ${status}`;
  const issues = Array.isArray(problem.issues) ? (problem.issues as ClientIssue[]) : undefined;
  const requestId = typeof problem.request_id === 'string' ? problem.request_id : undefined;
  return new ClientError(code, `${what}: ${code} (${status}): ${detail}`, {
    status,
    detail,
    issues,
    requestId,
    request: what,
  });
}
