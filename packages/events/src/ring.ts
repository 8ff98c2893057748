/** A fixed-capacity ring of items ordered by insertion; the oldest is overwritten when full. */
export class Ring<T> {
  readonly #items: (T | undefined)[];
  #start = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    this.#items = new Array(Math.max(0, capacity));
  }

  get size(): number {
    return this.#size;
  }

  // On every publish: a compare and subtract instead of `%` (an integer division) keeps the append cheap.
  push(item: T): void {
    const capacity = this.capacity;
    if (capacity === 0) return;
    let end = this.#start + this.#size;
    if (end >= capacity) end -= capacity;
    this.#items[end] = item;
    if (this.#size < capacity) this.#size++;
    else if (++this.#start === capacity) this.#start = 0;
  }

  /** The item at `index` counted from the oldest (0). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.#size) return undefined;
    return this.#items[(this.#start + index) % this.capacity];
  }

  /** Items from `index` (counted from the oldest) to the newest. */
  sliceFrom(index: number): T[] {
    const out: T[] = [];
    for (let i = Math.max(0, index); i < this.#size; i++) out.push(this.#items[(this.#start + i) % this.capacity] as T);
    return out;
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#start = 0;
    this.#size = 0;
  }
}
