import { STATUS_CODES } from 'node:http';
import {
  ERROR_STATUS,
  type ErrorCode,
  type Logger,
  type Problem,
  scrubSecrets,
  toValidationIssues,
  type ValidationIssue,
} from '@mcpproxy/contracts';
import { toManagementError } from '@mcpproxy/management';
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { ZodError } from 'zod';

/**
 * An API failure raised by the HTTP layer itself (a bad body, an unknown route, a refused Host). Library errors
 * (ManagementError, ConfigError, ActorError, UpstreamError) are mapped by {@link toProblem} without wrapping.
 */
export class ApiError extends Error {
  readonly issues: readonly ValidationIssue[] | undefined;
  /** An HTTP status more precise than the code's own (415 for `BAD_REQUEST`). @default the code's status */
  readonly status: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: {
      cause?: unknown;
      issues?: readonly ValidationIssue[] | undefined;
      status?: number | undefined;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.issues = options.issues;
    this.status = options.status;
  }
}

/** The API code (docs/rest.md) of a status Hono raised; a 4xx without its own code (415, 405…) is `BAD_REQUEST`, never `INTERNAL`. */
function httpStatusCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN_ORIGIN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    default:
      return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  }
}

/** What an error means to an API client: a code, a message safe to show, and validation issues. */
export interface MappedError {
  code: ErrorCode;
  detail: string;
  issues?: readonly ValidationIssue[] | undefined;
  /** The HTTP status when it is not the code's own (415 `BAD_REQUEST`). */
  status?: number | undefined;
  /** False for errors we did not expect: logged at `error`, and their message is not shown. */
  expected: boolean;
}

const LIBRARY_ERRORS = new Set(['ManagementError', 'ConfigError', 'ActorError', 'UpstreamError']);

/** Maps any thrown value to an API code (docs/rest.md). Unknown errors become `INTERNAL` with a generic detail. */
export function toProblem(error: unknown): MappedError {
  if (error instanceof ApiError) {
    return { code: error.code, detail: error.message, issues: error.issues, status: error.status, expected: true };
  }
  if (error instanceof ZodError || (error instanceof Error && error.name === 'ZodError' && 'issues' in error)) {
    return {
      code: 'BAD_REQUEST',
      detail: 'the request is invalid',
      issues: toValidationIssues(error as ZodError),
      expected: true,
    };
  }
  if (error instanceof HTTPException) {
    if (error.status === 415) {
      // Raised by the OpenAPI validator's media-type gate: the body is not JSON.
      return {
        code: 'BAD_REQUEST',
        detail: 'the body must be JSON: send it with Content-Type: application/json',
        status: 415,
        expected: true,
      };
    }
    const code = httpStatusCode(error.status);
    const status = code === 'BAD_REQUEST' && error.status !== 400 ? error.status : undefined;
    return { code, detail: error.message || 'request failed', status, expected: code !== 'INTERNAL' };
  }
  // Library errors (management, config, actor, upstream) carry closed codes; management owns their mapping to
  // API codes, so REST and MCP answer alike. Matched by name too, since tests may load a second copy of a package.
  if (error instanceof Error && LIBRARY_ERRORS.has(error.name)) {
    const mapped = toManagementError(error);
    return { code: mapped.code, detail: mapped.message, issues: mapped.issues, expected: mapped.code !== 'INTERNAL' };
  }
  return { code: 'INTERNAL', detail: 'internal error', expected: false };
}

/** Builds a problem+json body. */
export function problemBody(
  code: ErrorCode,
  detail: string,
  extra: {
    instance?: string | undefined;
    requestId?: string | undefined;
    issues?: readonly ValidationIssue[] | undefined;
    /** Overrides the code's status (415 `BAD_REQUEST`). */
    status?: number | undefined;
  },
): Problem {
  const status = extra.status ?? ERROR_STATUS[code];
  const body: Problem = { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, code, detail };
  if (extra.instance !== undefined) body.instance = extra.instance;
  if (extra.requestId !== undefined) body.request_id = extra.requestId;
  if (extra.issues && extra.issues.length > 0) body.issues = [...extra.issues];
  return body;
}

/** A problem+json `Response` (for code paths outside Hono, such as the raw Host guard). */
export function problemResponse(
  code: ErrorCode,
  detail: string,
  extra: { instance?: string | undefined; requestId?: string | undefined } = {},
): Response {
  const body = problemBody(code, detail, extra);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (extra.requestId) headers['x-request-id'] = extra.requestId;
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

export interface ErrorHandlerOptions {
  logger: Logger;
  /** Secret values scrubbed from every detail and issue message. @default none */
  secrets?: (() => readonly string[]) | undefined;
}

/** Reads the request id the request-id middleware stored. */
export function requestIdOf(c: Context): string | undefined {
  return c.get('requestId' as never) as string | undefined;
}

/** Most issues one problem lists; the rest are summed up in the detail. */
const MAX_ISSUES = 100;
/** Longest issue path or message shown: both may quote body keys, and a key may be megabytes long. */
const MAX_ISSUE_CHARS = 300;
const clip = (s: string): string => (s.length > MAX_ISSUE_CHARS ? `${s.slice(0, MAX_ISSUE_CHARS)}…` : s);

/**
 * The `instance` of a problem: the pattern of the route that matched (`/api/v1/servers/{name}`), never the raw
 * path, whose segments are request input (a key pasted into a URL would be echoed back). No route matched: none.
 */
function instanceOf(c: Context): string | undefined {
  let pattern: string;
  try {
    pattern = routePath(c, -1);
  } catch {
    return undefined;
  }
  if (pattern === '' || pattern.endsWith('*')) return undefined;
  return pattern.replace(/\/:([A-Za-z0-9_]+)/g, '/{$1}');
}

export interface SendProblemOptions {
  /** Validation issues (at most 100 are listed). */
  issues?: readonly ValidationIssue[] | undefined;
  /** Secret values scrubbed from the detail and the issue messages. @default none */
  secrets?: readonly string[] | undefined;
  /** HTTP status, when not the code's own (415 `BAD_REQUEST`). */
  status?: number | undefined;
}

/** Sends a problem for `code` from inside a handler or middleware. */
export function sendProblem(c: Context, code: ErrorCode, detail: string, options: SendProblemOptions = {}): Response {
  const { secrets = [], status } = options;
  const requestId = requestIdOf(c);
  const scrub = (s: string) => (secrets.length > 0 ? scrubSecrets(s, secrets) : s);
  const all = options.issues ?? [];
  const issues = all.slice(0, MAX_ISSUES).map((i) => ({ ...i, path: clip(i.path), message: clip(scrub(i.message)) }));
  const more = all.length > MAX_ISSUES ? ` (${all.length - MAX_ISSUES} more issues not listed)` : '';
  const body = problemBody(code, scrub(detail) + more, { instance: instanceOf(c), requestId, issues, status });
  return c.body(JSON.stringify(body), body.status as 400, {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  });
}

/** The app's one `onError`: every failure becomes RFC 9457 problem+json with a documented code and the request id. */
export function createErrorHandler({ logger, secrets = () => [] }: ErrorHandlerOptions): ErrorHandler {
  return (error, c) => {
    const mapped = toProblem(error);
    const list = secrets();
    if (!mapped.expected) {
      logger.error('request failed', {
        request_id: requestIdOf(c),
        method: c.req.method,
        path: c.req.path,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    return sendProblem(c, mapped.code, mapped.detail, { issues: mapped.issues, secrets: list, status: mapped.status });
  };
}
