import type { Duplex } from 'node:stream';
import type { EventType } from '@mcpproxy/contracts';
import type { WebSocket } from 'ws';

/** The endpoint a client is connected to. */
export type Endpoint = 'events' | 'servers' | 'mcp_status' | 'sse';

/** How bytes reach a client. */
export const Mode = {
  /** WebSocket without compression: pre-framed buffers written to the socket, shared by every client. */
  Raw: 0,
  /** WebSocket with permessage-deflate: `ws.send` of the pre-serialised string (ws compresses per client). */
  Deflate: 1,
  /** Server-sent events: pre-encoded chunks enqueued on a web `ReadableStream`. */
  Sse: 2,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Counters shared by every client of one broadcaster. */
export interface Counters {
  delivered: number;
  droppedTotal: number;
  droppedByType: Map<string, number>;
  resyncs: number;
  replays: number;
}

/** Limits of one client's queue. */
export interface QueueLimits {
  /** Messages queued at most. */
  sendBuffer: number;
  /** Bytes queued at most. */
  maxBufferedBytes: number;
}

interface QueueItem {
  data: Buffer | string;
  bytes: number;
  /** Event type (or control frame type) for the dropped-by-type counter. */
  type: string;
  /** Events in this item: 1, or the size of a batch, or 0 for control frames. */
  count: number;
  /** Types of a batch's events, for the dropped-by-type counter. */
  types?: readonly string[] | undefined;
  /** Seq of the one event this item carries (SSE), so runs of consecutive events can share a joined chunk. */
  seq?: number | undefined;
}

/**
 * Raw clients count as backpressured while their socket holds this many unflushed bytes. It is above the socket's
 * own 16 KiB high-water mark, so the write that crosses it has returned `false` and a `'drain'` is sure to follow.
 */
export const SOCKET_HIGH_WATER = 64 * 1024;
/**
 * Raw and SSE clients write corked: what one tick produces for a client goes out together at the end of the tick
 * (one `writev` on a WebSocket, one stream chunk on SSE), or as soon as this many bytes are corked, so a burst of
 * events costs one syscall per client, not one per event.
 */
const CORK_FLUSH = 16 * 1024;
/** Bytes a deflate client may have in flight (handed to ws, not yet written) before it counts as backpressured. */
const DEFLATE_IN_FLIGHT = 64 * 1024;
const OPEN = 1;

export interface ClientInit {
  id: number;
  endpoint: Endpoint;
  mode: Mode;
  types: ReadonlySet<EventType> | null;
  servers: ReadonlySet<string> | null;
  legacy: boolean;
  limits: QueueLimits;
  counters: Counters;
  /** Called once the queue has drained while a resync is owed. */
  onResync: (client: Client) => void;
  /** Called when a client corks its output: the broadcaster uncorks every corked client at the end of the tick. */
  onCork?: ((client: Client) => void) | undefined;
  /**
   * SSE: joins a tick's messages into one chunk. `run` is set when the parts are exactly the events `first..last`
   * (consecutive seqs, one variant), so the broadcaster can share one chunk among every client with that run.
   */
  join?: ((parts: Buffer[], bytes: number, run: SseRun | undefined) => Buffer) | undefined;
  ws?: WebSocket | undefined;
  socket?: Duplex | undefined;
  controller?: ReadableStreamDefaultController<Uint8Array> | undefined;
}

/**
 * One live client: its filters, its position in the event stream, and a queue bounded by messages and bytes.
 * While the transport keeps up, messages go straight through; while it is backpressured they queue; when the queue
 * would pass a limit, everything queued is dropped (and counted) and the client owes a resync, sent once it drains.
 */
export class Client {
  readonly id: number;
  readonly endpoint: Endpoint;
  readonly mode: Mode;
  readonly legacy: boolean;
  types: ReadonlySet<EventType> | null;
  servers: ReadonlySet<string> | null;
  /** Seq of the last event this client is past (delivered, filtered out or dropped). */
  lastSeq = 0;
  needsResync = false;
  /** Events dropped since the last resync; reported in the resync frame. */
  droppedSinceResync = 0;
  /** Events dropped over the client's life. */
  droppedTotal = 0;
  peakQueued = 0;
  peakQueuedBytes = 0;
  /** Clock time of the protocol ping not yet answered. */
  awaitingPongSince: number | undefined;
  closed = false;
  /** Whether this client holds corked output (raw: its socket is corked; SSE: chunks wait to be joined). */
  corked = false;
  /** Whether the broadcaster has this client in its end-of-tick uncork list. */
  uncorkListed = false;
  readonly ws: WebSocket | undefined;
  readonly socket: Duplex | undefined;
  readonly controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  #queue: (QueueItem | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  #inFlight = 0;
  #ssePending: Buffer[] = [];
  #ssePendingBytes = 0;
  /** SSE: the stream's `desiredSize` when this tick's corking began (read once per tick, not once per event). */
  #sseRoom = 0;
  readonly #limits: QueueLimits;
  readonly #counters: Counters;
  readonly #onResync: (client: Client) => void;
  readonly #onCork: ((client: Client) => void) | undefined;
  readonly #join: (parts: Buffer[], bytes: number, run: SseRun | undefined) => Buffer;
  /** SSE: seqs of the first and last corked event, and whether the corked parts are consecutive events only. */
  #runFirst = 0;
  #runLast = 0;
  #runOk = true;

  constructor(init: ClientInit) {
    this.id = init.id;
    this.endpoint = init.endpoint;
    this.mode = init.mode;
    this.types = init.types;
    this.servers = init.servers;
    this.legacy = init.legacy;
    this.#limits = init.limits;
    this.#counters = init.counters;
    this.#onResync = init.onResync;
    this.#onCork = init.onCork;
    this.#join = init.join ?? ((parts, bytes) => Buffer.concat(parts, bytes));
    this.ws = init.ws;
    this.socket = init.socket;
    this.controller = init.controller;
  }

  /** Messages waiting in this client's queue. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Bytes waiting in this client's queue. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Bytes handed to the transport and not yet flushed to the kernel. */
  get buffered(): number {
    switch (this.mode) {
      case Mode.Raw:
        return this.socket?.writableLength ?? 0;
      case Mode.Deflate:
        return this.ws?.bufferedAmount ?? 0;
      default:
        return Math.max(0, SSE_HIGH_WATER_MARK - (this.controller?.desiredSize ?? 0)) + this.#ssePendingBytes;
    }
  }

  /** Whether the connection can take no more frames (closed, or a WebSocket past OPEN). */
  get gone(): boolean {
    return this.closed || (this.ws !== undefined && this.ws.readyState !== OPEN);
  }

  /** Whether the client's filters let this event through. */
  accepts(type: EventType, server: string | undefined): boolean {
    if (this.types !== null && !this.types.has(type)) return false;
    if (this.servers !== null && (server === undefined || !this.servers.has(server))) return false;
    return true;
  }

  /**
   * Offers an event message (`count` events of `type`): written now if the transport keeps up, else queued within the
   * limits, else dropped with everything queued and a resync owed. While a resync is owed, events are dropped.
   */
  offer(
    data: Buffer | string,
    bytes: number,
    type: string,
    count: number,
    types?: readonly string[],
    seq?: number,
  ): void {
    if (this.gone) return;
    if (this.needsResync) {
      this.#drop(type, count, types);
      return;
    }
    if (this.#head === this.#queue.length && this.#writable()) {
      this.#write(data, bytes, seq);
      this.#counters.delivered += count;
      return;
    }
    this.#enqueue({ data, bytes, type, count, types, seq });
  }

  /** Offers a control frame (pong, error, subscribed): like an event, but still sent while a resync is owed. */
  offerControl(data: Buffer | string, bytes: number, type: string): void {
    if (this.gone) return;
    if (this.#head === this.#queue.length && this.#writable()) {
      this.#write(data, bytes);
      return;
    }
    this.#enqueue({ data, bytes, type, count: 0 });
  }

  /** Writes regardless of backpressure: for the one `hello` or `resync` frame that starts a client's state. */
  sendNow(data: Buffer | string, bytes: number): void {
    if (this.gone) return;
    this.#write(data, bytes);
  }

  /** Writes a transport-level keepalive (SSE comment) if the transport is idle enough; never queued. */
  keepalive(data: Buffer): void {
    if (!this.gone && this.#head === this.#queue.length && this.#writable()) this.#write(data, data.length);
  }

  /** Moves queued messages to the transport while it keeps up; then sends the owed resync, if any. */
  flush(): void {
    if (this.gone) return;
    while (this.#head < this.#queue.length && this.#writable()) {
      const item = this.#queue[this.#head] as QueueItem;
      this.#queue[this.#head++] = undefined;
      this.#bytes -= item.bytes;
      this.#write(item.data, item.bytes, item.seq);
      this.#counters.delivered += item.count;
    }
    this.#compact();
    if (this.needsResync && this.queued === 0 && this.#writable()) this.#onResync(this);
  }

  /** Flushes what this client corked: one `writev` on its socket, or one joined chunk on its SSE stream. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    if (this.mode === Mode.Raw) {
      this.socket?.uncork();
      return;
    }
    const pending = this.#ssePending;
    const bytes = this.#ssePendingBytes;
    this.#ssePending = [];
    this.#ssePendingBytes = 0;
    if (pending.length === 0 || this.closed) return;
    try {
      const run = this.#runOk ? { legacy: this.legacy, first: this.#runFirst, last: this.#runLast } : undefined;
      this.controller?.enqueue(pending.length === 1 ? (pending[0] as Buffer) : this.#join(pending, bytes, run));
    } catch {
      // The reader cancelled the stream in this very tick; the client is being removed.
    }
  }

  /** Marks the client closed and releases its queue. */
  release(): void {
    this.closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#ssePending = [];
    this.#ssePendingBytes = 0;
  }

  #writable(): boolean {
    switch (this.mode) {
      case Mode.Raw:
        return (this.socket as Duplex).writableLength < SOCKET_HIGH_WATER;
      case Mode.Deflate:
        return this.#inFlight < DEFLATE_IN_FLIGHT;
      default:
        if (this.corked) return this.#sseRoom - this.#ssePendingBytes > 0;
        return ((this.controller as ReadableStreamDefaultController<Uint8Array>).desiredSize ?? 0) > 0;
    }
  }

  #write(data: Buffer | string, bytes: number, seq?: number): void {
    switch (this.mode) {
      case Mode.Raw: {
        const socket = this.socket as Duplex;
        if (!this.corked && this.#onCork) {
          socket.cork();
          this.corked = true;
          this.#onCork(this);
        }
        socket.write(data);
        if (this.corked && socket.writableLength >= CORK_FLUSH) this.uncork();
        return;
      }
      case Mode.Deflate:
        this.#inFlight += bytes;
        (this.ws as WebSocket).send(data, () => {
          this.#inFlight -= bytes;
          if ((this.queued > 0 || this.needsResync) && this.#inFlight < DEFLATE_IN_FLIGHT) this.flush();
        });
        return;
      default:
        if (!this.#onCork) {
          (this.controller as ReadableStreamDefaultController<Uint8Array>).enqueue(data as Buffer);
          return;
        }
        if (!this.corked) {
          this.#sseRoom = (this.controller as ReadableStreamDefaultController<Uint8Array>).desiredSize ?? 0;
          this.corked = true;
          this.#onCork(this);
          this.#runOk = seq !== undefined;
          this.#runFirst = this.#runLast = seq ?? 0;
        } else if (seq === undefined || seq !== this.#runLast + 1) {
          this.#runOk = false;
        } else {
          this.#runLast = seq;
        }
        this.#ssePending.push(data as Buffer);
        this.#ssePendingBytes += bytes;
        if (this.#ssePendingBytes >= CORK_FLUSH) this.uncork();
    }
  }

  #enqueue(item: QueueItem): void {
    const { sendBuffer, maxBufferedBytes } = this.#limits;
    if (this.queued + 1 > sendBuffer || this.#bytes + item.bytes > maxBufferedBytes) {
      this.#overflow();
      this.#drop(item.type, item.count, item.types);
      return;
    }
    this.#queue.push(item);
    this.#bytes += item.bytes;
    if (this.queued > this.peakQueued) this.peakQueued = this.queued;
    if (this.#bytes > this.peakQueuedBytes) this.peakQueuedBytes = this.#bytes;
  }

  #overflow(): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      const item = this.#queue[i] as QueueItem;
      this.#drop(item.type, item.count, item.types);
    }
    this.#queue = [];
    this.#head = 0;
    this.#bytes = 0;
    this.needsResync = true;
  }

  #drop(type: string, count: number, types: readonly string[] | undefined): void {
    if (count === 0) return;
    const c = this.#counters;
    c.droppedTotal += count;
    this.droppedSinceResync += count;
    this.droppedTotal += count;
    if (types) {
      for (const t of types) c.droppedByType.set(t, (c.droppedByType.get(t) ?? 0) + 1);
    } else {
      c.droppedByType.set(type, (c.droppedByType.get(type) ?? 0) + count);
    }
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** A run of consecutive events in one wire variant: identical bytes for every client that has it. */
export interface SseRun {
  legacy: boolean;
  first: number;
  last: number;
}

/** Bytes an SSE stream holds before it reports backpressure (`desiredSize` ≤ 0). */
export const SSE_HIGH_WATER_MARK = 64 * 1024;
