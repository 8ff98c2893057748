import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPClientTransportOptions,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mediaTypeEssence } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializedNotification, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { toJsonRpcMessage } from './jsonrpc.js';
import { SseEventTooLargeError, SseParser } from './sse-parser.js';

/** Default bound of one JSON body or one SSE event of an answer: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

/**
 * Inactivity bound of a POST (no byte while waiting for headers or between body chunks). It is undici's default
 * `headersTimeout`/`bodyTimeout`, so a POST gives up where the SDK's fetch would have.
 */
const IDLE_TIMEOUT_MS = 300_000;

/** Statuses handed back to the SDK's own POST (auth and redirects are its business). */
const DELEGATED = new Set([301, 302, 303, 307, 308, 401, 403]);

/** The SDK internals this transport reads and writes (pinned SDK 1.32.2; the tests fail if they move). */
interface SdkInternals {
  _sessionId?: string | undefined;
  _protocolVersion?: string | undefined;
  _authProvider?: unknown;
  _abortController?: AbortController | undefined;
  _serverRetryMs?: number | undefined;
  _hasCompletedAuthFlow: boolean;
  _lastUpscopingHeader?: string | undefined;
  _startOrAuthSse(options: { resumptionToken?: string | undefined }): Promise<void>;
  _scheduleReconnection(
    options: {
      resumptionToken: string | undefined;
      onresumptiontoken: ((token: string) => void) | undefined;
      replayMessageId: RequestId | undefined;
    },
    attempt?: number,
  ): void;
}

/** Options of {@link LeanStreamableHttpTransport} beyond the SDK's. */
export interface LeanPostOptions {
  /** Sent on every request: the server's headers (after credentials were moved out of the URL). */
  headers: Readonly<Record<string, string>>;
  /** Largest JSON body or SSE event of an answer, in characters. @default DEFAULT_MAX_MESSAGE_SIZE */
  maxMessageSize?: number | undefined;
}

/**
 * The SDK's Streamable HTTP client transport with a lean POST path.
 *
 * The SDK sends every message with `fetch` and reads an SSE answer through web streams (`TextDecoderStream`,
 * `EventSourceParserStream`) and a zod union per message: through an HTTP upstream that cost the proxy about twice
 * the CPU the upstream spent answering. Here an ordinary POST goes out on `node:http(s)` with a keep-alive agent of
 * this transport's own; a JSON answer is parsed once and an SSE answer by {@link SseParser} on the Node stream, each
 * message handed to `onmessage` as soon as its event is complete (progress, logging and server-to-client requests
 * arrive while the call runs). Everything else stays the SDK's: the GET stream, the session DELETE, resumption with
 * `Last-Event-ID` (a POST stream cut before its answer after the server sent event ids is resumed by the SDK's own
 * reconnection), auth (401/403) and redirects (the message is handed to the SDK's `send`, which posts it again: the
 * server refused or moved it, so it did not run), and any send with a `resumptionToken` or an auth provider.
 */
export class LeanStreamableHttpTransport extends StreamableHTTPClientTransport {
  readonly #target: URL;
  readonly #headers: Record<string, string>;
  readonly #maxMessageSize: number;
  readonly #requests = new Set<{ destroy(error?: Error): unknown }>();
  /** Whether the URL is http(s); anything else is left to fetch. */
  readonly #web: boolean;
  #agent: HttpAgent | undefined;
  #closed = false;

  constructor(url: URL, options: StreamableHTTPClientTransportOptions, lean: LeanPostOptions) {
    super(url, options);
    this.#target = url;
    this.#web = url.protocol === 'http:' || url.protocol === 'https:';
    this.#maxMessageSize = lean.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    const headers: Record<string, string> = { 'user-agent': 'node' };
    for (const [name, value] of Object.entries(lean.headers)) headers[name.toLowerCase()] = value;
    this.#headers = headers;
  }

