import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AppInfo, Clock, EventsConfig, Logger, ServerSummary } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { Endpoint } from './client.js';

/** The part of a read-model snapshot the broadcaster sends: `StateView#snapshot()` satisfies it. */
export interface LiveSnapshot {
  /** Seq of the last event applied to this snapshot. */
  readonly seq: number;
  readonly servers: readonly ServerSummary[];
  readonly app: AppInfo;
}

/** The read model the broadcaster takes `hello` and `resync` snapshots from (`@mcpproxy/stateview` satisfies it). */
export interface SnapshotSource {
  /**
   * The current snapshot, read outside any bus dispatch: it should include every event the bus has delivered (the
   * stateview applies them synchronously). A lagging view still works: clients are caught up from the replay ring.
   */
  snapshot(): LiveSnapshot;
}

/** A request as the hooks see it: the upgrade request of a WebSocket, or the web `Request` of an SSE stream. */
export type LiveRequest = IncomingMessage | Request;

/** Event delivery settings: contracts' `events` config block (durations in ms). */
export type BroadcastSettings = Omit<EventsConfig, 'replay_buffer'> & Partial<Pick<EventsConfig, 'replay_buffer'>>;

export interface BroadcasterOptions {
  /** The bus to fan out; the broadcaster subscribes to every type at creation and replays from `bus.since()`. */
  bus: EventBus;
  /** The read model for `hello`/`resync` snapshots. */
  view: SnapshotSource;
  /**
   * Decides whether a request may connect (the app checks the API key). Refusal answers HTTP 401 before any
   * upgrade. @default every request is allowed
   */
  authorize?: ((req: LiveRequest) => boolean | Promise<boolean>) | undefined;
  /** Decides whether the request's `Origin` is allowed. Refusal answers HTTP 403 before any upgrade. @default every origin */
  checkOrigin?: ((req: LiveRequest) => boolean) | undefined;
  /**
   * Delivery settings (the config's `events` block, durations in ms). Missing keys take the config defaults:
   * `send_buffer` 256, `max_buffered_bytes` 1048576, `ping_interval` 54000, `pong_timeout` 60000,
   * `max_message_size` 524288, `batch_window` 0, `permessage_deflate` false. `replay_buffer` belongs to the bus.
   * @default the config defaults
   */
  options?: Partial<BroadcastSettings> | undefined;
  /** Time source for ping rounds, pong deadlines, batch windows and SSE keepalives. @default systemClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Interval of the SSE `: ping` comment. `0` turns it off. @default 15000 */
  sseKeepaliveMs?: number | undefined;
  /** How long `close()` waits for WebSocket clients to answer the 1001 close before terminating them. @default 5000 */
  closeTimeoutMs?: number | undefined;
}

/** Counters of one broadcaster. */
export interface BroadcastStats {
  /** Open connections by endpoint. */
  connections: { events: number; servers: number; mcp_status: number; sse: number };
  /** Events handed to client transports (a batch counts its events). */
  delivered: number;
  /** Events dropped for slow consumers, in total and by event type. */
  dropped: { total: number; by_type: Record<string, number> };
  /** Resync frames sent to clients that had overflowed. */
  resyncs: number;
  /** Connections that resumed from the replay ring (`recovered: true`). */
  replays: number;
}

/** One client as {@link Broadcaster.inspect} reports it. */
export interface ClientInfo {
  id: number;
  endpoint: Endpoint;
  /** Seq of the last event the client is past. */
  lastSeq: number;
  /** Messages in the client's queue (bounded by `send_buffer`). */
  queued: number;
  /** Bytes in the client's queue (bounded by `max_buffered_bytes`). */
  queuedBytes: number;
  /** Highest `queued` seen. */
  peakQueued: number;
  /** Highest `queuedBytes` seen. */
  peakQueuedBytes: number;
  /** Bytes handed to the transport and not yet flushed (socket buffer, ws buffer or SSE stream queue). */
  buffered: number;
  /** Whether the client overflowed and waits for its resync. */
  needsResync: boolean;
  /** Events dropped for this client over its life. */
  dropped: number;
  /** Whether a protocol ping to this client is unanswered (WebSocket only). */
  awaitingPong: boolean;
}

/** The WebSocket and SSE hub. */
export interface Broadcaster {
  /**
   * The `upgrade` listener for a Node `http.Server`: routes `/ws/events`, `/ws/servers` and `/ws/mcp-status`,
   * answers 404/403/401/400 on the raw socket before any upgrade, and never throws.
   */
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * Answers `GET /events`: a `text/event-stream` response (or a problem+json 400/401/403/503). Messages carry
   * `id: EPOCH:SEQ`; a `Last-Event-ID` of this epoch still in the replay ring resumes exactly, anything else (another
   * epoch, a bare number, garbage) gets a fresh snapshot, never an error.
   */
  readonly sse: (request: Request) => Promise<Response>;
  stats(): BroadcastStats;
  /** Every open client with its queue figures: for diagnostics and tests. */
  inspect(): ClientInfo[];
  /** Closes every WebSocket with 1001, ends every SSE stream, clears timers, leaves the bus. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
