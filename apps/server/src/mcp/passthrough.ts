import type { ServerActor } from '@mcpproxy/actor';
import type { ConfigService } from '@mcpproxy/configsvc';
import type { Clock, Logger } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { ErrorCode, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { PassthroughCallReport } from '../activity.js';
import { invalidToolCall } from './invalid-params.js';
import { handshake, type LinkInit } from './link-handshake.js';
import { type Call, PendingCalls, type Via } from './passthrough-calls.js';
import { HoldQueue } from './passthrough-hold.js';
import {
  gateToolCall,
  isNotification,
  isRequest,
  isResponse,
  LINK_METHODS,
  type LinkBudget,
  linkCapMessage,
  type Msg,
  pinTools,
  resolvedProtocol,
  rpcError,
  toolError,
} from './passthrough-rules.js';
import type { PromptPins } from './prompt-pins.js';
import type { McpSession, SessionBinding, SessionEndReason } from './sessions.js';
import { SharedPipe, sharedClient, sharedInitializeResult } from './shared-link.js';
import { openUpstreamLink, type UpstreamLink } from './upstream-link.js';

export { admitServer, initializeParams, LinkBudget, linkCapMessage, wantsOwnLink } from './passthrough-rules.js';

/** What `/mcp/servers/{name}` sessions need. */
export interface PassthroughDeps {
  bus: Pick<EventBus, 'publish'>;
  config: Pick<ConfigService, 'snapshot'>;
  clock: Clock;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  killGraceMs: number;
  /** Slots of `max_session_links`, per server. */
  links: LinkBudget;
  /** Hears every tool call once it settled (the activity log); must only queue. @default none */
  onToolCall?: ((call: PassthroughCallReport) => void) | undefined;
  /** Prompt pinning: `prompts/list` shows only approved prompts, `prompts/get` refuses the others. @default none */
  prompts?: PromptPins | undefined;
}

/** The id of the `initialize` the proxy sends itself when a shared session moves onto its own link. */
const LINK_INIT_ID = 'mcpproxy-link-initialize';

/**
 * One `/mcp/servers/{name}` session: a message pipe both ways between the client and the upstream. A session whose
 * client declared capabilities at `initialize` gets a link of its own (an own process for stdio, an own upstream
 * session for HTTP, opened with the client's own capabilities, clientInfo and protocol version; JSON-RPC ids pass
 * unchanged), so server-to-client requests (sampling, elicitation, roots), logging, subscriptions and cancellation
 * work as if the client were connected directly. Every other session shares the actor's connection (see
 * {@link SharedPipe}) until it sends `resources/subscribe` or `logging/setLevel` (per-connection state), which
 * moves it onto a link of its own, opened then. Own links are bounded per server by `max_session_links`.
 *
 * The proxy steps in only where its rules apply: `tools/list` shows only tools whose definition matches the actor's
 * approved hash (pinning); `tools/call` is refused for unapproved tools, a server that is not ready and an open
 * circuit (`CIRCUIT_OPEN`, through the actor's breaker, which every outcome feeds), gets the `call_tool_timeout`
 * deadline, and is reported as `tool_called` on the bus (metrics). When the session's own upstream process dies,
 * every request in flight is answered at once with `UPSTREAM_UNAVAILABLE` and the session ends.
 *
 * This class routes messages; its parts: `passthrough-calls.ts` (the requests in flight, and how a tool call's
 * end feeds the breaker, the bus and the activity log), `passthrough-hold.ts` (the queue while the link opens),
 * `link-handshake.ts` and `upstream-link.ts` (an own link), `shared-link.ts`, `passthrough-rules.ts` (pinning, gates).
 */
export class PassthroughSession implements SessionBinding {
  #shared: SharedPipe | undefined;
  #link: UpstreamLink | undefined;
  /** Where new messages go; `undefined` until `initialize` is answered. */
  #via: Via | undefined;
  #initializing = false;
  /** Messages wait here while the link opens or its event stream is being established. */
  readonly #hold: HoldQueue;
  readonly #calls: PendingCalls;
  /** Hashes of the tools this session was shown, to refuse a call whose definition changed since. */
  readonly #listed = new Map<string, string>();
  #initParams: Record<string, unknown> | undefined;
  #linkInit: LinkInit | undefined;
  #upgrading = false;
  #closing = false;

  /** `ownLink`: the session holds a slot of `deps.links` (taken at admission) and opens its link at `initialize`. */
  constructor(
    private readonly actor: ServerActor,
    private readonly session: McpSession,
    private readonly deps: PassthroughDeps,
    private ownLink: boolean,
  ) {
    this.#calls = new PendingCalls(actor, session, deps);
    this.#hold = new HoldQueue(deps.clock);
    session.transport.onmessage = (message) => this.#fromClient(message as Msg);
  }

  /** Requests in flight, for tests and stats. */
  pending(): number {
    return this.#calls.size;
  }

  /** Whether the session runs on a link of its own (else on the actor's shared connection). */
  hasOwnLink(): boolean {
    return this.#link !== undefined;
  }

  /**
   * Whether the answer to `m` may go back as one JSON body (issue 15): the session shares the actor's connection and
   * is not moving onto a link of its own, `m` does not move it there, and asks for no progress. Over the shared
   * connection nothing else tied to a request reaches the client: no server-to-client request (the connection declared
   * no client capabilities), no log message (none is attributed to a session), no progress without a token. The
   * connection's list_changed notifications ride on the stream of the latest request in flight, so a JSON answer is
   * given only while the client's standalone stream is open to take them instead.
   */
  answersAsJson(m: Msg & { method: string; params?: Record<string, unknown> }): boolean {
    if (this.#via !== 'shared' || this.#upgrading || this.#link || this.#hold.holding) return false;
    if (LINK_METHODS.has(m.method) || !this.session.listening) return false;
    const meta = m.params?._meta as { progressToken?: unknown } | undefined;
    return meta?.progressToken === undefined;
  }

  /** The approval set changed: tell the client to list again. */
  toolsChanged(): void {
    void this.#toClient({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' } as Msg);
  }

  /** A person approved prompts of this server: tell the client to list them again. */
  promptsChanged(): void {
    void this.#toClient({ jsonrpc: '2.0', method: 'notifications/prompts/list_changed' } as Msg);
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
        const invalid = invalidToolCall(m);
        if (invalid !== undefined) {
          void this.#toClient(rpcError(m.id, ErrorCode.InvalidParams, invalid));
          return;
        }
        const tool = String(m.params?.name ?? '');
        call.tool = tool;
        call.args = m.params?.arguments;
        const gate = gateToolCall(this.actor, tool, this.#listed);
        if (typeof gate === 'string') {
          this.#calls.report(tool, call.started, 'rejected', { args: call.args, error: gate });
          void this.#toClient(toolError(m.id, gate));
          return;
        }
        call.permit = gate;
        const deadline = this.deps.config.snapshot().call_tool_timeout;
        if (deadline > 0 && Number.isFinite(deadline)) {
          call.timer = this.deps.clock.setTimeout(() => this.#timeout(m.id, deadline), deadline);
        }
      }
      if (m.method === 'prompts/get' && this.deps.prompts) {
        const refusal = this.deps.prompts.refusal(this.actor.name, String(m.params?.name ?? ''));
        if (refusal) {
          void this.#toClient(rpcError(m.id, -32602, refusal));
          return;
        }
      }
      this.#calls.set(m.id, call);
      if (this.#via === 'shared' && LINK_METHODS.has(m.method) && !this.#upgrading && !this.#link) {
        if (!this.#startUpgrade()) {
          this.#calls.delete(m.id);
          void this.#toClient(rpcError(m.id, -32603, linkCapMessage(this.actor.name, this.deps.links.limit())));
          return;
        }
      }
      this.#toUpstream(m);
      return;
    }
    if (isNotification(m) && m.method === 'notifications/cancelled') {
      const id = m.params?.requestId as RequestId | undefined;
      const call = id === undefined ? undefined : this.#calls.take(id);
      if (call && id !== undefined) {
        this.#calls.settle(call, 'aborted', 'error', { error: 'cancelled by the client' });
        if (call.via === undefined) {
          // Still queued: it never left, so nothing upstream needs to hear of it.
          this.#hold.drop(id);
          return;
        }
        if (call.via === 'shared') {
          void this.#shared?.send(m);
          return;
        }
      }
    }
    this.#toUpstream(m);
  }

  #timeout(id: RequestId, deadline: number): void {
    const call = this.#calls.get(id);
    if (!call) return;
    this.#calls.delete(id);
    const cancel = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: `timed out after ${deadline} ms` },
    } as Msg;
    if (call.via === 'shared') void this.#shared?.send(cancel);
    else if (call.via === 'link') this.#sendNow(cancel);
    else this.#hold.drop(id);
    const text = `UPSTREAM_TIMEOUT: tool "${call.tool}" of server "${this.actor.name}" timed out after ${deadline} ms`;
    this.#calls.settle(call, 'timeout', 'timeout', { error: text });
    void this.#toClient(toolError(id, text));
  }

  async #initialize(m: Msg & { id: RequestId; params?: Record<string, unknown> }): Promise<void> {
    if (this.#via || this.#initializing) {
      void this.#toClient(rpcError(m.id, -32600, 'Invalid Request: already initialized'));
      return;
    }
    this.#initializing = true;
    this.#initParams = m.params;
    this.#calls.clientInfo = m.params?.clientInfo;
    const client = this.ownLink ? undefined : sharedClient(this.actor);
    if (client) {
      this.#shared = new SharedPipe(this.actor, (r) => this.#fromUpstream(r, 'shared'));
      this.#via = 'shared';
      await this.#toClient({
        jsonrpc: '2.0',
        id: m.id,
        result: sharedInitializeResult(client, m.params?.protocolVersion),
      } as Msg);
      return;
    }
    if (!this.ownLink) {
      // No shareable connection (the actor's connector gives no SDK client): this session needs its own link.
      if (!this.deps.links.acquire(this.actor.name, this.session)) {
        await this.#toClient(rpcError(m.id, -32603, linkCapMessage(this.actor.name, this.deps.links.limit())));
        void this.session.end('failed');
        return;
      }
      this.ownLink = true;
    }
    this.#hold.holding = true;
    try {
      const response = await this.#openLink(m);
      if (this.#closing) return;
      await this.#toClient(response);
      if (!response.result) {
        void this.session.end('failed');
        return;
      }
      this.#via = 'link';
      this.#release();
    } catch (error) {
      await this.#dropLink();
      if (this.#closing) return;
      const message = `UPSTREAM_UNAVAILABLE: cannot reach server "${this.actor.name}": ${error instanceof Error ? error.message : String(error)}`;
      await this.#toClient(rpcError(m.id, -32603, message));
      void this.session.end('failed');
    }
  }

  /**
   * Opens this session's own link, sends `init` and resolves with the upstream's answer, within `init_timeout`.
   * Rejects (leaving `#link` set for the caller to drop) on a spawn, transport or deadline failure.
   */
  async #openLink(init: Msg & { id: RequestId }): Promise<Msg> {
    const { server, settings } = this.actor.config();
    const initTimeout = server.init_timeout ?? settings.init_timeout;
    const link = openUpstreamLink(server, resolvedProtocol(this.actor), this.deps);
    this.#link = link;
    link.transport.onmessage = (message) => this.#fromUpstream(message as Msg, 'link');
    link.transport.onclose = () => {
      if (!this.#closing && this.#link === link) void this.#linkLost(link);
    };
    link.transport.onerror = (error) =>
      this.deps.logger.debug('mcp session upstream error', { server: this.actor.name, error: String(error) });
    const answered = new Promise<Msg>((resolve, reject) => {
      this.#linkInit = { id: init.id, resolve, reject };
    });
    try {
      return await handshake(link, init, answered, initTimeout, this.deps.clock);
    } finally {
      this.#linkInit = undefined;
      answered.catch(() => {});
    }
  }

  async #dropLink(): Promise<void> {
    const link = this.#link;
    this.#link = undefined;
    await link?.close();
  }

  /** Takes a link slot and moves a shared session onto its own link; false when `max_session_links` are held. */
  #startUpgrade(): boolean {
    if (!this.ownLink && !this.deps.links.acquire(this.actor.name, this.session)) return false;
    this.ownLink = true;
    this.#upgrading = true;
    this.#hold.holding = true;
    void this.#upgrade();
    return true;
  }

  async #upgrade(): Promise<void> {
    try {
      const init = { jsonrpc: '2.0', id: LINK_INIT_ID, method: 'initialize', params: this.#initParams } as Msg & {
        id: RequestId;
      };
      const response = await this.#openLink(init);
      if (!response.result) throw new Error(JSON.stringify(response.error ?? 'no result'));
      const link = this.#link as UpstreamLink;
      await link.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' } as Msg);
      await this.#bounded(link.eventStreamReady());
      this.#via = 'link';
    } catch (error) {
      await this.#dropLink();
      this.deps.links.release(this.actor.name, this.session);
      this.ownLink = false;
      if (this.#closing) return;
      // The requests that needed the link fail; the others go on over the shared connection.
      const text = `UPSTREAM_UNAVAILABLE: cannot open a link to server "${this.actor.name}": ${error instanceof Error ? error.message : String(error)}`;
      for (const q of this.#hold.dropMethods(LINK_METHODS)) {
        this.#calls.delete(q.id);
        void this.#toClient(rpcError(q.id, -32603, text));
      }
    } finally {
      this.#upgrading = false;
      this.#release();
    }
  }

  /** Waits for `promise` at most `init_timeout` (an upstream that never answers the GET must not stall us). */
  #bounded(promise: Promise<void>): Promise<void> {
    const { server, settings } = this.actor.config();
    return this.#hold.bounded(promise, server.init_timeout ?? settings.init_timeout);
  }

  #toUpstream(m: Msg): void {
    if (this.#hold.holding || !this.#via) {
      if (!this.#hold.push(m)) {
        const call = isRequest(m) ? this.#calls.take(m.id) : undefined;
        if (call && isRequest(m)) {
          this.#calls.settle(call, 'aborted', 'rejected');
          void this.#toClient(rpcError(m.id, -32000, 'Too many requests while the upstream link opens'));
        }
      }
    } else this.#sendNow(m);
  }

  /** Stops holding and sends what waited, in order (until something holds again). */
  #release(): void {
    this.#hold.holding = false;
    while (!this.#hold.holding && this.#via && this.#hold.length > 0) this.#sendNow(this.#hold.shift() as Msg);
  }

  #sendNow(m: Msg): void {
    if (isRequest(m)) {
      const call = this.#calls.get(m.id);
      if (call) call.via = this.#via;
    }
    if (this.#via === 'shared') {
      void this.#shared?.send(m);
      return;
    }
    const link = this.#link;
    if (!link) return;
    const sent = link.transport.send(m);
    sent.catch((error: unknown) => this.#sendFailed(m, error));
    if (isNotification(m) && m.method === 'notifications/initialized') {
      // The SDK opens the upstream's standalone event stream once this is accepted; a request sent before that
      // stream exists may get a server-to-client request the upstream cannot deliver (issue 16 item 7).
      this.#hold.holding = true;
      void this.#bounded(sent.then(() => link.eventStreamReady()).catch(() => {})).then(() => this.#release());
    }
  }

  #sendFailed(m: Msg, error: unknown): void {
    if (this.#closing) return;
    this.deps.logger.debug('mcp session upstream send failed', { server: this.actor.name, error: String(error) });
    if (!isRequest(m)) return;
    const call = this.#calls.take(m.id);
    if (!call) return;
    const text = `UPSTREAM_UNAVAILABLE: server "${this.actor.name}" failed the request: ${String(error)}`;
    this.#calls.settle(call, 'failed', 'error', { error: text });
    void this.#toClient(call.tool !== undefined ? toolError(m.id, text) : rpcError(m.id, -32603, text));
  }

  /** The session's own upstream went away: answer everything not on the shared connection, then end. */
  async #linkLost(link: UpstreamLink): Promise<void> {
    const why = link.exitDescription();
    const text = `UPSTREAM_UNAVAILABLE: the upstream link of this session to server "${this.actor.name}" ${why ? `ended: its process ${why}` : 'closed'}`;
    this.#linkInit?.reject(new Error(text));
    const answers: Promise<void>[] = [];
    for (const [id, call] of this.#calls.entries()) {
      if (call.via === 'shared') continue;
      this.#calls.take(id);
      this.#calls.settle(call, 'failed', 'error', { error: text });
      answers.push(this.#toClient(call.tool !== undefined ? toolError(id, text) : rpcError(id, -32603, text)));
    }
    this.#hold.clear();
    await Promise.all(answers);
    void this.session.end('upstream_closed');
  }

  // ── upstream → client ─────────────────────────────────────────────────

  #fromUpstream(m: Msg, from: Via): void {
    if (isResponse(m)) {
      const init = this.#linkInit;
      if (from === 'link' && init && m.id === init.id) {
        init.resolve(m);
        return;
      }
      const call = this.#calls.get(m.id);
      if (!call || call.via !== from) return; // timed out or cancelled: the client already has its answer
      this.#calls.take(m.id);
      const result = m.result as Record<string, unknown> | undefined;
      if (call.method === 'tools/list' && result && Array.isArray(result.tools)) {
        void this.#toClient({
          ...m,
          result: { ...result, tools: pinTools(this.actor, result.tools, this.#listed) },
        } as Msg);
        return;
      }
      if (call.method === 'prompts/list' && this.deps.prompts && result && Array.isArray(result.prompts)) {
        void this.#toClient({
          ...m,
          result: { ...result, prompts: this.deps.prompts.filter(this.actor.name, result.prompts) },
        } as Msg);
        return;
      }
      this.#calls.answered(call, m);
      void this.#toClient(m);
      return;
    }
    let related: RequestId | undefined;
    if (isNotification(m) && m.method === 'notifications/progress') {
      related = this.#calls.withProgressToken(m.params?.progressToken);
    }
    // Server-to-client requests and notifications ride on the stream of the latest request in flight (as a server
    // answering that request would send them), else on the client's standalone GET stream.
    if (related === undefined) related = this.#calls.latest();
    void this.#toClient(m, related);
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

  // ── end ───────────────────────────────────────────────────────────────

  async close(reason: SessionEndReason): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#hold.close();
    this.#linkInit?.reject(new Error(`session ended (${reason})`));
    const link = this.#link;
    // Abort the session's upstream work: every request still in flight is cancelled upstream before closing.
    for (const [id, call] of this.#calls.entries()) {
      this.deps.clock.clearTimeout(call.timer);
      this.#calls.settle(call, 'aborted', 'error', { error: `session ended (${reason})` });
      if (link && call.via === 'link') {
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
    this.#hold.clear();
    await this.#shared?.close();
    await link?.close();
    if (this.ownLink) this.deps.links.release(this.actor.name, this.session);
    this.ownLink = false;
  }
}
