import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * Makes a request with malformed params answer JSON-RPC −32602 (Invalid params) with a readable message, as the MCP
 * spec asks, instead of the SDK's −32603 (Internal error) carrying a raw zod issue dump.
 *
 * The SDK parses every request against its handler's schema before the handler runs and lets the `ZodError` escape,
 * which its protocol layer answers as an internal error. This wraps the server's `setRequestHandler` (an instance
 * property, so it must run before any handler is registered — `McpServer` registers its tool handlers on the first
 * `registerTool`): the SDK only sees a schema that checks the method, and the real schema is checked here, where a
 * failure becomes an `McpError(InvalidParams)` naming each bad field.
 */
export function answerInvalidParams(server: Server): void {
  // The protocol layer's method, under the Server's override: that override re-parses every tools/call request and
  // result with zod (twice the work of the one parse below, and its message is a raw issue dump). Results need no
  // second check here: they are built by our handlers or are an upstream's, which its SDK client has parsed already.
  const protocolSet = Object.getPrototypeOf(Server.prototype).setRequestHandler as (
    schema: unknown,
    handler: Handler,
  ) => void;
  const set = (schema: unknown, handler: Handler) => protocolSet.call(server, schema, handler);
  const handlers = new Map<string, Handler>();
  registered.set(server, handlers);
  const wrapped = (schema: RequestSchema, handler: Handler) => {
    const method = schema.shape.method;
    const name = String(method.value);
    const checked: Handler = (request, extra) => {
      // The common call is checked by hand (the schema's parse was about 1% of the proxy's CPU per call).
      const plain = name === 'tools/call' ? plainToolCall(request) : undefined;
      if (plain) return handler(plain, extra);
      const parsed = schema.safeParse(request);
      if (!parsed.success) {
        throw new McpError(ErrorCode.InvalidParams, `Invalid ${name} request: ${describeIssues(parsed.error)}`);
      }
      return handler(parsed.data, extra);
    };
    handlers.set(name, checked);
    set(z.looseObject({ method }), checked);
  };
  server.setRequestHandler = wrapped as unknown as Server['setRequestHandler'];
}

/** A `tools/call` request as `CallToolRequestSchema` parses it (without `_meta` and `task`). */
export interface PlainToolCall {
  method: 'tools/call';
  params: { name: string; arguments?: Record<string, unknown> };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The common `tools/call` checked by hand: params holding a string `name` and, optionally, an `arguments` object,
 * and nothing else. Returns what `CallToolRequestSchema` parses it into (method and params, the arguments copied),
 * or `undefined` to leave the request to the schema (a `_meta`, a `task`, an unknown key, anything malformed).
 */
export function plainToolCall(request: unknown): PlainToolCall | undefined {
  if (!isPlainObject(request) || request.method !== 'tools/call') return undefined;
  const params = request.params;
  if (!isPlainObject(params) || typeof params.name !== 'string') return undefined;
  const args = params.arguments;
  if (Object.keys(params).length !== ('arguments' in params ? 2 : 1)) return undefined;
  // The schema's record copy assigns keys one by one, so an own `__proto__` key would come out differently.
  if (args !== undefined && (!isPlainObject(args) || Object.hasOwn(args, '__proto__'))) return undefined;
  if (args === undefined && 'arguments' in params) return undefined;
  return args === undefined
    ? { method: 'tools/call', params: { name: params.name } }
    : { method: 'tools/call', params: { name: params.name, arguments: { ...args } } };
}

/**
 * Why a `tools/call` request is malformed (its −32602 message, as `/mcp` and `/mcp/all` word it), or `undefined` when
 * it is well-formed: for `/mcp/servers/{name}`, which forwards requests instead of running an SDK handler. The common
 * call is checked by hand; the schema judges the rest.
 */
export function invalidToolCall(request: unknown): string | undefined {
  if (plainToolCall(request)) return undefined;
  const parsed = CallToolRequestSchema.safeParse(request);
  return parsed.success ? undefined : `Invalid tools/call request: ${describeIssues(parsed.error)}`;
}

/** A request handler as the SDK's protocol layer calls it. */
export type Handler = (request: unknown, extra: unknown) => unknown;

/** The handlers each wrapped server registered, by method, exactly as the protocol layer holds them. */
const registered = new WeakMap<Server, Map<string, Handler>>();

/**
 * The handler `server` registered for `method` after {@link answerInvalidParams} wrapped it: the one the SDK's
 * protocol layer would run, params check included (so a malformed request throws the same −32602). `undefined` for
 * a method without a handler, or a server that was not wrapped.
 */
export function registeredHandler(server: Server, method: string): Handler | undefined {
  return registered.get(server)?.get(method);
}

/** What a request schema of the SDK looks like here (zod 4 objects with a `method` literal). */
interface RequestSchema {
  shape: { method: z.ZodLiteral<string> };
  safeParse(data: unknown): z.ZodSafeParseResult<unknown>;
}

/** `params.name: expected string, received number; params.arguments: …` — one line, each issue with its path. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    .join('; ');
}
