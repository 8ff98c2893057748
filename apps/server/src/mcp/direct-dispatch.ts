import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  ErrorCode,
  type JSONRPCErrorResponse,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  McpError,
  RELATED_TASK_META_KEY,
} from '@modelcontextprotocol/sdk/types.js';
import { type Handler, registeredHandler } from './invalid-params.js';

// Own dispatch of `tools/call` on the direct path of `/mcp` and `/mcp/all` (issue 15). The SDK's protocol layer
// (`Protocol._onrequest`) wraps every request in a promise chain, an AbortController kept in a map, and a dozen
// closures and task lookups of its `extra`; for a plain `tools/call` of these endpoints none of that does anything the
// session does not already do (it tracks the request, cancels it, and writes its answer). So the request goes to the
// very handler the protocol layer would run, and its result or error becomes the JSON-RPC answer the protocol layer
// would send, field for field. Every other request (initialize, lists, ping, a task-augmented call…) still goes
// through the SDK.

/** Signals of directly dispatched requests: their session aborts them itself when it ends. */
const endWithSession = new WeakSet<AbortSignal>();

/** What cancels a directly dispatched request; its session must abort it when it ends (see {@link callSignal}). */
export function dispatchController(): AbortController {
  const controller = new AbortController();
  endWithSession.add(controller.signal);
  return controller;
}

/**
 * The signal of an upstream call made for a request of a session: aborted when the request is cancelled or the
 * session ends. A directly dispatched request's signal is both already, so no combined signal is made for it.
 */
export function callSignal(session: AbortSignal | undefined, request: AbortSignal): AbortSignal {
  if (session === undefined || endWithSession.has(request)) return request;
  return AbortSignal.any([session, request]);
}

/** The JSON-RPC answer to one request, as the SDK's protocol layer builds it. */
export type DirectAnswer = JSONRPCResultResponse | JSONRPCErrorResponse;

/** What the session gives a directly dispatched request. */
export interface DirectContext {
  /** Aborted when the client cancels the request or the session ends. */
  readonly signal: AbortSignal;
  /** The session's `Mcp-Session-Id`. */
  readonly sessionId: string | undefined;
  /** The HTTP request's headers and URL, as the transport hands them to handlers. */
  readonly requestInfo: unknown;
}

/**
 * Runs `request` on the endpoint's own handler when it may skip the SDK's protocol layer, and resolves with its
 * answer (never rejects); `undefined` when the request must go through the SDK.
 */
export type DirectDispatch = (request: JSONRPCRequest, context: DirectContext) => Promise<DirectAnswer> | undefined;

/**
 * The direct dispatch of `server`'s `tools/call` (a server wrapped by `answerInvalidParams`, whose registry holds the
 * handler the protocol layer runs). A call asking for a task, or tied to one, goes through the SDK, which owns tasks.
 */
export function directToolCalls(server: Server): DirectDispatch {
  return (request, context) => {
    if (request.method !== 'tools/call') return undefined;
    const params = request.params as { task?: unknown; _meta?: Record<string, unknown> } | undefined;
    if (params?.task !== undefined || params?._meta?.[RELATED_TASK_META_KEY] !== undefined) return undefined;
    const handler = registeredHandler(server, 'tools/call');
    return handler && dispatch(server, handler, request, context);
  };
}

async function dispatch(
  server: Server,
  handler: Handler,
  request: JSONRPCRequest,
  context: DirectContext,
): Promise<DirectAnswer> {
  try {
    const result = (await handler(
      request,
      new DirectExtra(server, request, context),
    )) as JSONRPCResultResponse['result'];
    // The key order of the SDK's answer, so the body is the same bytes.
    return { result, jsonrpc: '2.0', id: request.id } as JSONRPCResultResponse;
  } catch (error) {
    return errorAnswer(request.id, error);
  }
}

/** The error answer the SDK's protocol layer gives a handler's failure (`code` if a safe integer, else −32603). */
export function errorAnswer(id: JSONRPCRequest['id'], error: unknown): JSONRPCErrorResponse {
  const e = Object(error) as { code?: unknown; message?: unknown; data?: unknown };
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: Number.isSafeInteger(e.code) ? (e.code as number) : ErrorCode.InternalError,
      message: (e.message ?? 'Internal error') as string,
      ...(e.data !== undefined && { data: e.data }),
    },
  };
}

/**
 * The `extra` a handler gets, with the fields the protocol layer gives a request outside any task. Its two senders
 * are built only when read (a `call_tool` never does); they send as the protocol layer's would, tied to the request
 * (the session moves such messages to the standalone stream, since the request is answered in JSON).
 */
class DirectExtra {
  readonly signal: AbortSignal;
  readonly sessionId: string | undefined;
  readonly _meta: unknown;
  readonly requestId: JSONRPCRequest['id'];
  readonly requestInfo: unknown;
  readonly authInfo = undefined;
  readonly taskId = undefined;
  readonly taskStore = undefined;
  readonly taskRequestedTtl = undefined;
  readonly closeSSEStream = undefined;
  readonly closeStandaloneSSEStream = undefined;
  readonly #server: Server;

  constructor(server: Server, request: JSONRPCRequest, context: DirectContext) {
    this.#server = server;
    this.signal = context.signal;
    this.sessionId = context.sessionId;
    this._meta = request.params?._meta;
    this.requestId = request.id;
    this.requestInfo = context.requestInfo;
  }

  get sendNotification(): (notification: Parameters<Server['notification']>[0]) => Promise<void> {
    return async (notification) => {
      if (this.signal.aborted) return;
      await this.#server.notification(notification, { relatedRequestId: this.requestId });
    };
  }

  get sendRequest(): Server['request'] {
    return (async (request, resultSchema, options) => {
      if (this.signal.aborted) throw new McpError(ErrorCode.ConnectionClosed, 'Request was cancelled');
      return this.#server.request(request, resultSchema, { ...options, relatedRequestId: this.requestId });
    }) as Server['request'];
  }
}
