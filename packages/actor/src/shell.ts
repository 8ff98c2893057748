/**
 * The actor's lifecycle shell: it owns the connection and the config, turns results (connects, closes, lost
 * connections) into lifecycle inputs, runs the effects `transition()` answers, and publishes what changed. Over it,
 * `ready.ts` adds what runs while connected (pings, re-listing) and `actor.ts` the public command API. The parts it wires, each in its own module with its own tests:
 * `lifecycle.ts` (the transition table), `retry.ts` (backoff and auto-disable), `circuit.ts` (circuit breaker),
 * `catalog.ts` (tool pinning, approvals, filters), `health.ts` (ping and discovery timers, health record),
 * `link.ts` (a connect attempt, closing connections), `deadline.ts`, `mailbox.ts`.
 */
import {
  type CircuitState,
  type Clock,
  type Logger,
  type ServerConfig,
  type ServerSummary,
  silentLogger,
  systemClock,
  type UpstreamConnection,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { createMemoryApprovals } from './approvals.js';
import { type ListingChanges, ToolCatalog } from './catalog.js';
import { CircuitBreaker } from './circuit.js';
import { Deadlines } from './deadline.js';
import { ActorError } from './errors.js';
import { HealthRecord, type ReadySchedule } from './health.js';
import { type LifecycleEffect, type LifecycleInput, type LifecycleState, transition } from './lifecycle.js';
import { type AttemptResults, Closings, ConnectAttempt, describeError, failureCode } from './link.js';
import { Mailbox } from './mailbox.js';
import { publishAutoDisabled, publishCircuit, publishConnected, publishLost, publishStateChange } from './publish.js';
import { RetryPolicy } from './retry.js';
import { type ActorSettings, DEFAULT_ACTOR_SETTINGS } from './settings.js';
import type { ActorFailureCode, ServerActor, ServerActorOptions } from './types.js';

/** What the effects of one step work on besides the actor's fields: the result that caused it. */
interface StepContext {
  conn?: UpstreamConnection;
  attempt?: Attempt;
  listing?: ListingChanges;
  message?: string;
  code?: ActorFailureCode;
}

/** A step's answer: the attempt to wait on, at once or once a teardown finished. */
export type Waitable = Attempt | undefined | Promise<Attempt | undefined>;
export type Attempt = ConnectAttempt;

const EMPTY: readonly never[] = Object.freeze([]);
/** The context of a step caused by a command (no result to carry); effects that need one do not run on it. */
const NO_CONTEXT: StepContext = Object.freeze({});

/**
 * The shell: it keeps the connection and the config, turns results into lifecycle inputs, and runs the effects
 * `transition()` answers. The policies it wires: {@link RetryPolicy}, {@link CircuitBreaker},
 * {@link ToolCatalog}, {@link ReadySchedule} and {@link HealthRecord}. A base class rather than a part the actor
 * holds, so an idle actor costs no extra object (see bench/run.ts, heap).
 */
export abstract class ActorShell implements AttemptResults {
  readonly name: string;
  protected readonly connector: UpstreamConnector;
  // Not private: the actor is its own {@link Outlet} (publish.ts), which costs no object.
  readonly bus: EventBus;
  protected readonly clock: Clock;
  readonly logger: Logger;
  protected readonly mailbox: Mailbox;
  protected readonly retry: RetryPolicy;
  protected readonly catalog: ToolCatalog;
  protected readonly record = new HealthRecord();
  // Made when first needed: an idle actor of a large config never calls, pings or lists (see bench/run.ts, heap).
  protected circuitPart: CircuitBreaker | undefined;
  protected schedulePart: ReadySchedule | undefined;
  protected deadlinesPart: Deadlines | undefined;

  protected server: ServerConfig;
  protected settings: ActorSettings;
  protected groups: readonly string[] = EMPTY;
  protected state: LifecycleState;
  protected summary!: ServerSummary;
  protected connectedAt: string | null = null;
  protected lastError: string | null = null;

  protected attempt: Attempt | undefined;
  protected conn: UpstreamConnection | undefined;
  protected connUnsubscribe: (() => void)[] = [];
  protected readonly closings: Closings;
  protected lastStderr: string[] = [];

  constructor(
    name: string,
    {
      config,
      connector,
      bus,
      clock = systemClock,
      logger = silentLogger,
      approvals = createMemoryApprovals(),
      assess,
      random = Math.random,
      mailboxLimit = 256,
    }: ServerActorOptions,
  ) {
    this.name = name;
    this.connector = connector;
    this.bus = bus;
    this.clock = clock;
    this.logger = logger;
    this.mailbox = new Mailbox(name, mailboxLimit);
    this.closings = new Closings(name, logger);
    this.server = config.server;
    this.settings = config.settings ?? DEFAULT_ACTOR_SETTINGS;
    this.retry = new RetryPolicy({ clock, random, settings: this.settings.retry });
    this.catalog = new ToolCatalog({ server: name, approvals, assess });
    this.applyServerFields(config.server);
    this.state = this.resting() ?? 'idle';
    this.refresh();
  }

  /** Starts the ping and discovery timers of a new connection (ready.ts). */
  protected abstract startSchedule(): void;
  /** Lists `conn`'s tools again, when it is still the connection (ready.ts). */
  protected abstract relist(conn: UpstreamConnection | undefined): void;

  // ── the lifecycle shell ────────────────────────────────────────────────

  /**
   * Feeds `input` to the lifecycle and runs its effects in order; answers the attempt a caller should wait on.
   * Synchronous unless a teardown has to wait for a connection to close, so a step is never seen half done.
   */
  protected dispatch(input: LifecycleInput, ctx: StepContext = NO_CONTEXT): Waitable {
    return this.runEffects(transition(this.state, input).effects, 0, ctx, undefined);
  }

  protected runEffects(
    effects: readonly LifecycleEffect[],
    from: number,
    ctx: StepContext,
    wait: Attempt | undefined,
  ): Waitable {
    for (let i = from; i < effects.length; i++) {
      const effect = effects[i] as LifecycleEffect;
      if (effect.type === 'teardown') return this.teardown().then(() => this.runEffects(effects, i + 1, ctx, wait));
      wait = this.run(effect, ctx) ?? wait;
    }
    return wait;
  }

  /** Runs one effect other than `teardown`. */
  protected run(effect: LifecycleEffect, ctx: StepContext): Attempt | undefined {
    switch (effect.type) {
      case 'teardown':
        throw new Error('teardown runs in runEffects');
      case 'reset_failures':
        this.retry.reset();
        return undefined;
      case 'clear_auto_disable':
        this.retry.clearDisable();
        return undefined;
      case 'forget_tools':
        this.catalog.forget();
        return undefined;
      case 'connect':
        return this.beginConnect(effect.reason);
      case 'join':
        return this.attempt;
      case 'enter':
        this.enter(effect.state, effect.reason, effect.error ? (this.lastError ?? undefined) : undefined);
        return undefined;
      case 'refresh':
        this.refresh();
        return undefined;
      case 'attach':
        if (ctx.conn) this.attach(ctx.conn, ctx);
        return undefined;
      case 'announce':
        if (ctx.conn && ctx.attempt) this.announce(ctx.conn, ctx.attempt, ctx.listing);
        return undefined;
      case 'discard':
        if (ctx.conn) this.closings.close(ctx.conn);
        return undefined;
      case 'record_failure':
        this.lastError = ctx.message ?? null;
        this.record.setErrorCode(ctx.code ?? 'UNKNOWN');
        this.retry.recordFailure();
        this.logger.warn('upstream connect failed', {
          server: this.name,
          error: ctx.message,
          failures: this.retry.failures,
        });
        return undefined;
      case 'detach':
        if (ctx.conn) this.detachLost(ctx.conn, ctx);
        return undefined;
      case 'schedule_retry':
        this.retry.schedule(() => this.internal(() => void this.dispatch({ type: 'retry_due' })));
        return undefined;
      case 'auto_disable':
        this.retry.disable(ctx.message ?? '');
        return undefined;
      case 'publish_auto_disabled':
        publishAutoDisabled(this, this.summary, ctx.message ?? '', this.retry.failures);
        return undefined;
      case 'reschedule':
        if (this.conn) this.startSchedule();
        return undefined;
    }
  }

  /** Enters `to` and publishes `server_state_changed` when it differs from the state left. */
  protected enter(to: LifecycleState, reason: string, error?: string): void {
    const from = this.state;
    this.state = to;
    if (to !== 'error') this.retry.clear();
    if (to !== 'ready') this.connectedAt = null;
    this.refresh();
    const shownFrom = shown(from);
    if (shownFrom === shown(to)) return;
    publishStateChange(this, this.summary, shownFrom, reason, error);
  }

  // ── connecting ─────────────────────────────────────────────────────────

  protected beginConnect(reason: string): Attempt {
    this.retry.clear();
    // The attempt is current before `connecting` is published, so a listener's command joins it; the connector is
    // called after, so what it does comes after `connecting` too.
    const attempt = new ConnectAttempt(this.clock);
    this.attempt = attempt;
    this.enter('connecting', reason);
    const { connector, server } = this;
    attempt.run({ connector, server, timeoutMs: server.init_timeout ?? this.settings.init_timeout }, this);
    return attempt;
  }

  /**
   * {@link AttemptResults}: a connect result goes into the mailbox as a step. Not part of {@link ServerActor}; the
   * actor is its own listener so a pending connect costs no extra closures (see bench/run.ts, heap).
   */
  connected(attempt: Attempt, conn: UpstreamConnection): void {
    this.internal(() => this.takeConnection(attempt, conn));
  }

  /** {@link AttemptResults}: see {@link connected}. */
  failed(attempt: Attempt, message: string, code: ActorFailureCode, reason: 'connect_failed' | 'init_timeout'): void {
    this.internal(() => this.takeFailure(attempt, message, code, reason));
  }

  /** Marks the current attempt finished; true when this call is the one that settled it. */
  protected settle(attempt: Attempt): boolean {
    if (this.attempt !== attempt || !attempt.settle()) return false;
    this.attempt = undefined;
    return true;
  }

  protected takeConnection(attempt: Attempt, conn: UpstreamConnection): Waitable {
    // Aborted or timed out while the connector was still finishing: this connection is nobody's.
    if (!this.settle(attempt)) {
      this.closings.close(conn);
      return undefined;
    }
    return settleAfter(this.dispatch({ type: 'connected' }, { conn, attempt }), attempt);
  }

  protected takeFailure(
    attempt: Attempt,
    message: string,
    code: ActorFailureCode,
    reason: 'connect_failed' | 'init_timeout',
  ): Waitable {
    if (!this.settle(attempt)) return undefined;
    const step = this.dispatch(
      { type: 'connect_failed', reason, giveUp: this.retry.exhaustedByNext() },
      { message, code },
    );
    return settleAfter(step, attempt);
  }

  /** Takes a new connection: subscriptions, errors cleared, the listing applied (published after `ready`). */
  protected attach(conn: UpstreamConnection, ctx: StepContext): void {
    this.conn = conn;
    this.connUnsubscribe = [
      conn.onClose((error) =>
        this.internal(() =>
          this.lost(conn, error?.message || 'connection closed', error ? failureCode(error) : 'CLOSED'),
        ),
      ),
      conn.onToolsChanged(() => this.internal(() => this.relist(conn))),
    ];
    this.retry.reset();
    this.lastError = null;
    this.record.setErrorCode(null);
    this.connectedAt = new Date(this.clock.now()).toISOString();
    ctx.listing = this.catalog.applyListing(conn.tools);
    this.refresh();
  }

  protected announce(conn: UpstreamConnection, attempt: Attempt, listing: ListingChanges | undefined): void {
    publishConnected(this, this.summary, conn.protocol, this.clock.now() - attempt.startedAt, listing);
    this.startSchedule();
  }

  /** The connection ended (closed by the upstream, or a failed health check): → `error` and retry. */
  protected lost(
    conn: UpstreamConnection,
    message: string,
    code: ActorFailureCode,
    reason: 'connection_lost' | 'health_check_failed' = 'connection_lost',
  ): Waitable {
    if (this.conn !== conn || this.state === 'closed') return undefined;
    return this.dispatch({ type: 'lost', reason }, { conn, message, code });
  }

  protected detachLost(conn: UpstreamConnection, { message = '', code = 'UNKNOWN' }: StepContext): void {
    this.detachConn();
    this.closings.close(conn);
    this.lastError = message;
    this.record.setErrorCode(code);
    this.refresh();
    publishLost(this, this.summary, message);
  }

  protected detachConn(): void {
    const conn = this.conn;
    if (!conn) return;
    for (const off of this.connUnsubscribe) off();
    this.connUnsubscribe = [];
    this.schedulePart?.stop();
    this.lastStderr = conn.stderrTail();
    this.conn = undefined;
    this.connectedAt = null;
  }

  /** Aborts the connect, clears every timer, aborts pings, listings and calls, closes the connection. */
  protected async teardown(): Promise<void> {
    this.attempt?.cancel();
    this.attempt = undefined;
    this.retry.clear();
    const conn = this.conn;
    this.detachConn();
    this.deadlinesPart?.abortAll(() => new ActorError('STOPPED', `server "${this.name}" was stopped`));
    this.circuitPart?.reset();
    if (conn) this.closings.close(conn);
    await this.closings.drain();
  }

  // ── lazy parts ───────────────────────────────────────────────────────────

  protected circuit(): CircuitBreaker {
    this.circuitPart ??= new CircuitBreaker({
      clock: this.clock,
      settings: () => this.settings.circuit_breaker,
      onChange: (from, to) => this.circuitChanged(from, to),
    });
    return this.circuitPart;
  }

  protected deadlines(): Deadlines {
    this.deadlinesPart ??= new Deadlines(this.clock);
    return this.deadlinesPart;
  }

  protected circuitChanged(from: CircuitState, to: CircuitState): void {
    this.refresh();
    publishCircuit(this, this.summary, from, to);
  }

  // ── internals ──────────────────────────────────────────────────────────

  protected applyServerFields(server: ServerConfig): void {
    if (this.groups.length !== server.groups.length || this.groups.some((g, i) => g !== server.groups[i])) {
      this.groups = server.groups.length === 0 ? EMPTY : Object.freeze([...server.groups]);
    }
    this.catalog.setFilters(server);
  }

  /** Where the actor rests instead of connecting, if anywhere. */
  protected resting(): 'quarantined' | 'disabled' | null {
    if (this.server.quarantined) return 'quarantined';
    if (!this.server.enabled || this.retry.autoDisabled) return 'disabled';
    return null;
  }

  protected refresh(): void {
    this.summary = Object.freeze({
      name: this.name,
      protocol: this.server.protocol,
      enabled: this.server.enabled && this.retry.autoDisabled === null,
      quarantined: this.server.quarantined,
      groups: this.groups as string[],
      state: shown(this.state),
      circuit: this.circuitPart?.state ?? 'closed',
      tool_count: this.catalog.size,
      retry_count: this.retry.failures,
      next_retry_at: this.retry.nextRetryAt,
      connected_at: this.connectedAt,
      last_error: this.lastError,
      auto_disabled: this.retry.autoDisabled,
      pending_tools: this.catalog.pending,
      changed_tools: this.catalog.changed,
    });
  }

  /** Queues an internal step (connect result, lost connection, retry); never bounded, never rejects. */
  protected internal(fn: () => unknown): void {
    this.mailbox.enqueue(fn, true).catch((error: unknown) => {
      this.logger.error('actor step failed', { server: this.name, error: describeError(error) });
    });
  }
}

/** Resolves the attempt once `step` (a connect result) has run. */
function settleAfter(step: Waitable, attempt: Attempt): Waitable {
  if (step instanceof Promise) {
    return step.then((wait) => {
      attempt.finish();
      return wait;
    });
  }
  attempt.finish();
  return step;
}

/** The state a summary shows: `closed` is `stopped` for good. */
function shown(state: LifecycleState): ServerSummary['state'] {
  return state === 'closed' ? 'stopped' : state;
}
