/**
 * The requests one `/mcp/servers/{name}` session has in flight, and how a tool call's end is told: its outcome feeds
 * the actor's circuit breaker once, it is published as `tool_called` (metrics) and reported to the activity log.
 * Where a request is sent, queued or answered is the session's concern (passthrough.ts); this is the ledger.
 */
import type { CallOutcome, CallPermit, ServerActor } from '@mcpproxy/actor';
import type { Clock, Logger, TimerHandle, ToolCallStatus } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { PassthroughCallReport } from '../activity.js';
import type { Msg } from './passthrough-rules.js';
import type { McpSession } from './sessions.js';

/** Where a request was sent: over the actor's shared connection or the session's own link. */
export type Via = 'shared' | 'link';

/** One request in flight. */
export interface Call {
  method: string;
  /** For `tools/call`: the tool, for `tool_called`. */
  tool?: string | undefined;
  /** For `tools/call`: its arguments, for the activity log. */
  args?: unknown;
  started: number;
  timer?: TimerHandle | undefined;
  progressToken?: string | number | undefined;
  /** The circuit breaker's pass for a tool call; settled once with its outcome. */
  permit?: CallPermit | undefined;
  /** Where it was sent; `undefined` while it waits in the queue. */
  via?: Via | undefined;
}

/** What the ledger reports to. */
export interface CallReportDeps {
  bus: Pick<EventBus, 'publish'>;
  clock: Clock;
  logger: Logger;
  /** Hears every tool call once it settled (the activity log); must only queue. @default none */
  onToolCall?: ((call: PassthroughCallReport) => void) | undefined;
}

/** The requests of one session in flight, in the order they were sent. */
export class PendingCalls {
  readonly #calls = new Map<RequestId, Call>();
  /** The client's `clientInfo` from `initialize`, for the activity log; unknown until then. */
  clientInfo: unknown;

  constructor(
    private readonly actor: ServerActor,
    private readonly session: Pick<McpSession, 'id'>,
    private readonly deps: CallReportDeps,
  ) {}

  get size(): number {
    return this.#calls.size;
  }

  get(id: RequestId): Call | undefined {
    return this.#calls.get(id);
  }

  set(id: RequestId, call: Call): void {
    this.#calls.set(id, call);
  }

  delete(id: RequestId): void {
    this.#calls.delete(id);
  }

  /** Removes the call of `id` and stops its deadline; `undefined` when it was already answered. */
  take(id: RequestId): Call | undefined {
    const call = this.#calls.get(id);
    if (!call) return undefined;
    this.#calls.delete(id);
    this.deps.clock.clearTimeout(call.timer);
    return call;
  }

  entries(): IterableIterator<[RequestId, Call]> {
    return this.#calls.entries();
  }

  clear(): void {
    this.#calls.clear();
  }

  /** The latest request whose progress token is `token`, if any. */
  withProgressToken(token: unknown): RequestId | undefined {
    let related: RequestId | undefined;
    for (const [id, call] of this.#calls) if (call.progressToken === token) related = id;
    return related;
  }

  /** The latest request in flight, if any. */
  latest(): RequestId | undefined {
    let last: RequestId | undefined;
    for (const id of this.#calls.keys()) last = id;
    return last;
  }

  /** Settles a tool call: its outcome feeds the circuit breaker once, and it is reported as `tool_called`. */
  settle(
    call: Call,
    outcome: CallOutcome,
    status: ToolCallStatus,
    end: { result?: unknown; error?: string } = {},
  ): void {
    if (call.tool === undefined) return;
    if (call.permit) this.actor.recordCallOutcome(call.permit, outcome);
    call.permit = undefined;
    this.report(call.tool, call.started, status, { args: call.args, ...end });
  }

  /** Settles a tool call with the upstream's answer `m`, as `callTool` counts them. */
  answered(call: Call, m: Msg): void {
    if (call.tool === undefined) return;
    // An answer (also an isError result) is a success, a JSON-RPC error a failure.
    const result = m.result as Record<string, unknown> | undefined;
    const failed = 'error' in m;
    const rpcErr = failed ? (m as { error?: { message?: unknown } }).error : undefined;
    this.settle(call, failed ? 'failed' : 'ok', failed || result?.isError === true ? 'error' : 'ok', {
      result,
      error: rpcErr ? String(rpcErr.message ?? 'JSON-RPC error') : undefined,
    });
  }

  /** Publishes `tool_called` and tells the activity log (a throwing listener is logged, never thrown). */
  report(
    tool: string,
    started: number,
    status: ToolCallStatus,
    detail: { args?: unknown; result?: unknown; error?: string | undefined } = {},
  ): void {
    const duration_ms = this.deps.clock.now() - started;
    this.deps.bus.publish({ type: 'tool_called', server: this.actor.name, data: { tool, duration_ms, status } });
    const report = this.deps.onToolCall;
    if (!report) return;
    const client = this.clientInfo as { name?: unknown; version?: unknown } | undefined;
    try {
      report({
        server: this.actor.name,
        tool,
        origin: {
          surface: 'mcp_server',
          session: this.session.id,
          client: {
            name: typeof client?.name === 'string' ? client.name : undefined,
            version: typeof client?.version === 'string' ? client.version : undefined,
          },
        },
        status,
        duration_ms,
        arguments: detail.args,
        result: detail.result,
        error: detail.error,
      });
    } catch (error) {
      this.deps.logger.error('activity: recording a passthrough call failed', { error: String(error) });
    }
  }
}
