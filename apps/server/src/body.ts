import { formatPath } from '@mcpproxy/contracts';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './problems.js';

// Request bodies at the edge: what a JSON route accepts (media type, syntax, shape bounds), and what happens to a
// body no route read (it is drained, so the keep-alive connection it came on stays usable).

/** Deepest nesting of objects and arrays a JSON body may have (the root object is depth 1). */
export const MAX_JSON_DEPTH = 64;

/** Longest issue path echoed in a problem (a key may be megabytes long). */
const MAX_PATH_CHARS = 200;

/** The media types the JSON routes accept: `application/json` and `application/*+json` (merge-patch). */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** Whether a `Content-Type` value names JSON (parameters such as `charset` ignored). */
export function isJsonContentType(value: string): boolean {
  return JSON_MEDIA_TYPE.test(value.split(';', 1)[0]?.trim() ?? '');
}

const shortPath = (path: readonly (string | number)[]): string => {
  const text = formatPath([...path]);
  return text.length > MAX_PATH_CHARS ? `${text.slice(0, MAX_PATH_CHARS)}…` : text;
};

/**
 * The first place where a parsed JSON value breaks a bound: nesting deeper than {@link MAX_JSON_DEPTH}, or a number
 * that overflowed to ±Infinity (`1e999`). Walks iteratively, so no input can overflow the stack here (serialising
 * such a value later, to an upstream, would: `JSON.stringify` recurses).
 */
export function jsonBoundIssue(value: unknown): { path: string; rule: string; message: string } | undefined {
  // Each node keeps its parent and key instead of a copy of its path: a 4 MiB array holds a million values.
  type Node = { value: unknown; depth: number; key?: string | number; parent?: Node };
  const pathOf = (node: Node): string => {
    const path: (string | number)[] = [];
    for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) path.unshift(n.key);
    return shortPath(path);
  };
  const stack: Node[] = [{ value, depth: 0 }];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const v = node.value;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      return { path: pathOf(node), rule: 'finite', message: 'is a number too large to represent' };
    }
    if (typeof v !== 'object' || v === null) continue;
    if (node.depth >= MAX_JSON_DEPTH) {
      return {
        path: pathOf(node),
        rule: 'max_depth',
        message: `nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
      };
    }
    const depth = node.depth + 1;
    const children: Iterable<[string | number, unknown]> = Array.isArray(v) ? v.entries() : Object.entries(v);
    for (const [key, child] of children) stack.push({ value: child, depth, key, parent: node });
  }
  return undefined;
}

/**
 * Route middleware of every JSON route, run before its schema: refuses a body that is not JSON with HTTP 415 (code
 * `BAD_REQUEST`, as the API has no media-type code), and an empty, malformed, too deep or overflowing body with 400
 * `BAD_REQUEST` and the path of the offending value. The zod validator after it re-reads the cached text.
 * @param required whether the route needs a body (an optional one may be left out, with or without Content-Type)
 */
export function jsonBody(required: boolean): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header('content-type');
    const text = await c.req.text();
    if (type === undefined || type.trim() === '') {
      if (text.length === 0) {
        if (required) throw badBody('', 'required', 'a JSON body is required');
        return next();
      }
      throw unsupported(c);
    }
    if (!isJsonContentType(type)) throw unsupported(c);
    if (text.trim().length === 0) throw badBody('', 'required', 'the body is empty: a JSON value is required');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // The parser's message quotes the body; it is not echoed back.
      throw badBody('', 'json_syntax', 'the body is not valid JSON');
    }
    const issue = jsonBoundIssue(value);
    if (issue) throw new ApiError('BAD_REQUEST', 'the body is out of bounds', { issues: [issue] });
    return next();
  };
}

function badBody(path: string, rule: string, message: string): ApiError {
  return new ApiError('BAD_REQUEST', message, { issues: [{ path, rule, message }] });
}

/** HTTP 415 with the media types this method accepts (RFC 9110 §15.5.16; Accept-Patch from RFC 5789). */
function unsupported(c: Context): ApiError {
  if (c.req.method === 'PATCH') c.header('accept-patch', 'application/json, application/merge-patch+json');
  else c.header('accept-post', 'application/json');
  return new ApiError('BAD_REQUEST', 'the body must be JSON: send it with Content-Type: application/json', {
    status: 415,
  });
}

/**
 * The request body limit: `onTooLarge` answers a body over `maxBytes`. GET and HEAD carry no body. A body of declared
 * length that came through the Node adapter is judged by its Content-Length alone, as hono's `bodyLimit` judges it
 * (the adapter's request always has a body stream), without reading `req.body`: that makes the adapter build a full
 * web `Request` around the socket (a stream, an AbortSignal), which costs more than the rest of a cached read, and a
 * route that reads the body (an MCP POST) reads it straight from the socket instead (issue 15). A chunked body, or a
 * request made without the adapter (`app.request()`), is `bodyLimit`'s.
 */
export function bodySizeLimit(
  maxBytes: number,
  onTooLarge: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && fromNodeAdapter(c) && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length || '0', 10) > maxBytes ? onTooLarge(c) : next();
    }
    return limit(c, next);
  };
}

/** Whether the request came through `@hono/node-server` (which passes the Node request as `env.incoming`). */
function fromNodeAdapter(c: Context): boolean {
  return (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
}

/**
 * Sets a header on the finished response in place. `c.header()` after the handler would copy the response first,
 * turning the Node adapter's lightweight response (a string body written in one go) into a full web `Response` with
 * a body stream; only a response whose headers are immutable (one passed through from `fetch`) is copied.
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const headers = c.res.headers;
  if (headers.get(name) === value) return;
  try {
    headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

/**
 * Reads and discards a request body that no route read, up to `maxBytes`, so the next request on the same
 * keep-alive connection parses cleanly. Without it the Node adapter gives an unread body 500 ms to drain and then
 * cuts the connection. A body that is larger (a 413, or a refusal sent before the limit applied) is not read: the
 * answer says `Connection: close` so the client opens a new connection instead of finding this one cut.
 */
export function drainUnreadBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const method = c.req.method;
    const length = c.req.header('content-length');
    const declared = length === undefined ? undefined : Number(length);
    const chunked = c.req.header('transfer-encoding') !== undefined;
    if (method === 'GET' || method === 'HEAD') {
      // Node discards a GET body itself; only one too large to wait for ends the connection.
      if (chunked || (declared !== undefined && declared > maxBytes)) closeAfter(c);
      return;
    }
    if (!chunked && (declared === undefined || declared === 0)) return;
    if (!chunked && declared !== undefined && declared > maxBytes) {
      closeAfter(c);
      return;
    }
    const raw = c.req.raw;
    if (raw.bodyUsed || raw.body === null || Object.keys(c.req.bodyCache).length > 0) return;
    const reader = raw.body.getReader();
    let read = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        read += value.byteLength;
        if (read > maxBytes) {
          await reader.cancel().catch(() => {});
          closeAfter(c);
          return;
        }
      }
    } catch {
      // The client went away mid-body: nothing left to keep alive.
      closeAfter(c);
    }
  };
}

function closeAfter(c: Context): void {
  try {
    c.res.headers.set('connection', 'close');
  } catch {
    // A response with immutable headers (e.g. one passed through from fetch) is copied.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set('connection', 'close');
  }
}
