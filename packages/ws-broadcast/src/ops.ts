import { ClientOpSchema, type EventType, type LiveErrorCode } from '@mcpproxy/contracts';
import type { Endpoint } from './client.js';
import { resolveTypes } from './query.js';

/**
 * What a frame from a native-protocol client (`/ws/events`, `/ws/servers`) asks for, decided with no socket:
 * - `text-pong`: the bare text `ping` is answered with the bare text `pong`;
 * - `pong`: `{"op":"ping"}` is answered with `{"type":"pong"}`;
 * - `subscribe`: new filters; a field left out of the op keeps its current value;
 * - `error`: an `error` frame with a documented code.
 */
export type ClientOpResult =
  | { kind: 'text-pong' }
  | { kind: 'pong' }
  | {
      kind: 'subscribe';
      types?: ReadonlySet<EventType> | null | undefined;
      servers?: ReadonlySet<string> | null | undefined;
    }
  | { kind: 'error'; code: LiveErrorCode; message: string };

/** Reads one client frame (already decoded to text) sent on `endpoint`. */
export function parseClientOp(text: string, endpoint: Endpoint): ClientOpResult {
  if (text.trim() === 'ping') return { kind: 'text-pong' };
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: 'error', code: 'BAD_JSON', message: 'the frame is not valid JSON' };
  }
  const op = typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as { op?: unknown }).op : undefined;
  if (op !== 'subscribe' && op !== 'ping') {
    return {
      kind: 'error',
      code: 'UNKNOWN_OP',
      message:
        typeof op === 'string'
          ? `unknown op "${op}" (known: subscribe, ping)`
          : 'a client frame is an object with an "op": subscribe or ping',
    };
  }
  const parsed = ClientOpSchema.safeParse(msg);
  if (!parsed.success) {
    return {
      kind: 'error',
      code: 'BAD_REQUEST',
      message: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    };
  }
  const data = parsed.data;
  if (data.op === 'ping') return { kind: 'pong' };
  if (data.servers !== undefined && data.servers.length === 0 && endpoint === 'servers') {
    return { kind: 'error', code: 'BAD_REQUEST', message: '/ws/servers needs at least one server' };
  }
  return {
    kind: 'subscribe',
    types: data.types === undefined ? undefined : resolveTypes(data.types),
    servers: data.servers === undefined ? undefined : data.servers.length > 0 ? new Set(data.servers) : null,
  };
}
