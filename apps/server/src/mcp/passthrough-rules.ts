import { ActorError, type CallPermit, type ServerActor, type Supervisor, toolHash } from '@mcpproxy/actor';
import type { ConnectedProtocol } from '@mcpproxy/contracts';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { type McpSession, SessionRefusal } from './sessions.js';

/** A JSON-RPC message with its fields readable. */
export type Msg = JSONRPCMessage & Record<string, unknown>;

export const isRequest = (m: Msg): m is Msg & { id: RequestId; method: string; params?: Record<string, unknown> } =>
  'method' in m && 'id' in m;
export const isNotification = (m: Msg): m is Msg & { method: string; params?: Record<string, unknown> } =>
  'method' in m && !('id' in m);
export const isResponse = (m: Msg): m is Msg & { id: RequestId } => ('result' in m || 'error' in m) && 'id' in m;

/** A tool result carrying the proxy's `CODE: message` (tool-call refusals and failures). */
export function toolError(id: RequestId, text: string): Msg {
  return { jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text }] } } as Msg;
}

/** A JSON-RPC error response. */
export function rpcError(id: RequestId, code: number, message: string): Msg {
  return { jsonrpc: '2.0', id, error: { code, message } } as Msg;
}

/**
 * Requests that change per-connection upstream state, so a session sharing the actor's connection cannot make them
 * there: `resources/subscribe` (the subscription and its `notifications/resources/updated` belong to one
 * connection, and one session's unsubscribe would end another's) and `logging/setLevel` (the level is the
 * connection's, and its `notifications/message` could not be told apart per session). The first of them moves the
 * session onto a link of its own.
 */
export const LINK_METHODS: ReadonlySet<string> = new Set(['resources/subscribe', 'logging/setLevel']);

/**
 * Whether a client's `initialize` params ask for a link of its own: any declared client capability (`sampling`,
 * `elicitation`, `roots`, `experimental`, …). Server-to-client requests reach only a client that declared the
 * capability, and an upstream may offer different things to a client depending on them (server-everything lists
 * `get-roots-list` only to clients with roots), so such a client must meet the upstream itself. A client declaring
 * none cannot receive server-to-client requests and sees exactly what the actor's own connection (which declares
 * none either) sees.
 */
export function wantsOwnLink(params: unknown): boolean {
  const caps = (params as { capabilities?: unknown } | undefined)?.capabilities;
  if (typeof caps !== 'object' || caps === null) return false;
  return Object.values(caps).some((v) => v !== undefined && v !== null && v !== false);
}

