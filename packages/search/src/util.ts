// Small helpers of the index: a bounded heap, term lists and a bit count.

// A min-heap by `before`: the root is the hit that ranks last, the first to give way to a better one.
export function siftUp(heap: number[], i: number, before: (x: number, y: number) => boolean): void {
  const item = heap[i] as number;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as number;
    if (!before(p, item)) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = item;
}

export function siftDown(heap: number[], i: number, before: (x: number, y: number) => boolean): void {
  const item = heap[i] as number;
  const len = heap.length;
  for (;;) {
    let worst = 2 * i + 1;
    if (worst >= len) break;
    const right = worst + 1;
    if (right < len && before(heap[worst] as number, heap[right] as number)) worst = right;
    if (!before(item, heap[worst] as number)) break;
    heap[i] = heap[worst] as number;
    i = worst;
  }
  heap[i] = item;
}

/** Adds `term` to the list under `key`. */
export function enlist(lists: Map<string, string[]>, key: string, term: string): void {
  const list = lists.get(key);
  if (list === undefined) lists.set(key, [term]);
  else list.push(term);
}

/** Removes `term` from the list under `key` (order is not kept), and the list once empty. */
export function unlist(lists: Map<string, string[]>, key: string, term: string): void {
  const list = lists.get(key) as string[];
  const at = list.indexOf(term);
  list[at] = list[list.length - 1] as string;
  list.pop();
  if (list.length === 0) lists.delete(key);
}

/** Number of set bits of a 32-bit integer. */
export function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
