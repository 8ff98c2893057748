import {
  type Clock,
  type Logger,
  type ServerConfig,
  type UpstreamConnection,
  type UpstreamConnector,
  UpstreamError,
} from '@mcpproxy/contracts';
import { bounded } from './deadline.js';
import type { ActorFailureCode } from './types.js';

/** How a connect attempt ended, as the actor's lifecycle takes it. */
export interface AttemptResults {
  /** The connector gave a connection. */
  connected(attempt: ConnectAttempt, conn: UpstreamConnection): void;
  /** The connector failed, or the init timeout fired first (`init_timeout`). */
  failed(
    attempt: ConnectAttempt,
    message: string,
    code: ActorFailureCode,
    reason: 'connect_failed' | 'init_timeout',
  ): void;
}

export interface ConnectOptions {
  connector: UpstreamConnector;
  server: ServerConfig;
  /** Bounds connect + initialize + first listing; zero, negative or infinite = none. */
  timeoutMs: number;
}

/**
 * One connect attempt: the connector's promise under an init timeout on the injected clock, with an abort signal.
 * It settles once — connected, failed, timed out or aborted — and `done` resolves after the actor took the result,
 * so a command that began or joined it can wait for it.
 */
export class ConnectAttempt {
  readonly abort = new AbortController();
  readonly startedAt: number;
  /** Resolves once the attempt's result was taken (or it was aborted). */
  readonly done: Promise<void>;
  private settled = false;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly clock: Clock;
  private resolveDone!: () => void;

  constructor(clock: Clock) {
    this.clock = clock;
    this.startedAt = clock.now();
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /**
   * Arms the init timeout and calls the connector. `results` hears how it ended, at most once per outcome; the
   * caller decides (by {@link settle}) which outcome counts.
   */
  run({ connector, server, timeoutMs }: ConnectOptions, results: AttemptResults): void {
    const { abort, clock } = this;
    if (bounded(timeoutMs) !== undefined) {
      this.timer = clock.setTimeout(() => {
        this.timer = undefined;
        results.failed(this, `initialize timed out after ${timeoutMs} ms`, 'INIT_TIMEOUT', 'init_timeout');
        abort.abort(new UpstreamError('INIT_TIMEOUT', `initialize timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    let pending: Promise<UpstreamConnection>;
    try {
      pending = connector.connect(server, { signal: abort.signal, timeoutMs: bounded(timeoutMs) });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (conn) => results.connected(this, conn),
      (error: unknown) => results.failed(this, describeError(error), failureCode(error), 'connect_failed'),
    );
  }

  /** Marks the attempt finished and clears its timer; true only the first time. */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return true;
  }

  /** Settles it as aborted (a stop, a teardown): the connector's signal fires and waiters resume. */
  cancel(): void {
    if (!this.settle()) return;
    this.abort.abort(new UpstreamError('ABORTED', 'connect aborted'));
    this.resolveDone();
  }

  /** Lets the commands waiting on this attempt resume. */
  finish(): void {
    this.resolveDone();
  }
}

/** Connections being closed, so a teardown can wait until the upstream (for stdio, its process group) is gone. */
export class Closings {
  private readonly pending = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly server: string;

  constructor(server: string, logger: Logger) {
    this.server = server;
    this.logger = logger;
  }

  /** Closes `conn` in the background; a failure is logged, never thrown. */
  close(conn: UpstreamConnection): void {
    const closing = Promise.resolve()
      .then(() => conn.close())
      .catch((error: unknown) => {
        this.logger.warn('closing upstream connection failed', { server: this.server, error: describeError(error) });
      })
      .finally(() => {
        this.pending.delete(closing);
      });
    this.pending.add(closing);
  }

  /** Resolves once every close begun so far has ended. */
  async drain(): Promise<void> {
    if (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/** A failure's message for people and logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The code of a connect or connection failure; `UNKNOWN` when it carried none. */
export function failureCode(error: unknown): ActorFailureCode {
  return error instanceof UpstreamError ? error.code : 'UNKNOWN';
}
