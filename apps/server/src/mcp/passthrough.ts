import { type ServerActor, type Supervisor, toolHash } from '@mcpproxy/actor';
import type { ConfigService } from '@mcpproxy/configsvc';
import type { Clock, ConnectedProtocol, Logger, TimerHandle, ToolCallStatus } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { type McpSession, type SessionBinding, type SessionEndReason, SessionRefusal } from './sessions.js';
import { openUpstreamLink, type UpstreamLink } from './upstream-link.js';

/** What `/mcp/servers/{name}` sessions need. */
export interface PassthroughDeps {
  supervisor: Pick<Supervisor, 'getActor'>;
  bus: Pick<EventBus, 'publish'>;
  config: Pick<ConfigService, 'snapshot'>;
  clock: Clock;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  killGraceMs: number;
}

interface Call {
  method: string;
  /** For `tools/call`: the tool, for `tool_called`. */
  tool?: string | undefined;
  started: number;
  timer?: TimerHandle | undefined;
  progressToken?: string | number | undefined;
}

type Msg = JSONRPCMessage & Record<string, unknown>;

const isRequest = (m: Msg): m is Msg & { id: RequestId; method: string; params?: Record<string, unknown> } =>
  'method' in m && 'id' in m;
const isNotification = (m: Msg): m is Msg & { method: string; params?: Record<string, unknown> } =>
  'method' in m && !('id' in m);
