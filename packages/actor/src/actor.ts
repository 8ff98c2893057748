/**
 * The actor: the shell that wires one upstream server's parts. It owns the connection and the config, turns
 * commands (through the mailbox) and results (connects, pings, listings) into lifecycle inputs, and runs the effects
 * `transition()` answers. The parts, each in its own module with its own tests:
 * `lifecycle.ts` (the transition table), `retry.ts` (backoff and auto-disable), `circuit.ts` (circuit breaker),
 * `catalog.ts` (tool pinning, approvals, filters), `health.ts` (ping and discovery timers, health record),
 * `calls.ts` (the tool-call path), `link.ts` (a connect attempt, closing connections), `deadline.ts`, `mailbox.ts`.
 */
import {
  type CircuitState,
  type Clock,
  type Logger,
  type ScanFinding,
  type ServerConfig,
  type ServerSummary,
  silentLogger,
  systemClock,
  type ToolInfo,
  type UpstreamCallResult,
  type UpstreamConnection,
  type UpstreamConnector,
  type UpstreamTool,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { createMemoryApprovals } from './approvals.js';
import { ToolCalls } from './calls.js';
import { type ApprovalChange, type ListingChanges, ToolCatalog } from './catalog.js';
import { CircuitBreaker } from './circuit.js';
import { bounded, Deadlines } from './deadline.js';
import { ActorError } from './errors.js';
import { HealthRecord, ReadySchedule, type ReadyScheduleHost } from './health.js';
import {
  configInput,
  type LifecycleEffect,
  type LifecycleInput,
  type LifecycleState,
  transition,
} from './lifecycle.js';
import { type AttemptResults, Closings, ConnectAttempt, describeError, failureCode } from './link.js';
import { Mailbox } from './mailbox.js';
import { RetryPolicy } from './retry.js';
import { type ActorConfig, type ActorSettings, DEFAULT_ACTOR_SETTINGS } from './settings.js';
import type { ActorCommand, ActorFailureCode, ActorHealth, ServerActor, ServerActorOptions } from './types.js';

/** What the effects of one step work on besides the actor's fields: the result that caused it. */
interface StepContext {
  conn?: UpstreamConnection;
  attempt?: Attempt;
  listing?: ListingChanges;
  message?: string;
  code?: ActorFailureCode;
}

/** A step's answer: the attempt to wait on, at once or once a teardown finished. */
type Waitable = Attempt | undefined | Promise<Attempt | undefined>;
type Attempt = ConnectAttempt;

const EMPTY: readonly never[] = Object.freeze([]);
/** The context of a step caused by a command (no result to carry); effects that need one do not run on it. */
const NO_CONTEXT: StepContext = Object.freeze({});

/** Creates the actor of one upstream server. It starts in `idle` (or `quarantined` / `disabled`); call `start()`. */
export function createServerActor(name: string, options: ServerActorOptions): ServerActor {
  return new Actor(name, options);
}

/**
 * The shell: it keeps the connection and the config, turns commands and results into lifecycle inputs, and runs
 * the effects `transition()` answers. The policies it wires: {@link RetryPolicy}, {@link CircuitBreaker},
 * {@link ToolCatalog}, {@link ReadySchedule} and {@link HealthRecord}.
 */
class Actor implements ServerActor, AttemptResults, ReadyScheduleHost {
  readonly name: string;
  private readonly connector: UpstreamConnector;
  private readonly bus: EventBus;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly mailbox: Mailbox;
  private readonly retry: RetryPolicy;
  private readonly catalog: ToolCatalog;
  private readonly record = new HealthRecord();
  // Made when first needed: an idle actor of a large config never calls, pings or lists (see bench/run.ts, heap).
  private circuitPart: CircuitBreaker | undefined;
  private schedulePart: ReadySchedule | undefined;
  private deadlinesPart: Deadlines | undefined;

  private server: ServerConfig;
  private settings: ActorSettings;
  private groups: readonly string[] = EMPTY;
  private state: LifecycleState;
  private summary!: ServerSummary;
  private connectedAt: string | null = null;
  private lastError: string | null = null;
  private closing: Promise<void> | undefined;

  private attempt: Attempt | undefined;
  private conn: UpstreamConnection | undefined;
  private connUnsubscribe: (() => void)[] = [];
  private readonly closings: Closings;
  private lastStderr: string[] = [];
  private calls: ToolCalls | undefined;

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

  // ── reads ──────────────────────────────────────────────────────────────

  getState(): ServerSummary {
    return this.summary;
  }

  health(): ActorHealth {
    return this.record.read();
  }

  config(): Required<ActorConfig> {
    return { server: this.server, settings: this.settings };
  }

  tools(): readonly ToolInfo[] {
    return this.catalog.tools();
  }

  callableTools(): readonly UpstreamTool[] {
    return this.catalog.callable();
  }

  connection(): UpstreamConnection | undefined {
    return this.state === 'ready' ? this.conn : undefined;
  }

  stderrTail(): string[] {
    return this.conn ? this.conn.stderrTail() : [...this.lastStderr];
  }

  pendingCalls(): number {
    return this.calls?.pending ?? 0;
  }

  // ── commands ───────────────────────────────────────────────────────────

  send(command: ActorCommand): Promise<void> {
    switch (command.type) {
      case 'start':
        return this.start();
      case 'stop':
        return this.stop();
      case 'restart':
        return this.restart();
      case 'enable':
        return this.enable();
      case 'disable':
        return this.disable();
      case 'update':
        return this.update(command.config);
    }
  }

  start(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'start', resting: this.resting() }));
  }

  stop(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'stop' }));
  }

  restart(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'restart', resting: this.resting() }));
  }

  enable(): Promise<void> {
    return this.command(() => {
      if (this.state !== 'closed' && !this.server.enabled) this.server = { ...this.server, enabled: true };
      return this.dispatch({ type: 'enable', quarantined: this.server.quarantined });
    });
  }

  disable(): Promise<void> {
    return this.command(() => {
      if (this.state !== 'closed' && this.server.enabled) this.server = { ...this.server, enabled: false };
      return this.dispatch({ type: 'disable', quarantined: this.server.quarantined });
    });
  }

  update(config: ActorConfig): Promise<void> {
    return this.mailbox.enqueue(async () => {
      if (this.state === 'closed') return;
      const prev = this.server;
      const prevSettings = this.settings;
      const next = config.server;
      this.server = next;
      this.settings = config.settings ?? DEFAULT_ACTOR_SETTINGS;
      this.retry.settings = this.settings.retry;
      this.applyServerFields(next);
      await this.dispatch(configInput(prev, prevSettings, next, this.settings));
    });
  }

  approveTools(names?: readonly string[]): Promise<string[]> {
    return this.mailbox.enqueue(() => {
      const changes = this.catalog.approve(names);
      if (changes.length > 0) {
        this.refresh();
        this.publishApprovals(changes);
      }
      return changes.map((c) => c.tool);
    });
  }

  holdTools(findings: ReadonlyMap<string, readonly ScanFinding[]>): Promise<string[]> {
    return this.mailbox.enqueue(() => {
      const changes = this.catalog.hold(findings);
      if (changes.length > 0) {
        this.refresh();
        this.publishApprovals(changes);
      }
      return changes.map((c) => c.tool);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.mailbox.enqueue(async () => {
      await this.dispatch({ type: 'close' });
    }, true);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Queues a command; it settles once processed, and for a connect it began or joined, once that settled. */
  private command(step: () => Waitable): Promise<void> {
    return this.mailbox.enqueue(step).then((a) => a?.done);
  }

  // ── the lifecycle shell ────────────────────────────────────────────────

  /**
   * Feeds `input` to the lifecycle and runs its effects in order; answers the attempt a caller should wait on.
   * Synchronous unless a teardown has to wait for a connection to close, so a step is never seen half done.
   */
  private dispatch(input: LifecycleInput, ctx: StepContext = NO_CONTEXT): Waitable {
    return this.runEffects(transition(this.state, input).effects, 0, ctx, undefined);
  }

  private runEffects(
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
  private run(effect: LifecycleEffect, ctx: StepContext): Attempt | undefined {
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
        this.bus.publish({
          type: 'server_auto_disabled',
          server: this.name,
          data: { reason: ctx.message ?? '', failures: this.retry.failures, summary: this.summary },
        });
        return undefined;
      case 'reschedule':
        if (this.conn) this.startSchedule();
        return undefined;
    }
  }

  /** Enters `to` and publishes `server_state_changed` when it differs from the state left. */
  private enter(to: LifecycleState, reason: string, error?: string): void {
    const from = this.state;
    this.state = to;
    if (to !== 'error') this.retry.clear();
    if (to !== 'ready') this.connectedAt = null;
    this.refresh();
    const shownFrom = shown(from);
    const shownTo = shown(to);
    if (shownFrom === shownTo) return;
    this.logger.info('server state changed', { server: this.name, from: shownFrom, to: shownTo, reason });
    this.bus.publish({
      type: 'server_state_changed',
      server: this.name,
      data: {
        from: shownFrom,
        to: shownTo,
        reason,
        ...(error === undefined ? {} : { error }),
        retry_count: this.retry.failures,
        next_retry_at: this.retry.nextRetryAt,
        summary: this.summary,
      },
    });
  }

  // ── connecting ─────────────────────────────────────────────────────────

  private beginConnect(reason: string): Attempt {
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
  private settle(attempt: Attempt): boolean {
    if (this.attempt !== attempt || !attempt.settle()) return false;
    this.attempt = undefined;
    return true;
  }

  private takeConnection(attempt: Attempt, conn: UpstreamConnection): Waitable {
    // Aborted or timed out while the connector was still finishing: this connection is nobody's.
    if (!this.settle(attempt)) {
      this.closings.close(conn);
      return undefined;
    }
    return settleAfter(this.dispatch({ type: 'connected' }, { conn, attempt }), attempt);
  }

  private takeFailure(
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
  private attach(conn: UpstreamConnection, ctx: StepContext): void {
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

  private announce(conn: UpstreamConnection, attempt: Attempt, listing: ListingChanges | undefined): void {
    this.bus.publish({
      type: 'connection_established',
      server: this.name,
      data: {
        protocol: conn.protocol,
        tool_count: this.catalog.size,
        duration_ms: this.clock.now() - attempt.startedAt,
        summary: this.summary,
      },
    });
    if (listing) this.publishListing(listing);
    this.startSchedule();
  }

  /** The connection ended (closed by the upstream, or a failed health check): → `error` and retry. */
  private lost(
    conn: UpstreamConnection,
    message: string,
    code: ActorFailureCode,
    reason: 'connection_lost' | 'health_check_failed' = 'connection_lost',
  ): Waitable {
    if (this.conn !== conn || this.state === 'closed') return undefined;
    return this.dispatch({ type: 'lost', reason }, { conn, message, code });
  }

  private detachLost(conn: UpstreamConnection, { message = '', code = 'UNKNOWN' }: StepContext): void {
    this.detachConn();
    this.closings.close(conn);
    this.lastError = message;
    this.record.setErrorCode(code);
    this.refresh();
    this.logger.warn('upstream connection lost', { server: this.name, error: message });
    this.bus.publish({ type: 'connection_lost', server: this.name, data: { error: message, summary: this.summary } });
  }

  private detachConn(): void {
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
  private async teardown(): Promise<void> {
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

  // ── health and discovery ───────────────────────────────────────────────

  private startSchedule(): void {
    this.schedule().start(
      this.server.health_check_interval ?? this.settings.health_check_interval,
      this.settings.tool_discovery_interval,
    );
  }

  /** {@link ReadyScheduleHost}: the ping timer fired. Not part of {@link ServerActor}. */
  pingDue(): void {
    const conn = this.conn;
    if (!conn) return;
    const interval = this.server.health_check_interval ?? this.settings.health_check_interval;
    const sent = this.clock.now();
    let timedOut = false;
    this.deadlines()
      .run(
        interval,
        (signal) => conn.ping({ signal, timeoutMs: interval }),
        () => {
          timedOut = true;
          return new Error(`ping timed out after ${interval} ms`);
        },
      )
      .then(
        () => {
          if (this.conn !== conn) return;
          // Outside the mailbox, like the ping itself, since it only sets three fields.
          this.record.pinged(sent, this.clock.now());
          this.schedule().pinged();
        },
        (error: unknown) =>
          this.internal(() =>
            this.lost(
              conn,
              `health check failed: ${describeError(error)}`,
              timedOut ? 'PING_TIMEOUT' : failureCode(error),
              'health_check_failed',
            ),
          ),
      );
  }

  /** {@link ReadyScheduleHost}: the discovery timer fired; the listing runs as a step. Not part of {@link ServerActor}. */
  relistDue(): void {
    const conn = this.conn;
    this.internal(() => this.relist(conn));
  }

  private relist(conn: UpstreamConnection | undefined): void {
    if (!conn || this.conn !== conn || !this.schedule().beginRelist()) return;
    const timeoutMs = this.server.init_timeout ?? this.settings.init_timeout;
    this.deadlines()
      .run(
        timeoutMs,
        (signal) => conn.listTools({ signal, timeoutMs: bounded(timeoutMs) }),
        () => new Error(`tools/list timed out after ${timeoutMs} ms`),
      )
      .then(
        (tools) => this.internal(() => this.relisted(conn, tools)),
        (error: unknown) => this.internal(() => this.relisted(conn, undefined, error)),
      );
  }

  private relisted(conn: UpstreamConnection, tools: readonly UpstreamTool[] | undefined, error?: unknown): void {
    if (this.conn !== conn) return;
    if (tools) {
      const listing = this.catalog.applyListing(tools);
      this.refresh();
      this.publishListing(listing);
    } else this.logger.warn('re-listing tools failed', { server: this.name, error: describeError(error) });
    if (this.schedule().relisted()) this.relist(conn);
  }

  // ── tool catalog events ────────────────────────────────────────────────

  private publishListing({ added, removed, changed, approvals }: ListingChanges): void {
    if (added.length + removed.length + changed.length > 0) {
      this.bus.publish({
        type: 'tools_updated',
        server: this.name,
        data: { tool_count: this.catalog.size, added, removed, changed, summary: this.summary },
      });
    }
    this.publishApprovals(approvals);
  }

  private publishApprovals(changes: readonly ApprovalChange[]): void {
    for (const c of changes) {
      if (c.to !== 'approved')
        this.logger.warn('tool needs approval', { server: this.name, tool: c.tool, state: c.to });
      this.bus.publish({
        type: 'tool_quarantine_changed',
        server: this.name,
        data: {
          tool: c.tool,
          from: c.from,
          to: c.to,
          reason: c.reason,
          ...(c.findings ? { findings: [...c.findings] } : {}),
          summary: this.summary,
        },
      });
    }
  }

  // ── tool calls ─────────────────────────────────────────────────────────

  // Pure delegation to calls.ts, so the signatures are the interface's own.
  callTool(...[tool, args, options]: Parameters<ServerActor['callTool']>): Promise<UpstreamCallResult> {
    return this.toolCalls().call(tool, args, options);
  }

  admitCall(): ReturnType<ServerActor['admitCall']> {
    return this.toolCalls().admit();
  }

  recordCallOutcome(...[permit, outcome]: Parameters<ServerActor['recordCallOutcome']>): void {
    this.toolCalls().record(permit, outcome);
  }

  /** The call path, made on the first call: most actors of a large config are never called. */
  private toolCalls(): ToolCalls {
    this.calls ??= new ToolCalls({
      name: this.name,
      bus: this.bus,
      clock: this.clock,
      catalog: this.catalog,
      circuit: this.circuit(),
      deadlines: this.deadlines(),
      lifecycle: () => this.state,
      link: () => this.conn,
      callTimeout: () => this.settings.call_tool_timeout,
    });
    return this.calls;
  }

  private circuit(): CircuitBreaker {
    this.circuitPart ??= new CircuitBreaker({
      clock: this.clock,
      settings: () => this.settings.circuit_breaker,
      onChange: (from, to) => this.circuitChanged(from, to),
    });
    return this.circuitPart;
  }

  private schedule(): ReadySchedule {
    this.schedulePart ??= new ReadySchedule({ clock: this.clock, host: this });
    return this.schedulePart;
  }

  private deadlines(): Deadlines {
    this.deadlinesPart ??= new Deadlines(this.clock);
    return this.deadlinesPart;
  }

  private circuitChanged(from: CircuitState, to: CircuitState): void {
    this.refresh();
    this.logger.info('circuit changed', { server: this.name, from, to });
    this.bus.publish({ type: 'circuit_state_changed', server: this.name, data: { from, to, summary: this.summary } });
  }

  // ── internals ──────────────────────────────────────────────────────────

  private applyServerFields(server: ServerConfig): void {
    if (this.groups.length !== server.groups.length || this.groups.some((g, i) => g !== server.groups[i])) {
      this.groups = server.groups.length === 0 ? EMPTY : Object.freeze([...server.groups]);
    }
    this.catalog.setFilters(server);
  }

  /** Where the actor rests instead of connecting, if anywhere. */
  private resting(): 'quarantined' | 'disabled' | null {
    if (this.server.quarantined) return 'quarantined';
    if (!this.server.enabled || this.retry.autoDisabled) return 'disabled';
    return null;
  }

  private refresh(): void {
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
  private internal(fn: () => unknown): void {
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
