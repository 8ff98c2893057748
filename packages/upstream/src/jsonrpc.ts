import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/**
 * `JSONRPCMessageSchema.parse(value)` of the SDK, without zod for the common shapes.
 *
 * The SDK's transports validate every incoming message with a zod union of four strict objects; zod tries them in
 * order and builds an issue list for every branch that fails, which is a visible share of the proxy's CPU per call.
 * Here a request, notification, result or error whose shape is plainly valid (the right keys and nothing else, an
 * integer or string id, and params/result without `_meta`, whose nested schema this check does not repeat) is
 * rebuilt with the same keys in the same order as zod's output. Anything else — `_meta`, extra keys, a wrong type —
 * goes to the SDK's schema, so it is accepted, stripped or rejected (with the same `ZodError`) exactly as before.
 */
export function toJsonRpcMessage(value: unknown): JSONRPCMessage {
  return plainJsonRpcMessage(value) ?? JSONRPCMessageSchema.parse(value);
}

/**
 * The hand check under {@link toJsonRpcMessage}: the message when `value` is a plainly valid request, notification,
 * result or error (what the SDK's schema would return for it), `undefined` when only the schema can tell. The server
 * side uses it too, before its own schema, so there is one such check in the project.
 */
export function plainJsonRpcMessage(value: unknown): JSONRPCMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (o.jsonrpc !== '2.0') return undefined;
  const keys = Object.keys(o).length;
  const hasId = 'id' in o;
  if (hasId && !isRequestId(o.id)) return undefined;
  if ('result' in o) {
    if (!hasId || keys !== 3 || !isPlainObject(o.result)) return undefined;
    return { jsonrpc: '2.0', id: o.id as string | number, result: o.result as Record<string, unknown> };
  }
  if ('method' in o) {
    if (typeof o.method !== 'string') return undefined;
    const hasParams = 'params' in o;
    if (hasParams && !isPlainObject(o.params)) return undefined;
    if (keys !== 2 + (hasId ? 1 : 0) + (hasParams ? 1 : 0)) return undefined;
    const params = o.params as Record<string, unknown> | undefined;
    if (hasId) {
      const id = o.id as string | number;
      return hasParams ? { jsonrpc: '2.0', id, method: o.method, params } : { jsonrpc: '2.0', id, method: o.method };
    }
    return hasParams ? { jsonrpc: '2.0', method: o.method, params } : { jsonrpc: '2.0', method: o.method };
  }
  if ('error' in o) {
    if (keys !== 2 + (hasId ? 1 : 0)) return undefined;
    const error = o.error;
    if (typeof error !== 'object' || error === null || Array.isArray(error)) return undefined;
    const e = error as Record<string, unknown>;
    if (!Number.isSafeInteger(e.code) || typeof e.message !== 'string') return undefined;
    const hasData = 'data' in e;
    if (Object.keys(e).length !== 2 + (hasData ? 1 : 0)) return undefined;
    const code = e.code as number;
    const out = hasData ? { code, message: e.message, data: e.data } : { code, message: e.message };
    return hasId
      ? { jsonrpc: '2.0', id: o.id as string | number, error: out }
      : ({ jsonrpc: '2.0', error: out } as JSONRPCMessage);
  }
  return undefined;
}

function isRequestId(id: unknown): boolean {
  return typeof id === 'string' || Number.isSafeInteger(id);
}

/** A non-array object without `_meta` (whose nested schema is left to zod). */
function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('_meta' in value);
}
