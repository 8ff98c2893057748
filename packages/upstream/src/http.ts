import { scrubSecrets, UpstreamError } from '@mcpproxy/contracts';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LeanStreamableHttpTransport } from './lean-http.js';

export type HttpKind = 'streamable-http' | 'sse';

/**
 * Moves credentials out of the URL: fetch refuses URLs with user info, so `http://user:pass@host/` becomes
 * `http://host/` plus a Basic `Authorization` header (unless the server's headers already carry one).
 */
export function splitCredentials(
  url: URL,
  headers: Readonly<Record<string, string>>,
): { url: URL; headers: Record<string, string> } {
  if (url.username === '' && url.password === '') return { url, headers: { ...headers } };
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  const out = { ...headers };
  if (!Object.keys(out).some((k) => k.toLowerCase() === 'authorization')) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    out.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return { url: bare, headers: out };
}

/**
 * A function that masks `secrets` (header and env values, URL credentials and query values) in free text, for
 * error messages built from what an upstream or the network said. Values under 4 characters are left alone.
 */
export function secretScrubber(secrets: Iterable<string>): (text: string) => string {
  const list = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => scrubSecrets(text, list);
}

/** The secret-bearing parts of a URL: its password, user name and query values, raw and decoded. */
export function urlSecrets(url: URL): string[] {
  const out = [url.password, url.username, ...url.searchParams.values()];
  for (const v of [url.password, url.username]) {
    try {
      out.push(decodeURIComponent(v));
    } catch {
      // Not valid percent-encoding: the raw form is already listed.
    }
  }
  return out;
}

/** The same error with secrets masked in its message (the same object when nothing needed masking). */
export function scrubError(error: UpstreamError, scrub: (text: string) => string): UpstreamError {
  const message = scrub(error.message);
  return message === error.message ? error : new UpstreamError(error.code, message, { cause: error.cause });
}

/** How an HTTP transport reaches its upstream. */
export interface HttpTransportOptions {
  /** Sent on every request (after {@link splitCredentials}). */
  headers: Readonly<Record<string, string>>;
  /** The fetch underneath {@link ownSignalFetch}. */
  fetch: typeof fetch;
  /**
   * Send Streamable HTTP POSTs on `node:http(s)` ({@link LeanStreamableHttpTransport}) instead of `fetch`; the GET
   * stream, DELETE, auth and redirects still go through `fetch`. Off when the caller injected its own fetch.
   */
  lean?: boolean | undefined;
  /** Largest JSON body or SSE event of a lean POST's answer, in characters. */
  maxMessageSize?: number | undefined;
}

/**
 * Opens (but does not start) an HTTP transport that sends `headers` on every request, and gives every fetch its
 * own abort signal (see {@link ownSignalFetch}).
 */
export function createHttpTransport(
  kind: HttpKind,
  url: URL,
  { headers, fetch, lean = false, maxMessageSize }: HttpTransportOptions,
): StreamableHTTPClientTransport | SSEClientTransport {
  const options = { requestInit: { headers: { ...headers } }, fetch: ownSignalFetch(fetch) };
  if (kind === 'sse') return new SSEClientTransport(url, options);
  return lean
    ? new LeanStreamableHttpTransport(url, options, { headers, maxMessageSize })
    : new StreamableHTTPClientTransport(url, options);
}

/**
 * Wraps `base` so that no request hands the caller's `signal` to `base` itself.
 *
 * The SDK's HTTP transports pass one `AbortSignal`, owned by the transport, to every fetch they make. Node's fetch
 * (undici) adds an abort listener to that signal per request and drops it only when the request is garbage
 * collected, so a long-lived connection collects thousands of listeners: Node warns (MaxListenersExceeded) after
 * about 1,500 requests and every abort gets slower. Here each request gets a fresh controller instead. The caller's
 * signal carries one listener for all of its requests, which aborts those still in flight, and a request leaves that
 * set once its response body is read to the end, cancelled or errored — not when its headers arrive, so closing a
 * transport still cancels a streamed response (an SSE answer to a POST, the standalone GET stream).
 */
