import {
  type CircuitState,
  type Clock,
  type Logger,
  type ServerConfig,
  type ServerState,
  type ServerSummary,
  silentLogger,
  systemClock,
  type ToolApprovalState,
  type ToolCallStatus,
  type ToolInfo,
  type UpstreamCallResult,
  type UpstreamConnection,
  type UpstreamConnector,
  UpstreamError,
  type UpstreamErrorCode,
  type UpstreamTool,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { type ApprovalsStore, createMemoryApprovals } from './approvals.js';
import { ActorError, type ActorErrorCode } from './errors.js';
import { toolHash } from './hash.js';
import {
  type ActorConfig,
  type ActorSettings,
  backoffDelay,
  connectionChanged,
  DEFAULT_ACTOR_SETTINGS,
} from './settings.js';

/** A command for the actor's mailbox. */
export type ActorCommand =
  | { type: 'start' }
  | { type: 'stop' }
  | { type: 'restart' }
  | { type: 'enable' }
  | { type: 'disable' }
  | { type: 'update'; config: ActorConfig };

/** Options of {@link ServerActor.callTool}. */
export interface ToolCallOptions {
  /** Aborts the call; it then fails with `ABORTED` (not counted by the circuit breaker). @default none */
  signal?: AbortSignal | undefined;
  /** Deadline of this call in ms; zero, negative or infinite means none. @default settings.call_tool_timeout */
  timeoutMs?: number | undefined;
}

/**
 * A pass through the circuit breaker for one call made on another link to this server (a transparent proxy's
 * per-session connection), from {@link ServerActor.admitCall}. Opaque; settle it once with
 * {@link ServerActor.recordCallOutcome}.
 */
export interface CallPermit {
  /** True when this call is the circuit's one half-open probe: its outcome closes or reopens the circuit. */
  readonly probe: boolean;
}

/**
 * How a call made outside {@link ServerActor.callTool} ended, as the circuit breaker counts it (the same rules as
 * `callTool`): `ok` (an answer, also a tool result with `isError`) resets the failure count and closes a half-open
 * circuit; `failed` (a JSON-RPC error, a transport failure, the upstream gone) and `timeout` count as failures;
 * `aborted` (the caller cancelled, its session ended) counts as neither and frees the half-open probe.
 */
export type CallOutcome = 'ok' | 'failed' | 'timeout' | 'aborted';

export interface ServerActorOptions {
  /** The server's config entry and the global settings it runs on. */
  config: ActorConfig;
  /** Opens upstream connections (`createConnector()` of `@mcpproxy/upstream`, or a scripted fake in tests). */
  connector: UpstreamConnector;
  /** Where every state change is published. */
  bus: EventBus;
  /** Time source of every timer (backoff, init timeout, ping, discovery, call deadlines, circuit). @default systemClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Approved tool hashes; share one store between actors and persist it to keep pins across restarts. @default in-memory */
  approvals?: ApprovalsStore | undefined;
  /** Source of backoff jitter, in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
  /** Commands that may wait in the mailbox; past it a command rejects with `BUSY`. @default 256 */
  mailboxLimit?: number | undefined;
}

/**
 * What failed last, as a closed code: the {@link UpstreamErrorCode} of the `UpstreamError` the connector or the
 * connection gave, or one of the actor's own:
 *
 * | code | meaning |
 * |---|---|
 * | `INIT_TIMEOUT` | also when the actor's own `init_timeout` timer fired before the connector gave up |
 * | `PING_TIMEOUT` | a health ping got no answer within `health_check_interval` |
 * | `UNKNOWN` | the failure carried no code (the connector threw something other than an `UpstreamError`) |
 *
 * A connection that ends without an error (the upstream went away) is `CLOSED`. No `ActorErrorCode` appears here:
 * those refuse calls and commands and never put the actor in `error`.
 */
export type ActorFailureCode = UpstreamErrorCode | 'PING_TIMEOUT' | 'UNKNOWN';

/** What {@link ServerActor.health} answers; frozen. */
export interface ActorHealth {
  /** When the last health ping answered (ISO 8601, on the injected clock); kept across reconnects. `null` until one has. */
  last_ping_at: string | null;
  /** Round trip of that ping in ms, on the injected clock. `null` until one has answered. */
  last_ping_ms: number | null;
  /**
   * The code of the failure behind the current `error` state, or of the last failed connect, lost connection or
   * failed ping (also after an auto-disable or a stop); `null` once the actor is `ready` again, and before any failure.
   * The message of the same failure is `getState().last_error`.
   */
  last_error_code: ActorFailureCode | null;
}

/**
 * One upstream server's supervisor: a state machine fed by a mailbox. Commands run one at a time; a connect
 * runs beside the mailbox so `stop`, `disable` and `update` can abort it at once. A failed step becomes the
 * `error` state (with a retry scheduled) and is never thrown at the caller.
 */
export interface ServerActor {
  /** The server's name. */
  readonly name: string;
  /** The current frozen summary; O(1), allocates nothing. */
  getState(): ServerSummary;
  /**
   * The last health ping (when it answered and its round trip) and the code of the last failure; O(1), frozen,
   * the same object until one of them changes.
   */
  health(): ActorHealth;
  /** The config the actor runs on now (settings resolved). */
  config(): Required<ActorConfig>;
  /** Puts a command in the mailbox; settles when processed (see the command methods). Rejects only with `BUSY`. */
  send(command: ActorCommand): Promise<void>;
  /**
   * Connects from `idle`, `stopped` or `error` (at once, skipping the pending retry). Resolves when that attempt
   * has settled (`ready`, `error`, `disabled` or aborted). A no-op while quarantined or disabled.
   */
  start(): Promise<void>;
  /** Aborts any connect, closes the connection (the whole process group for stdio), clears timers → `stopped`. */
  stop(): Promise<void>;
  /**
   * Sets `enabled`, clears an auto-disable and the failure count, and connects when the actor was `disabled`.
   * Resolves when that attempt settled. A quarantined server stays quarantined.
   */
  enable(): Promise<void>;
  /** Like `stop`, but → `disabled`; the actor stays down until `enable`. */
  disable(): Promise<void>;
  /**
   * Closes the connection (or aborts the connect) and connects again with the failure count reset; resolves when
   * the new attempt settled. A no-op while quarantined or disabled.
   */
  restart(): Promise<void>;
  /**
   * Applies a new config: quarantine / unquarantine, enable / disable, a reconnect when a connection field
   * changed (protocol, command, args, env, working_dir, url, headers, init_timeout), else just the new values.
   * Resolves once applied (it does not wait for a reconnect).
   */
  update(config: ActorConfig): Promise<void>;
  /**
   * Approves the current hashes of `names` (every pending and changed tool when omitted) and publishes
   * `tool_quarantine_changed` for each. Resolves with the names whose state changed. Rejects with
   * `TOOL_NOT_FOUND` (approving nothing) when a name is not in the last listing.
   */
  approveTools(names?: readonly string[]): Promise<string[]>;
  /** Every tool of the last listing with its hash and approval state. Frozen; the same array until it changes. */
  tools(): readonly ToolInfo[];
  /** Tools of the last listing that are approved and pass `enabled_tools` / `disabled_tools`. Frozen. */
  callableTools(): readonly UpstreamTool[];
  /** Calls a callable tool through the circuit breaker with a deadline; rejects with an {@link ActorError}. */
  callTool(tool: string, args: Record<string, unknown>, options?: ToolCallOptions): Promise<UpstreamCallResult>;
  /**
   * Asks the circuit breaker whether a call made on another link to this server (a transparent proxy's own
   * per-session connection) may go now, exactly as {@link callTool} would: throws an {@link ActorError}
   * `CIRCUIT_OPEN` while the circuit is open or its half-open probe is in flight, `NOT_READY` when the server is not
   * `ready`, `STOPPED` once closed. The permit must be settled with {@link recordCallOutcome}; in half-open the
   * first permit is the probe. Publishes nothing (the caller reports its own `tool_called`).
   */
  admitCall(): CallPermit;
  /**
   * Feeds the outcome of a call admitted by {@link admitCall} to the circuit breaker, like a {@link callTool}
   * outcome: consecutive `failed`/`timeout` outcomes open the circuit at `failure_threshold`. A permit counts once
   * (later records are ignored), and not at all when the circuit was reset since it was given (a reconnect).
   */
  recordCallOutcome(permit: CallPermit, outcome: CallOutcome): void;
  /** The live connection while `ready`, for a transparent proxy; `undefined` otherwise. */
  connection(): UpstreamConnection | undefined;
  /** Last stderr lines of the upstream (of the last connection once it is gone). */
  stderrTail(): string[];
  /** Tool calls in flight. */
  pendingCalls(): number;
  /** Stops for good: later commands are no-ops. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface ToolEntry {
  tool: UpstreamTool;
  hash: string;
  approval: ToolApprovalState;
  approvedHash: string | undefined;
  /** For a changed tool: the approved definition, when this actor listed it (kept in memory only). */
  approvedTool: UpstreamTool | undefined;
}

interface Attempt {
  id: number;
  abort: AbortController;
  timer: ReturnType<Clock['setTimeout']> | undefined;
  startedAt: number;
  settled: boolean;
  done: Promise<void>;
  resolve: () => void;
}

interface Deadline {
  abort(error: Error): void;
}

interface ApprovalChange {
  tool: string;
  from: ToolApprovalState | null;
  to: ToolApprovalState;
}

type Job = () => Promise<void>;

const EMPTY: readonly never[] = Object.freeze([]);

/** Creates the actor of one upstream server. It starts in `idle` (or `quarantined` / `disabled`); call `start()`. */
export function createServerActor(name: string, options: ServerActorOptions): ServerActor {
  return new Actor(name, options);
}

class Actor implements ServerActor {
  readonly name: string;
  private readonly connector: UpstreamConnector;
  private readonly bus: EventBus;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly approvals: ApprovalsStore;
  private readonly random: () => number;
  private readonly mailboxLimit: number;

  private server: ServerConfig;
  private settings: ActorSettings;
  private groups: readonly string[];
  private allow: ReadonlySet<string> | undefined;
  private deny: ReadonlySet<string> | undefined;

  private state: ServerState;
  private summary!: ServerSummary;
  private failures = 0;
  private nextRetryAt: string | null = null;
  private connectedAt: string | null = null;
  private lastError: string | null = null;
  private lastErrorCode: ActorFailureCode | null = null;
  private lastPingAt: string | null = null;
  private lastPingMs: number | null = null;
  private healthCache: ActorHealth | undefined;
  private autoDisabled: ServerSummary['auto_disabled'] = null;
  private closed = false;
  private closing: Promise<void> | undefined;

  private readonly queue: Job[] = [];
  private draining = false;

  private attempt: Attempt | undefined;
  private attemptSeq = 0;
  private conn: UpstreamConnection | undefined;
  private connUnsubscribe: (() => void)[] = [];
  private readonly closingConns = new Set<Promise<void>>();
  private lastStderr: string[] = [];
  private retryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private healthTimer: ReturnType<Clock['setTimeout']> | undefined;
  private discoveryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private relisting = false;
  private relistAgain = false;
  private readonly deadlines = new Set<Deadline>();
  private calls = 0;

  private circuit: CircuitState = 'closed';
  private circuitFailures = 0;
  private circuitTimer: ReturnType<Clock['setTimeout']> | undefined;
  private circuitEpoch = 0;
  private probing = false;
  /** Unsettled permits of {@link admitCall} with the circuit epoch they were given in. */
  private readonly permits = new WeakMap<CallPermit, number>();

  private entries = new Map<string, ToolEntry>();
  private listed = false;
  private pendingCount = 0;
  private changedCount = 0;
  private toolsCache: readonly ToolInfo[] | undefined;
  private callableCache: readonly UpstreamTool[] | undefined;

  constructor(
    name: string,
    {
      config,
      connector,
      bus,
      clock = systemClock,
      logger = silentLogger,
      approvals = createMemoryApprovals(),
      random = Math.random,
      mailboxLimit = 256,
    }: ServerActorOptions,
  ) {
    this.name = name;
    this.connector = connector;
    this.bus = bus;
    this.clock = clock;
    this.logger = logger;
    this.approvals = approvals;
    this.random = random;
    this.mailboxLimit = mailboxLimit;
    this.server = config.server;
    this.settings = config.settings ?? DEFAULT_ACTOR_SETTINGS;
    this.groups = EMPTY;
    this.applyServerFields(config.server);
    this.state = this.restingState() ?? 'idle';
    this.refresh();
  }

  // ── reads ──────────────────────────────────────────────────────────────

  getState(): ServerSummary {
    return this.summary;
  }

  health(): ActorHealth {
    this.healthCache ??= Object.freeze({
      last_ping_at: this.lastPingAt,
      last_ping_ms: this.lastPingMs,
      last_error_code: this.lastErrorCode,
    });
    return this.healthCache;
  }

  config(): Required<ActorConfig> {
    return { server: this.server, settings: this.settings };
  }

  tools(): readonly ToolInfo[] {
    if (this.toolsCache) return this.toolsCache;
    const list: ToolInfo[] = [];
    for (const e of this.entries.values()) {
      const info: ToolInfo = {
        server: this.name,
        name: e.tool.name,
        inputSchema: e.tool.inputSchema,
        hash: e.hash,
        approval: e.approval,
      };
      if (e.tool.description !== undefined) info.description = e.tool.description;
      if (e.tool.outputSchema !== undefined) info.outputSchema = e.tool.outputSchema;
      if (e.approvedHash !== undefined) info.approved_hash = e.approvedHash;
      if (e.approvedTool !== undefined) {
        const { description, inputSchema, outputSchema } = e.approvedTool;
        info.approved_definition = { inputSchema };
        if (description !== undefined) info.approved_definition.description = description;
        if (outputSchema !== undefined) info.approved_definition.outputSchema = outputSchema;
      }
      list.push(Object.freeze(info));
    }
    this.toolsCache = Object.freeze(list);
    return this.toolsCache;
  }

  callableTools(): readonly UpstreamTool[] {
    if (this.callableCache) return this.callableCache;
    const list: UpstreamTool[] = [];
    for (const e of this.entries.values()) {
      if (e.approval === 'approved' && this.allowed(e.tool.name)) list.push(e.tool);
    }
    this.callableCache = Object.freeze(list);
    return this.callableCache;
  }

  connection(): UpstreamConnection | undefined {
    return this.state === 'ready' ? this.conn : undefined;
  }

  stderrTail(): string[] {
    return this.conn ? this.conn.stderrTail() : [...this.lastStderr];
  }

  pendingCalls(): number {
    return this.calls;
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
    return this.enqueue(() => this.doStart('start')).then((a) => a?.done);
  }

  stop(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      await this.teardown();
      this.transition('stopped', 'stop');
    });
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return undefined;
      const resting = this.restingState();
      if (resting) {
        this.transition(resting, 'restart');
        return undefined;
      }
      await this.teardown();
      this.failures = 0;
      return this.beginConnect('restart');
    }).then((a) => a?.done);
  }

  enable(): Promise<void> {
    return this.enqueue(() => {
      if (this.closed) return undefined;
      const wasDisabled = this.state === 'disabled';
      if (!this.server.enabled) this.server = { ...this.server, enabled: true };
      this.autoDisabled = null;
      this.failures = 0;
      if (wasDisabled && !this.server.quarantined) return this.beginConnect('enable');
      this.refresh();
      return undefined;
    }).then((a) => a?.done);
  }

  disable(): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      if (this.server.enabled) this.server = { ...this.server, enabled: false };
      if (this.server.quarantined) {
        this.refresh();
        return;
      }
      await this.teardown();
      this.transition('disabled', 'disable');
    });
  }

  update(config: ActorConfig): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed) return;
      const prev = this.server;
      const next = config.server;
      const prevSettings = this.settings;
      this.server = next;
      this.settings = config.settings ?? DEFAULT_ACTOR_SETTINGS;
      this.applyServerFields(next);

      if (!prev.quarantined && next.quarantined) {
        await this.teardown();
        this.transition('quarantined', 'quarantined');
        return;
      }
      if (prev.quarantined && !next.quarantined) {
        // Approval by a person: the next listing is the new baseline.
        this.approvals.delete(this.name);
        this.entries = new Map();
        this.listed = false;
        this.recount();
        if (next.enabled) {
          this.autoDisabled = null;
          this.failures = 0;
          this.beginConnect('unquarantined');
        } else this.transition('disabled', 'unquarantined');
        return;
      }
      if (next.quarantined) {
        this.refresh();
        return;
      }
      if (prev.enabled && !next.enabled) {
        await this.teardown();
        this.transition('disabled', 'disable');
        return;
      }
      if (!prev.enabled && next.enabled) {
        this.autoDisabled = null;
        this.failures = 0;
        if (this.state === 'disabled') this.beginConnect('enable');
        else this.refresh();
        return;
      }
      const live = this.state === 'connecting' || this.state === 'ready' || this.state === 'error';
      if (live && connectionChanged(prev, next)) {
        await this.teardown();
        this.failures = 0;
        this.beginConnect('config_changed');
        return;
      }
      if (this.state === 'ready' && this.conn && timersChanged(prev, prevSettings, next, this.settings)) {
        const conn = this.conn;
        this.clearReadyTimers();
        this.scheduleHealth(conn);
        this.scheduleDiscovery(conn);
      }
      this.refresh();
    });
  }

  approveTools(names?: readonly string[]): Promise<string[]> {
    return this.enqueue(() => {
      if (names) {
        const missing = names.filter((n) => !this.entries.has(n));
        if (missing.length > 0) {
          throw new ActorError('TOOL_NOT_FOUND', `server "${this.name}" does not list tool(s): ${missing.join(', ')}`);
        }
      }
      const targets =
        names ?? [...this.entries.values()].filter((e) => e.approval !== 'approved').map((e) => e.tool.name);
      const stored = new Map(this.approvals.get(this.name) ?? []);
      const changes: ApprovalChange[] = [];
      for (const n of targets) {
        const e = this.entries.get(n);
        if (!e) continue;
        stored.set(n, e.hash);
        if (e.approval !== 'approved') {
          changes.push({ tool: n, from: e.approval, to: 'approved' });
          e.approval = 'approved';
          e.approvedHash = undefined;
          e.approvedTool = undefined;
        }
      }
      this.approvals.set(this.name, stored);
      if (changes.length > 0) {
        this.recount();
        this.refresh();
        this.publishApprovals(changes);
      }
      return changes.map((c) => c.tool);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.enqueue(async () => {
      if (this.closed) return;
      await this.teardown();
      this.closed = true;
      this.transition('stopped', 'closed');
    }, true);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── tool calls ─────────────────────────────────────────────────────────

  async callTool(
    tool: string,
    args: Record<string, unknown>,
    { signal, timeoutMs }: ToolCallOptions = {},
  ): Promise<UpstreamCallResult> {
    const started = this.clock.now();
    const conn = this.conn;
    if (this.closed) throw this.rejectCall(tool, 'STOPPED', `server "${this.name}" is closed`);
    if (this.state !== 'ready' || !conn) {
      throw this.rejectCall(tool, 'NOT_READY', `server "${this.name}" is ${this.state}, not ready`);
    }
    const entry = this.entries.get(tool);
    if (!entry) throw this.rejectCall(tool, 'TOOL_NOT_FOUND', `server "${this.name}" has no tool "${tool}"`);
    if (!this.allowed(tool)) {
      throw this.rejectCall(tool, 'TOOL_DISABLED', `tool "${tool}" of server "${this.name}" is disabled by config`);
    }
    if (entry.approval !== 'approved') {
      throw this.rejectCall(
        tool,
        'TOOL_NOT_APPROVED',
        `tool "${tool}" of server "${this.name}" is ${entry.approval} and must be approved before it can be called`,
      );
    }
    let probe = false;
    if (this.circuit === 'open' || (this.circuit === 'half_open' && this.probing)) {
      throw this.rejectCall(tool, 'CIRCUIT_OPEN', `circuit of server "${this.name}" is open`);
    }
    if (this.circuit === 'half_open') {
      probe = true;
      this.probing = true;
    }
    const epoch = this.circuitEpoch;
    const deadlineMs = timeoutMs ?? this.settings.call_tool_timeout;
    this.calls++;
    try {
      const result = await this.withDeadline(
        deadlineMs,
        (s) => conn.callTool(tool, args, { signal: s, timeoutMs: bounded(deadlineMs) }),
        () =>
          new ActorError('CALL_TIMEOUT', `tool "${tool}" of server "${this.name}" timed out after ${deadlineMs} ms`),
        signal,
      );
      this.callSucceeded(epoch, probe);
      this.publishCall(tool, started, result.isError ? 'error' : 'ok');
      return result;
    } catch (error) {
      const err = toCallError(error);
      if (err.code === 'CALL_TIMEOUT' || err.code === 'CALL_FAILED') this.callFailed(epoch, probe);
      else if (probe && epoch === this.circuitEpoch) this.probing = false;
      this.publishCall(tool, started, err.code === 'CALL_TIMEOUT' ? 'timeout' : 'error');
      throw err;
    } finally {
      this.calls--;
    }
  }

  admitCall(): CallPermit {
    if (this.closed) throw new ActorError('STOPPED', `server "${this.name}" is closed`);
    if (this.state !== 'ready') throw new ActorError('NOT_READY', `server "${this.name}" is ${this.state}, not ready`);
    if (this.circuit === 'open' || (this.circuit === 'half_open' && this.probing)) {
      throw new ActorError('CIRCUIT_OPEN', `circuit of server "${this.name}" is open`);
    }
    const probe = this.circuit === 'half_open';
    if (probe) this.probing = true;
    const permit: CallPermit = Object.freeze({ probe });
    this.permits.set(permit, this.circuitEpoch);
    return permit;
  }

  recordCallOutcome(permit: CallPermit, outcome: CallOutcome): void {
    const epoch = this.permits.get(permit);
    // Unknown or already settled: a permit counts once.
    if (epoch === undefined) return;
    this.permits.delete(permit);
    if (outcome === 'ok') this.callSucceeded(epoch, permit.probe);
    else if (outcome === 'failed' || outcome === 'timeout') this.callFailed(epoch, permit.probe);
    else if (permit.probe && epoch === this.circuitEpoch) this.probing = false;
  }

  private rejectCall(tool: string, code: ActorErrorCode, message: string): ActorError {
    this.publishCall(tool, this.clock.now(), 'rejected');
    return new ActorError(code, message);
  }

  private publishCall(tool: string, started: number, status: ToolCallStatus): void {
    this.bus.publish({
      type: 'tool_called',
      server: this.name,
      data: { tool, duration_ms: this.clock.now() - started, status },
    });
  }

  private callSucceeded(epoch: number, probe: boolean): void {
    if (epoch !== this.circuitEpoch) return;
    if (this.circuit === 'closed') this.circuitFailures = 0;
    else if (this.circuit === 'half_open' && probe) {
      this.probing = false;
      this.circuitFailures = 0;
      this.setCircuit('closed');
    }
  }

  private callFailed(epoch: number, probe: boolean): void {
    if (epoch !== this.circuitEpoch) return;
    if (this.circuit === 'closed') {
      this.circuitFailures++;
      if (this.circuitFailures >= this.settings.circuit_breaker.failure_threshold) this.openCircuit();
    } else if (this.circuit === 'half_open' && probe) {
      this.probing = false;
      this.openCircuit();
    }
  }

  private openCircuit(): void {
    this.circuitFailures = 0;
    this.setCircuit('open');
    this.circuitTimer = this.clock.setTimeout(() => {
      this.circuitTimer = undefined;
      if (this.circuit === 'open') this.setCircuit('half_open');
    }, this.settings.circuit_breaker.reset_timeout);
  }

  private resetCircuit(): void {
    this.clock.clearTimeout(this.circuitTimer);
    this.circuitTimer = undefined;
    this.circuitFailures = 0;
    this.probing = false;
    this.circuitEpoch++;
    if (this.circuit !== 'closed') this.setCircuit('closed');
  }

  private setCircuit(to: CircuitState): void {
    const from = this.circuit;
    this.circuit = to;
    this.refresh();
    this.logger.info('circuit changed', { server: this.name, from, to });
    this.bus.publish({ type: 'circuit_state_changed', server: this.name, data: { from, to, summary: this.summary } });
  }

  // ── connecting ─────────────────────────────────────────────────────────

  private doStart(reason: string): Attempt | undefined {
    if (this.closed) return undefined;
    const resting = this.restingState();
    if (resting) {
      this.transition(resting, reason);
      return undefined;
    }
    switch (this.state) {
      case 'idle':
      case 'stopped':
      case 'error':
        return this.beginConnect(reason);
      case 'connecting':
        return this.attempt;
      default:
        return undefined;
    }
  }

  private beginConnect(reason: string): Attempt {
    this.clearRetry();
    const abort = new AbortController();
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const attempt: Attempt = {
      id: ++this.attemptSeq,
      abort,
      timer: undefined,
      startedAt: this.clock.now(),
      settled: false,
      done,
      resolve,
    };
    this.attempt = attempt;
    this.transition('connecting', reason);
    const timeoutMs = this.server.init_timeout ?? this.settings.init_timeout;
    if (bounded(timeoutMs) !== undefined) {
      attempt.timer = this.clock.setTimeout(() => {
        attempt.timer = undefined;
        this.internal(() => this.connectTimedOut(attempt, timeoutMs));
        abort.abort(new UpstreamError('INIT_TIMEOUT', `initialize timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    let pending: Promise<UpstreamConnection>;
    try {
      pending = this.connector.connect(this.server, { signal: abort.signal, timeoutMs: bounded(timeoutMs) });
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (conn) => this.internal(() => this.connected(attempt, conn)),
      (error: unknown) => this.internal(() => this.connectFailed(attempt, error)),
    );
    return attempt;
  }

  /** Marks an attempt finished; true when this call is the one that settled it. */
  private settle(attempt: Attempt): boolean {
    if (attempt.settled || this.attempt !== attempt) return false;
    attempt.settled = true;
    this.clock.clearTimeout(attempt.timer);
    attempt.timer = undefined;
    this.attempt = undefined;
    return true;
  }

  private connected(attempt: Attempt, conn: UpstreamConnection): void {
    if (this.closed || !this.settle(attempt)) {
      // Aborted or timed out while the connector was still finishing: this connection is nobody's.
      this.closeConn(conn);
      return;
    }
    this.conn = conn;
    this.connUnsubscribe = [
      conn.onClose((error) =>
        this.internal(() =>
          this.lost(
            conn,
            error?.message || 'connection closed',
            error ? failureCode(error) : 'CLOSED',
            'connection_lost',
          ),
        ),
      ),
      conn.onToolsChanged(() => this.internal(() => this.relist(conn))),
    ];
    this.failures = 0;
    this.lastError = null;
    this.setErrorCode(null);
    this.connectedAt = new Date(this.clock.now()).toISOString();
    const listing = this.applyListing(conn.tools);
    this.transition('ready', 'connected');
    this.bus.publish({
      type: 'connection_established',
      server: this.name,
      data: {
        protocol: conn.protocol,
        tool_count: this.entries.size,
        duration_ms: this.clock.now() - attempt.startedAt,
        summary: this.summary,
      },
    });
    this.publishListing(listing);
    this.scheduleHealth(conn);
    this.scheduleDiscovery(conn);
    attempt.resolve();
  }

  private connectFailed(attempt: Attempt, error: unknown): void {
    if (!this.settle(attempt)) return;
    this.fail(describeError(error), failureCode(error), 'connect_failed');
    attempt.resolve();
  }

  private connectTimedOut(attempt: Attempt, timeoutMs: number): void {
    if (!this.settle(attempt)) return;
    this.fail(`initialize timed out after ${timeoutMs} ms`, 'INIT_TIMEOUT', 'init_timeout');
    attempt.resolve();
  }

  /** A failed connect: schedule a retry with backoff, or auto-disable after `max_retries` consecutive failures. */
  private fail(message: string, code: ActorFailureCode, reason: string): void {
    this.lastError = message;
    this.setErrorCode(code);
    this.failures++;
    this.logger.warn('upstream connect failed', { server: this.name, error: message, failures: this.failures });
    if (this.failures >= this.settings.retry.max_retries) {
      this.autoDisabled = {
        reason: message,
        failures: this.failures,
        at: new Date(this.clock.now()).toISOString(),
      };
      this.transition('disabled', 'auto_disabled', message);
      this.bus.publish({
        type: 'server_auto_disabled',
        server: this.name,
        data: { reason: message, failures: this.failures, summary: this.summary },
      });
      return;
    }
    this.scheduleRetry();
    this.transition('error', reason, message);
  }

  private scheduleRetry(): void {
    this.clearRetry();
    const delay = backoffDelay(Math.max(0, this.failures - 1), this.settings.retry, this.random);
    this.nextRetryAt = new Date(this.clock.now() + delay).toISOString();
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.internal(() => {
        if (!this.closed && this.state === 'error') this.beginConnect('retry');
      });
    }, delay);
  }

  private clearRetry(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.nextRetryAt = null;
  }

  /** The connection ended (closed by the upstream, or a failed health check): → `error` and retry. */
  private lost(conn: UpstreamConnection, message: string, code: ActorFailureCode, reason: string): void {
    if (this.conn !== conn || this.closed) return;
    this.detachConn();
    this.closeConn(conn);
    this.lastError = message;
    this.setErrorCode(code);
    this.refresh();
    this.logger.warn('upstream connection lost', { server: this.name, error: message });
    this.bus.publish({ type: 'connection_lost', server: this.name, data: { error: message, summary: this.summary } });
    this.scheduleRetry();
    this.transition('error', reason, message);
  }

  private detachConn(): void {
    const conn = this.conn;
    if (!conn) return;
    for (const off of this.connUnsubscribe) off();
    this.connUnsubscribe = [];
    this.clearReadyTimers();
    this.lastStderr = conn.stderrTail();
    this.conn = undefined;
    this.connectedAt = null;
  }

  private closeConn(conn: UpstreamConnection): void {
    const closing = Promise.resolve()
      .then(() => conn.close())
      .catch((error: unknown) => {
        this.logger.warn('closing upstream connection failed', { server: this.name, error: describeError(error) });
      })
      .finally(() => {
        this.closingConns.delete(closing);
      });
    this.closingConns.add(closing);
  }

  /** Aborts the connect, clears every timer, aborts pings, listings and calls, closes the connection. */
  private async teardown(): Promise<void> {
    const attempt = this.attempt;
    if (attempt && this.settle(attempt)) {
      attempt.abort.abort(new UpstreamError('ABORTED', 'connect aborted'));
      attempt.resolve();
    }
    this.clearRetry();
    const conn = this.conn;
    this.detachConn();
    for (const d of [...this.deadlines]) {
      d.abort(new ActorError('STOPPED', `server "${this.name}" was stopped`));
    }
    this.resetCircuit();
    if (conn) this.closeConn(conn);
    if (this.closingConns.size > 0) await Promise.all([...this.closingConns]);
  }

  // ── health and discovery ───────────────────────────────────────────────

  private scheduleHealth(conn: UpstreamConnection): void {
    const interval = this.server.health_check_interval ?? this.settings.health_check_interval;
    if (interval <= 0) return;
    this.healthTimer = this.clock.setTimeout(() => {
      this.healthTimer = undefined;
      if (this.conn !== conn) return;
      const sent = this.clock.now();
      let timedOut = false;
      this.withDeadline(
        interval,
        (signal) => conn.ping({ signal, timeoutMs: interval }),
        () => {
          timedOut = true;
          return new Error(`ping timed out after ${interval} ms`);
        },
      ).then(
        () => {
          if (this.conn !== conn) return;
          this.pinged(sent);
          if (this.healthTimer === undefined) this.scheduleHealth(conn);
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
    }, interval);
  }

  /** Records a ping that answered; outside the mailbox, like the ping itself, since it only sets three fields. */
  private pinged(sent: number): void {
    const now = this.clock.now();
    this.lastPingAt = new Date(now).toISOString();
    this.lastPingMs = now - sent;
    this.healthCache = undefined;
  }

  private scheduleDiscovery(conn: UpstreamConnection): void {
    const interval = this.settings.tool_discovery_interval;
    if (interval <= 0) return;
    this.discoveryTimer = this.clock.setTimeout(() => {
      this.discoveryTimer = undefined;
      this.internal(() => this.relist(conn));
    }, interval);
  }

  private clearReadyTimers(): void {
    this.clock.clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
    this.clock.clearTimeout(this.discoveryTimer);
    this.discoveryTimer = undefined;
    this.relisting = false;
    this.relistAgain = false;
  }

  private relist(conn: UpstreamConnection): void {
    if (this.conn !== conn) return;
    if (this.relisting) {
      this.relistAgain = true;
      return;
    }
    this.relisting = true;
    this.clock.clearTimeout(this.discoveryTimer);
    this.discoveryTimer = undefined;
    const timeoutMs = this.server.init_timeout ?? this.settings.init_timeout;
    this.withDeadline(
      timeoutMs,
      (signal) => conn.listTools({ signal, timeoutMs: bounded(timeoutMs) }),
      () => new Error(`tools/list timed out after ${timeoutMs} ms`),
    ).then(
      (tools) => this.internal(() => this.relisted(conn, tools)),
      (error: unknown) => this.internal(() => this.relisted(conn, undefined, error)),
    );
  }

  private relisted(conn: UpstreamConnection, tools: readonly UpstreamTool[] | undefined, error?: unknown): void {
    if (this.conn !== conn) return;
    this.relisting = false;
    if (tools) this.publishListing(this.applyListing(tools));
    else this.logger.warn('re-listing tools failed', { server: this.name, error: describeError(error) });
    if (this.relistAgain) {
      this.relistAgain = false;
      this.relist(conn);
    } else if (this.discoveryTimer === undefined) this.scheduleDiscovery(conn);
  }

  // ── tool pinning ───────────────────────────────────────────────────────

  private applyListing(tools: readonly UpstreamTool[]): {
    added: string[];
    removed: string[];
    changed: string[];
    approvals: ApprovalChange[];
  } {
    const stored = this.approvals.get(this.name);
    const baseline = stored === undefined ? new Map<string, string>() : undefined;
    const prev = this.entries;
    const next = new Map<string, ToolEntry>();
    const added: string[] = [];
    const changed: string[] = [];
    const approvals: ApprovalChange[] = [];
    for (const tool of tools) {
      const hash = toolHash(tool);
      let approval: ToolApprovalState = 'approved';
      let approvedHash: string | undefined;
      let approvedTool: UpstreamTool | undefined;
      const before = prev.get(tool.name);
      if (baseline) baseline.set(tool.name, hash);
      else {
        const pinned = stored?.get(tool.name);
        if (pinned === undefined) approval = 'pending';
        else if (pinned !== hash) {
          approval = 'changed';
          approvedHash = pinned;
          // The approved definition, if this actor listed it: the previous listing, or what it remembered then.
          approvedTool =
            before?.hash === pinned ? before.tool : before?.approvedHash === pinned ? before.approvedTool : undefined;
        }
      }
      next.set(tool.name, { tool, hash, approval, approvedHash, approvedTool });
      if (!before) {
        if (this.listed) added.push(tool.name);
      } else if (before.hash !== hash) changed.push(tool.name);
      const from = before?.approval ?? null;
      if (from !== approval && !(from === null && approval === 'approved')) {
        approvals.push({ tool: tool.name, from, to: approval });
      }
    }
    const removed = [...prev.keys()].filter((n) => !next.has(n));
    if (baseline) this.approvals.set(this.name, baseline);
    this.entries = next;
    this.listed = true;
    this.recount();
    this.refresh();
    return { added, removed, changed, approvals };
  }

  private publishListing(listing: ReturnType<Actor['applyListing']>): void {
    const { added, removed, changed } = listing;
    if (added.length + removed.length + changed.length > 0) {
      this.bus.publish({
        type: 'tools_updated',
        server: this.name,
        data: { tool_count: this.entries.size, added, removed, changed, summary: this.summary },
      });
    }
    this.publishApprovals(listing.approvals);
  }

  private publishApprovals(changes: readonly ApprovalChange[]): void {
    for (const c of changes) {
      if (c.to !== 'approved')
        this.logger.warn('tool needs approval', { server: this.name, tool: c.tool, state: c.to });
      this.bus.publish({
        type: 'tool_quarantine_changed',
        server: this.name,
        data: { tool: c.tool, from: c.from, to: c.to, summary: this.summary },
      });
    }
  }

  private recount(): void {
    let pending = 0;
    let changed = 0;
    for (const e of this.entries.values()) {
      if (e.approval === 'pending') pending++;
      else if (e.approval === 'changed') changed++;
    }
    this.pendingCount = pending;
    this.changedCount = changed;
    this.toolsCache = undefined;
    this.callableCache = undefined;
  }

  private allowed(tool: string): boolean {
    if (this.allow) return this.allow.has(tool);
    if (this.deny) return !this.deny.has(tool);
    return true;
  }

  // ── internals ──────────────────────────────────────────────────────────

  private applyServerFields(server: ServerConfig): void {
    if (this.groups.length !== server.groups.length || this.groups.some((g, i) => g !== server.groups[i])) {
      this.groups = server.groups.length === 0 ? EMPTY : Object.freeze([...server.groups]);
    }
    this.allow = server.enabled_tools ? new Set(server.enabled_tools) : undefined;
    this.deny = server.disabled_tools ? new Set(server.disabled_tools) : undefined;
    this.callableCache = undefined;
  }

  /** Where the actor rests instead of connecting, if anywhere. */
  private restingState(): ServerState | undefined {
    if (this.server.quarantined) return 'quarantined';
    if (!this.server.enabled || this.autoDisabled) return 'disabled';
    return undefined;
  }

  private transition(to: ServerState, reason: string, error?: string): void {
    const from = this.state;
    this.state = to;
    if (to !== 'error') this.clearRetry();
    if (to !== 'ready') this.connectedAt = null;
    this.refresh();
    if (from === to) return;
    this.logger.info('server state changed', { server: this.name, from, to, reason });
    this.bus.publish({
      type: 'server_state_changed',
      server: this.name,
      data: {
        from,
        to,
        reason,
        ...(error === undefined ? {} : { error }),
        retry_count: this.failures,
        next_retry_at: this.nextRetryAt,
        summary: this.summary,
      },
    });
  }

  private setErrorCode(code: ActorFailureCode | null): void {
    if (this.lastErrorCode === code) return;
    this.lastErrorCode = code;
    this.healthCache = undefined;
  }

  private refresh(): void {
    this.summary = Object.freeze({
      name: this.name,
      protocol: this.server.protocol,
      enabled: this.server.enabled && this.autoDisabled === null,
      quarantined: this.server.quarantined,
      groups: this.groups as string[],
      state: this.state,
      circuit: this.circuit,
      tool_count: this.entries.size,
      retry_count: this.failures,
      next_retry_at: this.nextRetryAt,
      connected_at: this.connectedAt,
      last_error: this.lastError,
      auto_disabled: this.autoDisabled,
      pending_tools: this.pendingCount,
      changed_tools: this.changedCount,
    });
  }

  /**
   * Runs `run` with an abort signal and a deadline on the injected clock. Settles at the deadline even when
   * `run` ignores its signal; `outer` aborting settles it with `ABORTED`. Teardown aborts every open deadline.
   */
  private withDeadline<T>(
    ms: number,
    run: (signal: AbortSignal) => Promise<T>,
    onTimeout: () => Error,
    outer?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const ctl = new AbortController();
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      let settled = false;
      const finish = (settleWith: () => void) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        outer?.removeEventListener('abort', onOuter);
        this.deadlines.delete(handle);
        settleWith();
      };
      const abortWith = (error: Error) => {
        finish(() => reject(error));
        ctl.abort(error);
      };
      const onOuter = () => abortWith(new ActorError('ABORTED', 'the call was aborted by the caller'));
      const handle: Deadline = { abort: abortWith };
      this.deadlines.add(handle);
      if (outer?.aborted) {
        onOuter();
        return;
      }
      outer?.addEventListener('abort', onOuter, { once: true });
      if (Number.isFinite(ms) && ms > 0) timer = this.clock.setTimeout(() => abortWith(onTimeout()), ms);
      let running: Promise<T>;
      try {
        running = run(ctl.signal);
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  private enqueue<T>(fn: () => T | Promise<T>, internal = false): Promise<T> {
    if (!internal && this.queue.length >= this.mailboxLimit) {
      return Promise.reject(new ActorError('BUSY', `mailbox of server "${this.name}" is full`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await fn());
        } catch (error) {
          reject(error);
        }
      });
      if (!this.draining) {
        // Jobs never run on the caller's stack: a listener that sends a command while the actor publishes, or a
        // reconcile creating a thousand actors, only queues work; it runs right after, in order.
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /** Queues an internal step (connect result, lost connection, retry); never bounded, never rejects. */
  private internal(fn: () => void): void {
    this.enqueue(fn, true).catch((error: unknown) => {
      this.logger.error('actor step failed', { server: this.name, error: describeError(error) });
    });
  }

  private async drain(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
    } finally {
      this.draining = false;
    }
  }
}

function timersChanged(
  prev: ServerConfig,
  prevSettings: ActorSettings,
  next: ServerConfig,
  nextSettings: ActorSettings,
): boolean {
  return (
    (prev.health_check_interval ?? prevSettings.health_check_interval) !==
      (next.health_check_interval ?? nextSettings.health_check_interval) ||
    prevSettings.tool_discovery_interval !== nextSettings.tool_discovery_interval
  );
}

/**
 * A deadline the connector can take as well (so its own default never cuts a longer one short); `undefined` for
 * "none" (zero, negative or infinite), which the actor's own timer also treats as no deadline.
 */
function bounded(ms: number): number | undefined {
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** The code of a connect or connection failure; `UNKNOWN` when it carried none. */
function failureCode(error: unknown): ActorFailureCode {
  return error instanceof UpstreamError ? error.code : 'UNKNOWN';
}

function toCallError(error: unknown): ActorError {
  if (error instanceof ActorError) return error;
  if (error instanceof UpstreamError) {
    if (error.code === 'CALL_TIMEOUT') return new ActorError('CALL_TIMEOUT', error.message, { cause: error });
    if (error.code === 'ABORTED') return new ActorError('ABORTED', error.message, { cause: error });
  }
  return new ActorError('CALL_FAILED', describeError(error), { cause: error });
}