  override async send(message: JSONRPCMessage | JSONRPCMessage[], options?: TransportSendOptions): Promise<void> {
    const sdk = this as unknown as SdkInternals;
    if (options?.resumptionToken || sdk._authProvider || !this.#web) return super.send(message, options);
    let response: IncomingMessage;
    try {
      response = await this.#post(JSON.stringify(message));
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    const sessionId = response.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && sessionId !== '') sdk._sessionId = sessionId;
    if (DELEGATED.has(response.statusCode ?? 0)) {
      response.destroy();
      return super.send(message, options);
    }
    try {
      await this.#answer(response, message, options);
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
  }

  override async close(): Promise<void> {
    this.#closed = true;
    const aborted = abortError();
    for (const request of [...this.#requests]) request.destroy(aborted);
    this.#requests.clear();
    this.#agent?.destroy();
    this.#agent = undefined;
    await super.close();
  }

  #post(body: string): Promise<IncomingMessage> {
    if (this.#closed) return Promise.reject(abortError());
    const sdk = this as unknown as SdkInternals;
    const url = this.#target;
    const https = url.protocol === 'https:';
    this.#agent ??= https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const headers: Record<string, string> = {};
    if (sdk._sessionId) headers['mcp-session-id'] = sdk._sessionId;
    if (sdk._protocolVersion) headers['mcp-protocol-version'] = sdk._protocolVersion;
    Object.assign(headers, this.#headers);
    headers['content-type'] = 'application/json';
    headers.accept = 'application/json, text/event-stream';
    headers['content-length'] = String(Buffer.byteLength(body));
    const options: RequestOptions = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: this.#agent,
    };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(options);
      this.#requests.add(request);
      request.setTimeout(IDLE_TIMEOUT_MS, () => {
        request.destroy(new Error(`no data from the upstream for ${IDLE_TIMEOUT_MS / 1000} s`));
      });
      // Before the response this rejects the send; after it, a broken body is reported on the response stream.
      request.on('error', reject);
      request.once('close', () => this.#requests.delete(request));
      request.once('response', (response) => {
        response.on('error', () => {});
        resolve(response);
      });
      request.end(body);
    });
  }

  async #answer(
    response: IncomingMessage,
    message: JSONRPCMessage | JSONRPCMessage[],
    options: TransportSendOptions | undefined,
  ): Promise<void> {
    const sdk = this as unknown as SdkInternals;
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const text = await readText(response, this.#maxMessageSize).catch(() => null);
      throw new StreamableHTTPError(status, `Error POSTing to endpoint: ${text}`);
    }
    sdk._hasCompletedAuthFlow = false;
    sdk._lastUpscopingHeader = undefined;
    if (status === 202) {
      response.resume();
      if (!Array.isArray(message) && isInitializedNotification(message)) {
        // Through `this`, so a wrapper installed on the instance (the server's session link) sees the open.
        sdk._startOrAuthSse({ resumptionToken: undefined }).catch((error) => this.onerror?.(error));
      }
      return;
    }
    const ids = requestIds(message);
    if (ids.length === 0) {
      response.destroy();
      return;
    }
    const contentType = response.headers['content-type'];
    const type =
      contentType === 'text/event-stream' || contentType === 'application/json'
        ? contentType
        : mediaTypeEssence(contentType);
    if (type === 'text/event-stream') {
      this.#readEvents(response, ids, options?.onresumptiontoken);
    } else if (type === 'application/json') {
      const text = await readText(response, this.#maxMessageSize, 'JSON answer');
      const data: unknown = JSON.parse(text);
      const messages = Array.isArray(data) ? data.map(toJsonRpcMessage) : [toJsonRpcMessage(data)];
      for (const each of messages) this.onmessage?.(each);
    } else {
      response.destroy();
      throw new StreamableHTTPError(-1, `Unexpected content type: ${contentType ?? null}`);
    }
  }

  /** Reads an SSE answer, delivering each message as its event completes; the SDK's resume and error rules. */
  #readEvents(
    response: IncomingMessage,
    ids: RequestId[],
    onresumptiontoken: ((token: string) => void) | undefined,
  ): void {
    const sdk = this as unknown as SdkInternals;
    const unanswered = new Set(ids);
    let lastEventId: string | undefined;
    let resumable = false;
    let answered = false;
    let finished = false;
    const parser = new SseParser({
      maxEventSize: this.#maxMessageSize,
      onRetry: (ms) => {
        sdk._serverRetryMs = ms;
      },
      onEvent: (event) => {
        if (event.id) {
          lastEventId = event.id;
          resumable = true;
          onresumptiontoken?.(event.id);
        }
        if (!event.data || (event.event && event.event !== 'message')) return;
        try {
          const parsed = toJsonRpcMessage(JSON.parse(event.data));
          if ('result' in parsed) answered = true;
          if ('id' in parsed && ('result' in parsed || 'error' in parsed)) unanswered.delete(parsed.id as RequestId);
          this.onmessage?.(parsed);
        } catch (error) {
          this.onerror?.(error as Error);
        }
      },
    });
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      if (error !== undefined) this.onerror?.(new Error(`SSE stream disconnected: ${error}`));
      // As the SDK: a POST stream that sent event ids and ended before its answer is resumed with Last-Event-ID.
      const signal = sdk._abortController?.signal;
      if (resumable && !answered && signal && !signal.aborted && !this.#closed) {
        sdk._scheduleReconnection({ resumptionToken: lastEventId, onresumptiontoken, replayMessageId: undefined }, 0);
      }
    };
    const body = decoded(response);
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => {
      if (finished) return;
      try {
        parser.feed(chunk);
      } catch (error) {
        finished = true;
        response.destroy();
        this.onerror?.(error as Error);
        if (!(error instanceof SseEventTooLargeError)) return;
        // The answer can no longer arrive: fail the requests now rather than at their deadline.
        const text = `${error.message} (the answer was dropped)`;
        for (const id of unanswered) this.onmessage?.({ jsonrpc: '2.0', id, error: { code: -32603, message: text } });
      }
    });
    body.on('end', () => finish());
    body.on('error', (error) => finish(error));
    body.on('close', () => finish(body.readableEnded ? undefined : abortError()));
  }
}

