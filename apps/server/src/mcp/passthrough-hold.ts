/**
 * Holding a `/mcp/servers/{name}` session's traffic while its own link opens, or while the upstream's event stream
 * is being established: messages wait in a bounded queue, and every wait is bounded by a timer that `close()`
 * clears. Whether to hold and when to release is the session's call (passthrough.ts); this is the waiting room.
 */
import type { Clock, TimerHandle } from '@mcpproxy/contracts';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { isRequest, type Msg } from './passthrough-rules.js';

/** Messages a session may queue while its link opens; past it requests are refused. */
const MAX_QUEUE = 256;

/** The queue of one session's held messages, in the order the client sent them. */
export class HoldQueue {
  /** Whether new messages must wait in the queue. */
  holding = false;
  readonly #queue: Msg[] = [];
  readonly #timers = new Set<TimerHandle>();

  constructor(private readonly clock: Clock) {}

  get length(): number {
    return this.#queue.length;
  }

  /** Queues `m`; false (and `m` not queued) when the queue is full. */
  push(m: Msg): boolean {
    if (this.#queue.length >= MAX_QUEUE) return false;
    this.#queue.push(m);
    return true;
  }

  /** The oldest message waiting, taken off the queue. */
  shift(): Msg | undefined {
    return this.#queue.shift();
  }

  /** Takes the request `id` off the queue, if it waits there. */
  drop(id: RequestId): void {
    const at = this.#queue.findIndex((q) => isRequest(q) && q.id === id);
    if (at >= 0) this.#queue.splice(at, 1);
  }

  /** Takes off the queue the requests whose method is in `methods`; answers them newest first. */
  dropMethods(methods: ReadonlySet<string>): (Msg & { id: RequestId })[] {
    const dropped: (Msg & { id: RequestId })[] = [];
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      const q = this.#queue[i] as Msg;
      if (!isRequest(q) || !methods.has(q.method)) continue;
      this.#queue.splice(i, 1);
      dropped.push(q);
    }
    return dropped;
  }

  /** Forgets every message waiting. */
  clear(): void {
    this.#queue.length = 0;
  }

  /** Waits for `promise` at most `ms` (an upstream that never answers the GET must not stall us). */
  async bounded(promise: Promise<void>, ms: number): Promise<void> {
    let timer: TimerHandle | undefined;
    await new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, ms);
      this.#timers.add(timer);
      void promise.then(resolve, resolve);
    });
    this.clock.clearTimeout(timer);
    if (timer !== undefined) this.#timers.delete(timer);
  }

  /** Clears the timers of the waits still running. */
  close(): void {
    for (const timer of this.#timers) this.clock.clearTimeout(timer);
    this.#timers.clear();
  }
}
