import type { BusEvent } from '@mcpproxy/contracts';

/** A bounded async stream of bus events. */
export interface EventStream extends AsyncIterable<BusEvent> {
  /** Events dropped because the queue was full (oldest first). */
  readonly dropped: number;
  /** Events queued and not yet read. */
  readonly size: number;
  /** Whether {@link close} was called (or the bus closed). */
  readonly closed: boolean;
  /** Reads the next event; resolves `undefined` once closed and drained. */
  next(): Promise<BusEvent | undefined>;
  /** Stops the stream: unsubscribes, drops what is queued, ends iteration. Idempotent. */
  close(): void;
}

/**
 * The queue behind a stream: a ring that drops the oldest event on overflow so a slow reader costs bounded memory
 * and still sees the newest events.
 */
export class BoundedQueue {
  readonly #buf: (BusEvent | undefined)[];
  #head = 0;
  #size = 0;
  dropped = 0;
  closed = false;
  #waiter: ((value: BusEvent | undefined) => void) | undefined;

  constructor(readonly capacity: number) {
    this.#buf = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(event: BusEvent): void {
    if (this.closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter(event);
      return;
    }
    if (this.#size === this.capacity) {
      this.#head = (this.#head + 1) % this.capacity;
      this.#size--;
      this.dropped++;
    }
    this.#buf[(this.#head + this.#size) % this.capacity] = event;
    this.#size++;
  }

  next(): Promise<BusEvent | undefined> {
    if (this.#size > 0) {
      const event = this.#buf[this.#head];
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.capacity;
      this.#size--;
      return Promise.resolve(event);
    }
    if (this.closed) return Promise.resolve(undefined);
    if (this.#waiter) return Promise.reject(new Error('EventStream.next() called again before the last read settled'));
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#buf.fill(undefined);
    this.#size = 0;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
  }
}