/** The `params` of the (first) `initialize` in a POST body (a message or a batch). */
export function initializeParams(body: unknown): unknown {
  const all = Array.isArray(body) ? body : [body];
  const init = all.find(
    (m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize',
  ) as { params?: unknown } | undefined;
  return init?.params;
}

/** A session holding a link slot, as the budget sees it. */
export type LinkHolder = Pick<McpSession, 'busy' | 'lastActive' | 'end'>;

/**
 * Per-server slots of `/mcp/servers/{name}` sessions holding a link of their own, against `max_session_links`
 * (read per acquire, so a config change applies to the next session). With every slot held, the least recently
 * active idle holder (no request in flight, no stream open: typically a client that went away without `DELETE`)
 * is evicted to make room, as the session table does at `maxSessions`; with none idle, the acquire fails.
 */
export class LinkBudget {
  readonly #held = new Map<string, Set<LinkHolder>>();
  #opened = 0;
  #refused = 0;
  #evicted = 0;

  constructor(private readonly max: () => number) {}

  /** Takes a slot of `server` for `holder`; false (counted as refused) when all are held by busy sessions. */
  acquire(server: string, holder: LinkHolder): boolean {
    const held = this.#held.get(server) ?? new Set<LinkHolder>();
    if (held.size >= this.max()) {
      let victim: LinkHolder | undefined;
      for (const h of held) if (!h.busy && (!victim || h.lastActive < victim.lastActive)) victim = h;
      if (!victim || held.size > this.max()) {
        this.#refused++;
        return false;
      }
      // The slot passes to the newcomer now; the victim's own release later finds nothing to free.
      held.delete(victim);
      this.#evicted++;
      void victim.end('evicted');
    }
    held.add(holder);
    this.#held.set(server, held);
    this.#opened++;
    return true;
  }

  /** Frees `holder`'s slot of `server`, if it still has one. */
  release(server: string, holder: LinkHolder): void {
    const held = this.#held.get(server);
    if (!held?.delete(holder)) return;
    if (held.size === 0) this.#held.delete(server);
  }

  /** The cap now. */
  limit(): number {
    return this.max();
  }

  stats(): { held: number; opened: number; refused: number; evicted: number } {
    let held = 0;
    for (const set of this.#held.values()) held += set.size;
    return { held, opened: this.#opened, refused: this.#refused, evicted: this.#evicted };
  }
}

/** The refusal of a session or a request that would need a link beyond `max_session_links`. */
export function linkCapMessage(server: string, max: number): string {
  return (
    `UPSTREAM_UNAVAILABLE: server "${server}" already has ${max} busy MCP session(s) with their own upstream link ` +
    `(max_session_links); retry later, or connect without client capabilities to share the server's connection`
  );
}

/** Refuses a session for a server that is unknown, quarantined or not ready; returns its actor otherwise. */
export function admitServer(supervisor: Pick<Supervisor, 'getActor'>, name: string): ServerActor {
  const actor = supervisor.getActor(name);
  if (!actor) throw new SessionRefusal(404, `NOT_FOUND: no upstream server "${name}"`);
  const { state } = actor.getState();
  if (state === 'quarantined') {
    throw new SessionRefusal(
      409,
      `CONFLICT: server "${name}" is quarantined: a person must approve it (dashboard, CLI or REST) before it is reachable`,
    );
  }
  if (state !== 'ready') throw new SessionRefusal(503, `UPSTREAM_UNAVAILABLE: server "${name}" is ${state}, not ready`);
  return actor;
}

/** The approved, allowed tools of an actor with their approved hashes, memoised per listing. */
const approvedCache = new WeakMap<object, Map<string, string>>();
export function approvedHashes(actor: ServerActor): Map<string, string> {
  const callable = actor.callableTools();
  let map = approvedCache.get(callable);
  if (!map) {
    const names = new Set(callable.map((t) => t.name));
    map = new Map();
    for (const t of actor.tools()) if (t.approval === 'approved' && names.has(t.name)) map.set(t.name, t.hash);
    approvedCache.set(callable, map);
  }
  return map;
}

/** The protocol the actor connected over (so `auto` is never guessed twice), else the configured one. */
export function resolvedProtocol(actor: ServerActor): ConnectedProtocol {
  const live = actor.connection()?.protocol;
  if (live) return live;
  const server = actor.config().server;
  if (server.protocol === 'stdio' || (server.protocol === 'auto' && server.command)) return 'stdio';
  return server.protocol === 'sse' ? 'sse' : 'streamable-http';
}

/**
 * Whether a `tools/call` of `tool` may run now, judged against the actor: readiness, then pinning (approved, allowed,
 * and the definition this session was shown in `listed` still the approved one), then the circuit breaker. Returns
 * the breaker's permit (to settle with the outcome), or the refusal as `CODE: message`.
 */
export function gateToolCall(
  actor: ServerActor,
  tool: string,
  listed: ReadonlyMap<string, string>,
): CallPermit | string {
  const { name } = actor;
  const state = actor.getState();
  if (state.state !== 'ready') return `UPSTREAM_UNAVAILABLE: server "${name}" is ${state.state}, not ready`;
  const approved = approvedHashes(actor).get(tool);
  if (approved === undefined) {
    const info = actor.tools().find((t) => t.name === tool);
    if (!info) return `NOT_FOUND: server "${name}" has no tool "${tool}"`;
    if (info.approval !== 'approved') {
      const why =
        info.approval === 'changed' ? 'changed since it was approved' : 'pending (new, or held by the tool scanner)';
      return `TOOL_BLOCKED: tool "${tool}" of server "${name}" is ${why} and must be approved by a person before it can be called`;
    }
    return `NOT_FOUND: tool "${tool}" of server "${name}" is disabled by config`;
  }
  const seen = listed.get(tool);
  if (seen !== undefined && seen !== approved) {
    return `TOOL_BLOCKED: tool "${tool}" of server "${name}" differs from its approved definition`;
  }
  try {
    return actor.admitCall();
  } catch (error) {
    if (error instanceof ActorError && error.code === 'CIRCUIT_OPEN') return `CIRCUIT_OPEN: ${error.message}`;
    return `UPSTREAM_UNAVAILABLE: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Pinning of a `tools/list` result: only tools whose definition matches the actor's approved hash (and that pass the
 * filters) are shown; every listed tool's hash is remembered in `listed` to refuse a call whose definition changed.
 */
export function pinTools(actor: ServerActor, tools: unknown[], listed: Map<string, string>): unknown[] {
  const approved = approvedHashes(actor);
  return tools.filter((t) => {
    const tool = t as { name?: unknown };
    if (typeof tool.name !== 'string') return false;
    const hash = toolHash(tool as Parameters<typeof toolHash>[0]);
    listed.set(tool.name, hash);
    return approved.get(tool.name) === hash;
  });
}
