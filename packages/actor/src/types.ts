import type {
  Clock,
  Logger,
  ScanFinding,
  ServerSummary,
  ToolInfo,
  UpstreamCallResult,
  UpstreamConnection,
  UpstreamConnector,
  UpstreamErrorCode,
  UpstreamTool,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { ApprovalsStore } from './approvals.js';
import type { ToolAssessor } from './catalog.js';
import type { ActorConfig } from './settings.js';

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
  /**
   * Judges the tools of a server's first listing before they become its baseline (the tool scanner plugs in here);
   * a `block` holds the tool `pending` until a person approves it. @default every tool allowed
   */
  assess?: ToolAssessor | undefined;
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
  /**
   * Holds approved tools `pending` on the scanner's findings (a rescan found what blocks them), dropping their
   * approved hashes and publishing `tool_quarantine_changed` with `reason: "scan"`. Resolves with the names held.
   */
  holdTools(findings: ReadonlyMap<string, readonly ScanFinding[]>): Promise<string[]>;
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