/** The request ids among `message` (the SDK's test: a `method` and a defined `id`). */
function requestIds(message: JSONRPCMessage | JSONRPCMessage[]): RequestId[] {
  const ids: RequestId[] = [];
  for (const each of Array.isArray(message) ? message : [message]) {
    if ('method' in each && 'id' in each && each.id !== undefined) ids.push(each.id);
  }
  return ids;
}

/** The response body, decompressed when the server compressed it anyway (we send no Accept-Encoding). */
function decoded(response: IncomingMessage): Readable {
  const encoding = response.headers['content-encoding']?.trim().toLowerCase();
  const inflate =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!inflate) return response;
  response.on('error', (error) => inflate.destroy(error));
  inflate.on('close', () => response.destroy());
  return response.pipe(inflate);
}

/** The whole body as UTF-8 text (a leading BOM dropped, as fetch's `text()`); rejects past `limit` characters. */
function readText(response: IncomingMessage, limit: number, what = 'error body'): Promise<string> {
  const body = decoded(response);
  body.setEncoding('utf8');
  return new Promise<string>((resolve, reject) => {
    const parts: string[] = [];
    let size = 0;
    body.on('data', (chunk: string) => {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        reject(new Error(`the upstream's ${what} exceeds ${limit} characters`));
        return;
      }
      parts.push(chunk);
    });
    body.on('end', () => {
      const text = parts.length === 1 ? (parts[0] as string) : parts.join('');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    body.on('error', reject);
    body.on('close', () => reject(abortError()));
  });
}

/** The error fetch rejects with when its signal aborts. */
function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
}
