import {
  type Clock,
  type ToolCallStatus,
  type UpstreamCallResult,
  type UpstreamConnection,
  UpstreamError,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ToolCatalog } from './catalog.js';
import type { CircuitBreaker } from './circuit.js';
import { bounded, type Deadlines } from './deadline.js';
import { ActorError, type ActorErrorCode } from './errors.js';
import type { LifecycleState } from './lifecycle.js';
import { describeError } from './link.js';
import type { CallOutcome, CallPermit, ToolCallOptions } from './types.js';

/** What a call needs to know of its actor at the moment it is made. */
export interface CallHost {
  readonly name: string;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly catalog: ToolCatalog;
  readonly circuit: CircuitBreaker;
  readonly deadlines: Deadlines;
  /** The lifecycle state now. */
  lifecycle(): LifecycleState;
  /** The live connection, while there is one. */
  link(): UpstreamConnection | undefined;
  /** The default deadline of a call (`call_tool_timeout`). */
  callTimeout(): number;
}

/**
 * The call path of one actor: the checks in their documented order (closed, ready, listed, filters, approval,
 * circuit), the deadline, the circuit's bookkeeping and one `tool_called` per call, whatever its outcome.
 */
export class ToolCalls {
  /** Calls in flight. */
  pending = 0;
  private readonly host: CallHost;

  constructor(host: CallHost) {
    this.host = host;
  }

  /** Calls a callable tool through the circuit breaker with a deadline; rejects with an {@link ActorError}. */
  async call(tool: string, args: Record<string, unknown>, { signal, timeoutMs }: ToolCallOptions = {}) {
    const { name, catalog, circuit, clock } = this.host;
    const started = clock.now();
    const state = this.host.lifecycle();
    const conn = this.host.link();
    if (state === 'closed') throw this.reject(tool, 'STOPPED', `server "${name}" is closed`);
    if (state !== 'ready' || !conn) throw this.reject(tool, 'NOT_READY', `server "${name}" is ${state}, not ready`);
    const approval = catalog.approval(tool);
    if (approval === undefined) throw this.reject(tool, 'TOOL_NOT_FOUND', `server "${name}" has no tool "${tool}"`);
    if (!catalog.allowed(tool)) {
      throw this.reject(tool, 'TOOL_DISABLED', `tool "${tool}" of server "${name}" is disabled by config`);
    }
    if (approval !== 'approved') {
      const flagged = catalog.flagged(tool);
      const why = flagged
        ? `blocked by the tool scanner (${[...new Set(flagged.map((f) => `${f.check}: ${f.threat}`))].join(', ') || 'flagged'})`
        : approval === 'changed'
          ? 'changed since it was approved'
          : 'pending (new, not approved yet)';
      throw this.reject(
        tool,
        'TOOL_NOT_APPROVED',
        `tool "${tool}" of server "${name}" is ${why} and must be approved by a person before it can be called`,
      );
    }
    const permit = circuit.admit();
    if (!permit) throw this.reject(tool, 'CIRCUIT_OPEN', `circuit of server "${name}" is open`);
    const deadlineMs = timeoutMs ?? this.host.callTimeout();
    this.pending++;
    try {
      const result: UpstreamCallResult = await this.host.deadlines.run(
        deadlineMs,
        (s) => conn.callTool(tool, args, { signal: s, timeoutMs: bounded(deadlineMs) }),
        () => new ActorError('CALL_TIMEOUT', `tool "${tool}" of server "${name}" timed out after ${deadlineMs} ms`),
        signal,
      );
      circuit.settle(permit, 'ok');
      this.publish(tool, started, result.isError ? 'error' : 'ok');
      return result;
    } catch (error) {
      const err = toCallError(error);
      const counted = err.code === 'CALL_TIMEOUT' || err.code === 'CALL_FAILED';
      circuit.settle(permit, counted ? 'failed' : 'aborted');
      this.publish(tool, started, err.code === 'CALL_TIMEOUT' ? 'timeout' : 'error');
      throw err;
    } finally {
      this.pending--;
    }
  }

  /** A circuit permit for a call made on another link to this server; throws as {@link call} would refuse. */
  admit(): CallPermit {
    const { name, circuit } = this.host;
    const state = this.host.lifecycle();
    if (state === 'closed') throw new ActorError('STOPPED', `server "${name}" is closed`);
    if (state !== 'ready') throw new ActorError('NOT_READY', `server "${name}" is ${state}, not ready`);
    const permit = circuit.admit();
    if (!permit) throw new ActorError('CIRCUIT_OPEN', `circuit of server "${name}" is open`);
    return permit;
  }

  /** Feeds the outcome of an admitted call to the circuit breaker. */
  record(permit: CallPermit, outcome: CallOutcome): void {
    this.host.circuit.settle(permit, outcome);
  }

  private reject(tool: string, code: ActorErrorCode, message: string): ActorError {
    this.publish(tool, this.host.clock.now(), 'rejected');
    return new ActorError(code, message);
  }

  private publish(tool: string, started: number, status: ToolCallStatus): void {
    const { bus, clock, name } = this.host;
    bus.publish({ type: 'tool_called', server: name, data: { tool, duration_ms: clock.now() - started, status } });
  }
}

function toCallError(error: unknown): ActorError {
  if (error instanceof ActorError) return error;
  if (error instanceof UpstreamError) {
    if (error.code === 'CALL_TIMEOUT') return new ActorError('CALL_TIMEOUT', error.message, { cause: error });
    if (error.code === 'ABORTED') return new ActorError('ABORTED', error.message, { cause: error });
  }
  return new ActorError('CALL_FAILED', describeError(error), { cause: error });
}
