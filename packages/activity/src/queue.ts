/**
 * A fixed-capacity FIFO over a ring buffer: `push` is O(1) and never allocates once full, and when full it
 * overwrites the oldest item and reports that it did, so the caller counts the drop instead of blocking.
 */
export class RingQueue<T> {
  private readonly items: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends `item`; returns `true` when the oldest item was dropped to make room. */
  push(item: T): boolean {
    const tail = (this.head + this.count) % this.capacity;
    this.items[tail] = item;
    if (this.count < this.capacity) {
      this.count++;
      return false;
    }
    this.head = (this.head + 1) % this.capacity;
    return true;
  }

  /** Removes and returns up to `max` items, oldest first. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.items[this.head] as T;
      this.items[this.head] = undefined; // let the payload be collected once written
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= n;
    return out;
  }
}
