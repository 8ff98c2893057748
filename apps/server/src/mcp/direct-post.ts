import { plainJsonRpcMessage } from '@mcpproxy/upstream';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import {
  type JSONRPCMessage,
  type JSONRPCRequest,
  JSONRPCRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/sdk/types.js';

// The direct path of a session POST (issue 15): a single JSON-RPC request whose answer goes back as one JSON body
// skips the SDK transport's `handlePostRequest` (its request info, stream bookkeeping, second message parse and, on
// `/mcp/servers/{name}`, an SSE stream with a keep-alive timer and a separate header write). It is taken only when
// the transport would accept the request as it is; every other POST (a batch, a notification, `initialize`, anything
// the transport would refuse) still goes through the transport, which gives its own answer.

/** Largest body the SDK transport reads (its `DEFAULT_MAX_REQUEST_BODY_SIZE`); a larger one is its 413 to give. */
export const SDK_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The request a session POST carries when the SDK transport would accept it unchanged and it is not `initialize`:
 * Accept lists `application/json` and `text/event-stream` (406 otherwise), Content-Type is JSON (415), the body is one
 * message valid as a JSON-RPC request (the strict schema the transport applies), and `Mcp-Protocol-Version`, when
 * sent, is supported (400). `undefined` sends the request through the transport.
 */
export function directRequest(req: Request, body: unknown): JSONRPCRequest | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  if ((body as { method?: unknown }).method === 'initialize') return undefined;
  const headers = req.headers;
  const accept = headers.get('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!isJsonContentType(headers.get('content-type'))) return undefined;
  const version = headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  // The common request is checked by hand (the schema's parse cost more than the rest of the direct path); a message
  // the hand check accepts is what the schema would return, so the endpoint gets the same message either way.
  const plain = plainJsonRpcMessage(body);
  if (plain !== undefined) return 'method' in plain && 'id' in plain ? plain : undefined;
  const parsed = JSONRPCRequestSchema.safeParse(body);
  return parsed.success ? (parsed.data as JSONRPCRequest) : undefined;
}

/** The answer to one request as the SDK transport gives it in JSON mode. */
export function jsonAnswer(message: JSONRPCMessage, sessionId: string | undefined): Response {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
  return new Response(JSON.stringify(message), { status: 200, headers });
}

/**
 * What a request whose answer will never come gets (its session ended, or the client cancelled it): the event stream
 * the SDK transport would have opened for it, closed without a message (the transport closes its streams when the
 * session ends; a cancelled request's stream it leaves open until the client goes).
 */
export function endedStream(sessionId: string | undefined): Response {
  const headers: Record<string, string> = {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
  };
  if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
  return new Response('', { status: 200, headers });
}

/** The `requestInfo` the transport hands to message handlers, built only if a handler reads it. */
export class LazyRequestInfo {
  #headers: Record<string, string> | undefined;
  #url: URL | undefined;

  constructor(private readonly req: Request) {}

  get headers(): Record<string, string> {
    this.#headers ??= Object.fromEntries(this.req.headers.entries());
    return this.#headers;
  }

  get url(): URL {
    this.#url ??= new URL(this.req.url);
    return this.#url;
  }
}

/** A POST body read once: its text, and the parsed value when the text is JSON (`undefined` when it is not). */
export async function readPostBody(req: Request): Promise<{ text: string; value: unknown }> {
  let text: string;
  try {
    text = await req.text();
  } catch {
    // The client went away mid-body: answered as a body that is not JSON, as the transport answers it.
    return { text: '', value: undefined };
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch {
    return { text, value: undefined };
  }
}

/**
 * Whether the transport must read this body itself to answer it: it is not JSON (the transport's 400), or it is over
 * the transport's own limit (its 413; UTF-8 takes at most 3 bytes per UTF-16 unit, so only a long text is counted).
 */
export function transportAnswers(text: string, value: unknown): boolean {
  return value === undefined || (text.length * 3 > SDK_MAX_BODY_BYTES && Buffer.byteLength(text) > SDK_MAX_BODY_BYTES);
}

/** The same request carrying `text` as its body (the original's body has been read). */
export function withBody(req: Request, text: string): Request {
  return new Request(req.url, { method: req.method, headers: req.headers, body: text });
}