export function ownSignalFetch(base: typeof fetch): typeof fetch {
  const inFlight = new WeakMap<AbortSignal, Set<AbortController>>();
  const track = (shared: AbortSignal, own: AbortController): (() => void) => {
    let set = inFlight.get(shared);
    if (!set) {
      const requests = new Set<AbortController>();
      shared.addEventListener(
        'abort',
        () => {
          for (const controller of requests) controller.abort(shared.reason);
          requests.clear();
        },
        { once: true },
      );
      inFlight.set(shared, requests);
      set = requests;
    }
    const requests = set;
    requests.add(own);
    return () => requests.delete(own);
  };
  return async (input, init) => {
    const shared = init?.signal;
    if (!shared) return base(input, init);
    const own = new AbortController();
    if (shared.aborted) {
      own.abort(shared.reason);
      return base(input, { ...init, signal: own.signal });
    }
    const release = track(shared, own);
    let response: Response;
    try {
      response = await base(input, { ...init, signal: own.signal });
    } catch (error) {
      release();
      throw error;
    }
    if (response.body === null) {
      release();
      return response;
    }
    return releasingWhenRead(response, response.body, release);
  };
}

/** The same response, whose body calls `release` once it is read to the end, cancelled or errored. */
function releasingWhenRead(response: Response, body: ReadableStream<Uint8Array>, release: () => void): Response {
  const reader = body.getReader();
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  const copy = new Response(tracked, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // A constructed response has no URL; the SDK names the final URL when it reports a redirect it did not follow.
  Object.defineProperty(copy, 'url', { value: response.url });
  return copy;
}

/** The server's `url`, parsed; `CONNECT_FAILED` when it has none or it does not parse. */
export function parseServerUrl(server: { name: string; url?: string | undefined }): URL {
  if (!server.url) throw new UpstreamError('CONNECT_FAILED', `"${server.name}" has no url to connect to`);
  try {
    return new URL(server.url);
  } catch (error) {
    throw new UpstreamError('CONNECT_FAILED', `"${server.name}" has an invalid url`, { cause: error });
  }
}

/**
 * A URL fit for messages and logs: no user info, and query values masked (they often carry API keys).
 * Header values never reach a message at all.
 */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  for (const key of new Set(copy.searchParams.keys())) copy.searchParams.set(key, '***');
  return copy.href;
}

/** The HTTP status an SDK transport error carries, if any. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof StreamableHTTPError || error instanceof SseError) return error.code;
  return undefined;
}

/** Whether the upstream asked for credentials (401/403, or the SDK's auth flow gave up). */
export function isAuthError(error: unknown): boolean {
  if (error instanceof UnauthorizedError) return true;
  const status = httpStatusOf(error);
  return status === 401 || status === 403;
}

/** A network-level failure (refused, unreachable, DNS, reset), found anywhere in the cause chain. */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/** The most specific message in an error's cause chain. */
export function describeError(error: unknown): string {
  let current: unknown = error;
  let message = String(error);
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current.message) message = current.message;
    current = current.cause;
  }
  return message;
}

/**
 * Whether `auto` should retry a failed Streamable HTTP attempt over legacy SSE: the server answered, but not as a
 * Streamable HTTP endpoint (404, 405, 400, an unexpected content type…). A refused connection, a timeout or an
 * auth demand would fail the same way over SSE, so those do not fall back.
 */
export function shouldFallBackToSse(error: unknown): boolean {
  return !isAuthError(error) && networkCode(error) === undefined;
}

/** Maps a failed HTTP connect attempt to `AUTH_REQUIRED` or `CONNECT_FAILED`, naming the URL but no header. */
export function connectError(kind: HttpKind, url: URL, error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const where = redactUrl(url);
  const label = kind === 'sse' ? 'SSE' : 'Streamable HTTP';
  if (isAuthError(error)) {
    const status = httpStatusOf(error);
    return new UpstreamError(
      'AUTH_REQUIRED',
      `${where} requires authentication${status ? ` (HTTP ${status})` : ''}; check the server's headers`,
      { cause: error },
    );
  }
  const code = networkCode(error);
  const detail = code === 'ECONNREFUSED' ? 'connection refused (ECONNREFUSED)' : describeError(error);
  return new UpstreamError('CONNECT_FAILED', `${label} connection to ${where} failed: ${detail}`, { cause: error });
}
