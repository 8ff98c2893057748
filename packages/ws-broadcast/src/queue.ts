/**
 * The per-client queue and its backpressure policy, with no sockets: what happens to a message offered to a client
 * whose transport does or does not keep up. The transport is a {@link Sink}; `transport.ts` has the real ones.
 */

/** Counters shared by every client of one broadcaster. */
export interface Counters {
  delivered: number;
  droppedTotal: number;
  droppedByType: Map<string, number>;
  resyncs: number;
  replays: number;
}

/** A fresh set of counters, all zero. */
export const newCounters = (): Counters => ({
  delivered: 0,
  droppedTotal: 0,
  droppedByType: new Map(),
  resyncs: 0,
  replays: 0,
});

/** Limits of one client's queue. */
export interface QueueLimits {
  /** Messages queued at most. */
  sendBuffer: number;
  /** Bytes queued at most. */
  maxBufferedBytes: number;
}

/** Where a client's bytes go: a socket, a compressing WebSocket or an SSE stream. */
export interface Sink {
  /** Whether the connection can take no more frames at all (its WebSocket is past OPEN). */
  readonly gone: boolean;
  /** Whether the transport keeps up: a write now would not pile up in its buffers. */
  writable(): boolean;
  /** Hands one message to the transport. `seq` is the one event it carries, when it carries exactly one. */
  write(data: Buffer | string, bytes: number, seq?: number): void;
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
 * One client's outbound queue, bounded by messages and bytes. While the sink keeps up, messages go straight through;
 * while it is backpressured they queue; when the queue would pass a limit, everything queued is dropped (and
 * counted) and the client owes a resync, asked for through `onResync` once the queue has drained.
 */
export class OutboundQueue<Owner = unknown> {
  /** Whether everything queued was dropped and the client must be sent a fresh snapshot. */
  needsResync = false;
  /** Events dropped since the last resync; reported in the resync frame. */
  droppedSinceResync = 0;
  /** Events dropped over the client's life. */
  droppedTotal = 0;
  peakQueued = 0;
  peakQueuedBytes = 0;
  /** Set once the client is gone: nothing is written or queued any more. */
  closed = false;

  #items: (QueueItem | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  readonly #sink: Sink;
  readonly #limits: QueueLimits;
  readonly #counters: Counters;
  readonly #onResync: (owner: Owner) => void;
  readonly #owner: Owner;

  /**
   * `onResync(owner)` asks for the resync once it is owed and the queue has drained. The owner is passed back (not
   * bound in a closure) so that a connection costs no extra function object: idle memory per connection is measured.
   */
  constructor(sink: Sink, limits: QueueLimits, counters: Counters, onResync: (owner: Owner) => void, owner: Owner) {
    this.#sink = sink;
    this.#limits = limits;
    this.#counters = counters;
    this.#onResync = onResync;
    this.#owner = owner;
  }

  /** Messages waiting. */
  get queued(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes waiting. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Whether nothing more can be written: the queue was released or the sink's connection is closing. */
  get gone(): boolean {
    return this.closed || this.#sink.gone;
  }

  /**
   * Offers an event message (`count` events of `type`): written now if the sink keeps up, else queued within the
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
    if (this.#head === this.#items.length && this.#sink.writable()) {
      this.#sink.write(data, bytes, seq);
      this.#counters.delivered += count;
      return;
    }
    this.#enqueue({ data, bytes, type, count, types, seq });
  }

  /** Offers a control frame (pong, error, subscribed): like an event, but still sent while a resync is owed. */
  offerControl(data: Buffer | string, bytes: number, type: string): void {
    if (this.gone) return;
    if (this.#head === this.#items.length && this.#sink.writable()) {
      this.#sink.write(data, bytes);
      return;
    }
    this.#enqueue({ data, bytes, type, count: 0 });
  }

  /** Writes regardless of backpressure: for the one `hello` or `resync` frame that starts a client's state. */
  sendNow(data: Buffer | string, bytes: number): void {
    if (this.gone) return;
    this.#sink.write(data, bytes);
  }

  /** Writes a transport-level keepalive (SSE comment) if the sink is idle enough; never queued. */
  keepalive(data: Buffer): void {
    if (!this.gone && this.#head === this.#items.length && this.#sink.writable()) this.#sink.write(data, data.length);
  }

  /** Moves queued messages to the sink while it keeps up; then asks for the owed resync, if any. */
  flush(): void {
    if (this.gone) return;
    while (this.#head < this.#items.length && this.#sink.writable()) {
      const item = this.#items[this.#head] as QueueItem;
      this.#items[this.#head++] = undefined;
      this.#bytes -= item.bytes;
      this.#sink.write(item.data, item.bytes, item.seq);
      this.#counters.delivered += item.count;
    }
    this.#compact();
    if (this.needsResync && this.queued === 0 && this.#sink.writable()) this.#onResync(this.#owner);
  }

  /** Marks the queue closed and lets go of what it holds. */
  release(): void {
    this.closed = true;
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
  }

  #enqueue(item: QueueItem): void {
    const { sendBuffer, maxBufferedBytes } = this.#limits;
    if (this.queued + 1 > sendBuffer || this.#bytes + item.bytes > maxBufferedBytes) {
      this.#overflow();
      this.#drop(item.type, item.count, item.types);
      return;
    }
    this.#items.push(item);
    this.#bytes += item.bytes;
    if (this.queued > this.peakQueued) this.peakQueued = this.queued;
    if (this.#bytes > this.peakQueuedBytes) this.peakQueuedBytes = this.#bytes;
  }

  #overflow(): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as QueueItem;
      this.#drop(item.type, item.count, item.types);
    }
    this.#items = [];
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

  /** Reads advance a head index instead of shifting; the array is cut back once the dead prefix dominates. */
  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
