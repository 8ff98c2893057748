/**
 * The three ways bytes reach a client, as {@link Sink}s for the queue in `queue.ts`, and the end-of-tick write
 * coalescing they share: what one tick produces for a client goes out as one `writev` (WebSocket) or one stream
 * chunk (SSE), not one syscall per event.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Sink } from './queue.js';

/**
 * Raw clients count as backpressured while their socket holds this many unflushed bytes. It is above the socket's
 * own 16 KiB high-water mark, so the write that crosses it has returned `false` and a `'drain'` is sure to follow.
 */
export const SOCKET_HIGH_WATER = 64 * 1024;
/** Bytes an SSE stream holds before it reports backpressure (`desiredSize` ≤ 0). */
export const SSE_HIGH_WATER_MARK = 64 * 1024;
/**
 * Raw and SSE sinks write corked: a tick's output goes out together at the end of the tick, or as soon as this many
 * bytes are corked, so a burst of events costs one syscall per client, not one per event.
 */
const CORK_FLUSH = 16 * 1024;
/** Bytes a deflate client may have in flight (handed to ws, not yet written) before it counts as backpressured. */
const DEFLATE_IN_FLIGHT = 64 * 1024;
const OPEN = 1;

/** A sink the coalescer can flush at the end of the tick. */
export interface Corkable {
  /** Whether the coalescer has this sink in its end-of-tick list. */
  uncorkListed: boolean;
  /** Flushes what the sink corked this tick. */
  uncork(): void;
}

/** A run of consecutive events in one wire variant: identical bytes for every client that has it. */
export interface SseRun {
  legacy: boolean;
  first: number;
  last: number;
}

/** One broadcaster's end-of-tick flush of every corked sink, and the SSE chunks they share within a tick. */
export class TickCoalescer {
  #corked: Corkable[] = [];
  #scheduled = false;
  /**
   * SSE clients whose tick carried the same run of consecutive events (in the same variant) get the same bytes, so
   * they share one joined chunk instead of each copying its own.
   */
  readonly #joined = new Map<string, Buffer>();

  /** Puts a sink that just corked on the list flushed at the end of this tick. */
  add(sink: Corkable): void {
    if (sink.uncorkListed) return;
    sink.uncorkListed = true;
    this.#corked.push(sink);
    if (!this.#scheduled) {
      this.#scheduled = true;
      process.nextTick(this.#uncorkAll);
    }
  }

  /** Joins a tick's SSE messages into one chunk, shared by every client with the same `run`. */
  join(parts: Buffer[], bytes: number, run: SseRun | undefined): Buffer {
    if (!run) return Buffer.concat(parts, bytes);
    const key = `${run.legacy ? 'L' : 'C'}${run.first}-${run.last}`;
    let chunk = this.#joined.get(key);
    if (!chunk) {
      chunk = Buffer.concat(parts, bytes);
      this.#joined.set(key, chunk);
    }
    return chunk;
  }

  readonly #uncorkAll = (): void => {
    this.#scheduled = false;
    // A write that corks again from here on belongs to the next round, not to this loop.
    for (const sink of this.#corked.splice(0)) {
      sink.uncorkListed = false;
      sink.uncork();
    }
    this.#joined.clear();
  };
}

/** WebSocket without compression: pre-framed buffers (shared by every client) written straight to the socket. */
export class RawSink implements Sink, Corkable {
  uncorkListed = false;
  #corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly socket: Duplex,
    private readonly coalescer: TickCoalescer,
  ) {}

  get gone(): boolean {
    return this.ws.readyState !== OPEN;
  }

  /** Bytes written to the socket and not yet flushed to the kernel. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  writable(): boolean {
    return this.socket.writableLength < SOCKET_HIGH_WATER;
  }

  write(data: Buffer | string): void {
    const socket = this.socket;
    if (!this.#corked) {
      socket.cork();
      this.#corked = true;
      this.coalescer.add(this);
    }
    socket.write(data);
    if (socket.writableLength >= CORK_FLUSH) this.uncork();
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.socket.uncork();
  }

  release(): void {}
}

/** WebSocket with permessage-deflate: `ws.send` of the pre-serialised string, compressed by ws per client. */
export class DeflateSink implements Sink {
  #inFlight = 0;

  /** `onRoom` runs when sent bytes bring the in-flight total back under the limit, so the queue can flush. */
  constructor(
    readonly ws: WebSocket,
    private readonly onRoom: () => void,
  ) {}

  get gone(): boolean {
    return this.ws.readyState !== OPEN;
  }

  /** Bytes handed to ws and not yet written. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  writable(): boolean {
    return this.#inFlight < DEFLATE_IN_FLIGHT;
  }

  write(data: Buffer | string, bytes: number): void {
    this.#inFlight += bytes;
    this.ws.send(data, () => {
      this.#inFlight -= bytes;
      if (this.#inFlight < DEFLATE_IN_FLIGHT) this.onRoom();
    });
  }

  release(): void {}
}

/** Server-sent events: pre-encoded chunks, a tick's worth joined into one chunk on a web `ReadableStream`. */
export class SseSink implements Sink, Corkable {
  uncorkListed = false;
  readonly gone = false;
  #corked = false;
  #released = false;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The stream's `desiredSize` when this tick's corking began (read once per tick, not once per event). */
  #room = 0;
  /** Seqs of the first and last corked event, and whether the corked parts are consecutive events only. */
  #runFirst = 0;
  #runLast = 0;
  #runOk = true;

  constructor(
    readonly controller: ReadableStreamDefaultController<Uint8Array>,
    private readonly legacy: boolean,
    private readonly coalescer: TickCoalescer,
  ) {}

  /** Bytes the stream holds beyond what the reader took, plus what waits to be joined. */
  get buffered(): number {
    return Math.max(0, SSE_HIGH_WATER_MARK - (this.controller.desiredSize ?? 0)) + this.#pendingBytes;
  }

  writable(): boolean {
    if (this.#corked) return this.#room - this.#pendingBytes > 0;
    return (this.controller.desiredSize ?? 0) > 0;
  }

  write(data: Buffer | string, bytes: number, seq?: number): void {
    if (!this.#corked) {
      this.#room = this.controller.desiredSize ?? 0;
      this.#corked = true;
      this.coalescer.add(this);
      this.#runOk = seq !== undefined;
      this.#runFirst = this.#runLast = seq ?? 0;
    } else if (seq === undefined || seq !== this.#runLast + 1) {
      this.#runOk = false;
    } else {
      this.#runLast = seq;
    }
    this.#pending.push(data as Buffer);
    this.#pendingBytes += bytes;
    if (this.#pendingBytes >= CORK_FLUSH) this.uncork();
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    const pending = this.#pending;
    const bytes = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (pending.length === 0 || this.#released) return;
    try {
      const run = this.#runOk ? { legacy: this.legacy, first: this.#runFirst, last: this.#runLast } : undefined;
      this.controller.enqueue(pending.length === 1 ? (pending[0] as Buffer) : this.coalescer.join(pending, bytes, run));
    } catch {
      // The reader cancelled the stream in this very tick; the client is being removed.
    }
  }

  release(): void {
    this.#released = true;
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}