const isResponse = (m: Msg): m is Msg & { id: RequestId } => ('result' in m || 'error' in m) && 'id' in m;

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
function approvedHashes(actor: ServerActor): Map<string, string> {
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

function resolvedProtocol(actor: ServerActor): ConnectedProtocol {
  const live = actor.connection()?.protocol;
  if (live) return live;
  const server = actor.config().server;
  if (server.protocol === 'stdio' || (server.protocol === 'auto' && server.command)) return 'stdio';
  return server.protocol === 'sse' ? 'sse' : 'streamable-http';
}

/**
 * One `/mcp/servers/{name}` session: a dedicated upstream connection (opened at the client's `initialize`, with
 * the client's own capabilities, clientInfo and protocol version) and a message pipe both ways. JSON-RPC ids pass
 * unchanged (one client per upstream connection), so requests, results, server-to-client requests (sampling,
 * elicitation, roots), progress, logging, subscriptions and cancellation all work as if the client were connected
 * directly. The proxy steps in only where its rules apply: `tools/list` shows only tools whose definition matches
 * the actor's approved hash (pinning), `tools/call` is refused for unapproved tools, an open circuit or a server
 * that is not ready, gets the `call_tool_timeout` deadline, and is reported as `tool_called` on the bus (metrics).
 */
export class PassthroughSession implements SessionBinding {
  #link: UpstreamLink | undefined;
  #opening = false;
  readonly #queue: Msg[] = [];
  readonly #calls = new Map<RequestId, Call>();
  /** Hashes of the tools this session was shown, to refuse a call whose definition changed since. */
  readonly #listed = new Map<string, string>();
  #closing = false;

  constructor(
    private readonly actor: ServerActor,
    private readonly session: McpSession,
    private readonly deps: PassthroughDeps,
  ) {
    session.transport.onmessage = (message) => this.#fromClient(message as Msg);
  }

  /** Tools in flight, for tests and stats. */
  pending(): number {
    return this.#calls.size;
  }

  /** The approval set changed: tell the client to list again. */
  toolsChanged(): void {
    void this.#toClient({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' } as Msg);
  }

  // ── client → upstream ─────────────────────────────────────────────────

  #fromClient(m: Msg): void {
    if (isRequest(m)) {
      if (m.method === 'initialize') {
        void this.#initialize(m);
        return;
      }
      const call: Call = { method: m.method, started: this.deps.clock.now() };
      const token = (m.params?._meta as { progressToken?: string | number } | undefined)?.progressToken;
      if (token !== undefined) call.progressToken = token;
      if (m.method === 'tools/call') {
        const tool = String(m.params?.name ?? '');
        call.tool = tool;
        const refusal = this.#gate(tool);
        if (refusal) {
          this.#publish(tool, call.started, 'rejected');
          void this.#toClient(toolError(m.id, refusal));
          return;
        }
        const deadline = this.deps.config.snapshot().call_tool_timeout;
        if (deadline > 0 && Number.isFinite(deadline)) {
          call.timer = this.deps.clock.setTimeout(() => this.#timeout(m.id, deadline), deadline);
        }
      }
      this.#calls.set(m.id, call);
      this.#toUpstream(m);
      return;
    }
    if (isNotification(m) && m.method === 'notifications/cancelled') {
      const id = m.params?.requestId as RequestId | undefined;
      const call = id === undefined ? undefined : this.#calls.get(id);
      if (call && id !== undefined) {
        this.#calls.delete(id);
        this.deps.clock.clearTimeout(call.timer);
        if (call.tool !== undefined) this.#publish(call.tool, call.started, 'error');
      }
    }
    this.#toUpstream(m);
  }

  /** Why a call may not run now (pinning, circuit, readiness), as `CODE: message`; undefined when it may. */
  #gate(tool: string): string | undefined {
    const { name } = this.actor;
    const state = this.actor.getState();
    if (state.state !== 'ready') return `UPSTREAM_UNAVAILABLE: server "${name}" is ${state.state}, not ready`;
    if (state.circuit === 'open') return `CIRCUIT_OPEN: circuit of server "${name}" is open`;
    const approved = approvedHashes(this.actor).get(tool);
    if (approved === undefined) {
      const info = this.actor.tools().find((t) => t.name === tool);
      if (!info) return `NOT_FOUND: server "${name}" has no tool "${tool}"`;
      if (info.approval !== 'approved') {
        return `CONFLICT: tool "${tool}" of server "${name}" is ${info.approval} and must be approved before it can be called`;
      }
      return `NOT_FOUND: tool "${tool}" of server "${name}" is disabled by config`;
    }
    const seen = this.#listed.get(tool);
    if (seen !== undefined && seen !== approved) {
      return `CONFLICT: tool "${tool}" of server "${name}" differs from its approved definition`;
    }
    return undefined;
  }

  #timeout(id: RequestId, deadline: number): void {
    const call = this.#calls.get(id);
    if (!call) return;
    this.#calls.delete(id);
    this.#sendUpstream({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: `timed out after ${deadline} ms` },
    } as Msg);
    this.#publish(call.tool ?? '', call.started, 'timeout');
    void this.#toClient(
      toolError(
        id,
        `UPSTREAM_TIMEOUT: tool "${call.tool}" of server "${this.actor.name}" timed out after ${deadline} ms`,
      ),
    );
  }

  async #initialize(m: Msg & { id: RequestId }): Promise<void> {
    if (this.#link || this.#opening) {
      void this.#toClient(rpcError(m.id, -32600, 'Invalid Request: already initialized'));
      return;
    }
    this.#opening = true;
    const started = this.deps.clock.now();
    this.#calls.set(m.id, { method: 'initialize', started });
    const { server, settings } = this.actor.config();
    const initTimeout = server.init_timeout ?? settings.init_timeout;
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = this.deps.clock.setTimeout(
        () => reject(new Error(`connect + initialize took longer than ${initTimeout} ms`)),
        initTimeout,
      );
    });
    try {
      const link = openUpstreamLink(server, resolvedProtocol(this.actor), this.deps);
      this.#link = link;
      link.transport.onmessage = (message) => this.#fromUpstream(message as Msg);
      link.transport.onclose = () => {
        if (!this.#closing) void this.session.end('upstream_closed');
      };
      link.transport.onerror = (error) =>
        this.deps.logger.debug('mcp session upstream error', { server: this.actor.name, error: String(error) });
      await Promise.race([
        (async () => {
          await link.transport.start();
          await link.transport.send(m);
        })(),
        timedOut,
      ]);
    } catch (error) {
      this.deps.clock.clearTimeout(timer);
      this.#calls.delete(m.id);
      this.#opening = false;
      const message = `UPSTREAM_UNAVAILABLE: cannot reach server "${this.actor.name}": ${error instanceof Error ? error.message : String(error)}`;
      await this.#toClient(rpcError(m.id, -32603, message));
      void this.session.end('failed');
      return;
    }
    // The initialize result comes back through #fromUpstream; until then queued messages wait.
    this.#initTimer = timer;
    timedOut.catch(() => {
      if (this.#calls.get(m.id)?.method !== 'initialize') return;
      this.#calls.delete(m.id);
      void this.#toClient(
        rpcError(m.id, -32603, `UPSTREAM_TIMEOUT: server "${this.actor.name}" did not answer initialize in time`),
      ).then(() => this.session.end('failed'));
    });
  }

  #initTimer: TimerHandle | undefined;

  #initialized(): void {
    this.deps.clock.clearTimeout(this.#initTimer);
    this.#initTimer = undefined;
    this.#opening = false;
    for (const queued of this.#queue.splice(0)) this.#sendUpstream(queued);
  }

  #toUpstream(m: Msg): void {
    if (this.#opening || !this.#link) this.#queue.push(m);
    else this.#sendUpstream(m);
  }

  #sendUpstream(m: Msg): void {
    const link = this.#link;
    if (!link) return;
    link.transport.send(m).catch((error: unknown) => {
      if (this.#closing) return;
      this.deps.logger.debug('mcp session upstream send failed', { server: this.actor.name, error: String(error) });
      if (isRequest(m)) {
        const call = this.#calls.get(m.id);
        if (!call) return;
        this.#calls.delete(m.id);
        this.deps.clock.clearTimeout(call.timer);
        if (call.tool !== undefined) this.#publish(call.tool, call.started, 'error');
        const text = `UPSTREAM_UNAVAILABLE: server "${this.actor.name}" failed the request: ${String(error)}`;
        void this.#toClient(call.tool !== undefined ? toolError(m.id, text) : rpcError(m.id, -32603, text));
      }
    });
  }

  // ── upstream → client ─────────────────────────────────────────────────

  #fromUpstream(m: Msg): void {
    if (isResponse(m)) {
      const call = this.#calls.get(m.id);
      if (!call) return; // timed out or cancelled: the client already has its answer
      this.#calls.delete(m.id);
      this.deps.clock.clearTimeout(call.timer);
      const result = m.result as Record<string, unknown> | undefined;
      if (call.method === 'initialize') {
        const version = result?.protocolVersion;
        if (typeof version === 'string') this.#link?.setProtocolVersion(version);
        void this.#toClient(m).then(() => this.#initialized());
        if (!result) void this.session.end('failed');
        return;
      }
      if (call.method === 'tools/list' && result && Array.isArray(result.tools)) {
        void this.#toClient({ ...m, result: { ...result, tools: this.#pin(result.tools) } } as Msg);
        return;
      }
      if (call.tool !== undefined) {
        const failed = 'error' in m || (result as { isError?: unknown } | undefined)?.isError === true;
        this.#publish(call.tool, call.started, failed ? 'error' : 'ok');
      }
      void this.#toClient(m);
      return;
    }
    let related: RequestId | undefined;
    if (isNotification(m) && m.method === 'notifications/progress') {
      const token = m.params?.progressToken;
      for (const [id, call] of this.#calls) if (call.progressToken === token) related = id;
    }
    // Server-to-client requests and notifications ride on the stream of the latest request in flight (as a server
    // answering that request would send them), else on the client's standalone GET stream.
    if (related === undefined) related = this.#latestCall();
    void this.#toClient(m, related);
  }

  /** Only tools whose definition matches the actor's approved hash (and that pass the filters) are shown. */
  #pin(tools: unknown[]): unknown[] {
    const approved = approvedHashes(this.actor);
    return tools.filter((t) => {
      const tool = t as { name?: unknown };
      if (typeof tool.name !== 'string') return false;
      const hash = toolHash(tool as Parameters<typeof toolHash>[0]);
      this.#listed.set(tool.name, hash);
      return approved.get(tool.name) === hash;
    });
  }

  #latestCall(): RequestId | undefined {
    let last: RequestId | undefined;
    for (const [id, call] of this.#calls) if (call.method !== 'initialize') last = id;
    return last;
  }

  async #toClient(m: Msg, related?: RequestId): Promise<void> {
    const t = this.session.transport;
    try {
      await t.send(m, related === undefined ? undefined : { relatedRequestId: related });
    } catch {
      // The related stream is gone: fall back to the standalone stream (responses cannot, and are dropped).
      if (related !== undefined) await t.send(m).catch(() => {});
    }
  }

  #publish(tool: string, started: number, status: ToolCallStatus): void {
    this.deps.bus.publish({
      type: 'tool_called',
      server: this.actor.name,
      data: { tool, duration_ms: this.deps.clock.now() - started, status },
    });
  }

  // ── end ───────────────────────────────────────────────────────────────

  async close(reason: SessionEndReason): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.deps.clock.clearTimeout(this.#initTimer);
    const link = this.#link;
    // Abort the session's upstream work: every request still in flight is cancelled upstream before closing.
    for (const [id, call] of this.#calls) {
      this.deps.clock.clearTimeout(call.timer);
      if (call.tool !== undefined) this.#publish(call.tool, call.started, 'error');
      if (link && call.method !== 'initialize') {
        await link.transport
          .send({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: `session ended (${reason})` },
          } as Msg)
          .catch(() => {});
      }
    }
    this.#calls.clear();
    this.#queue.length = 0;
    await link?.close();
  }
}

function toolError(id: RequestId, text: string): Msg {
  return { jsonrpc: '2.0', id, result: { isError: true, content: [{ type: 'text', text }] } } as Msg;
}

function rpcError(id: RequestId, code: number, message: string): Msg {
  return { jsonrpc: '2.0', id, error: { code, message } } as Msg;
}
