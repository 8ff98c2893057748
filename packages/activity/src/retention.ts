import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';
import type { Store } from './store.js';

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Age limit (ms). */
  retention: number;
  /** Size limit (bytes). */
  maxSize: number;
  pruneBatch: number;
  pruneInterval: number;
}

/**
 * Background pruning by age and size. Each step deletes at most `pruneBatch` rows in its own short transaction, and
 * steps run one per timer turn, so the writer and readers never wait behind a long delete. Size pruning goes down
 * to 90% of `maxSize` so it does not run again on the very next batch.
 */
export class Retention {
  pruned = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Over `maxSize` and not yet back under 90% of it. */
  private shrinking = false;

  constructor(private readonly o: RetentionOptions) {}

  start(): void {
    this.arm(this.o.pruneInterval);
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One step: returns the rows deleted (a full batch means more may be due). */
  step(): number {
    const { store, clock, retention, maxSize, pruneBatch } = this.o;
    let deleted = store.pruneOlderThan(clock.now() - retention, pruneBatch);
    if (deleted === 0) {
      const used = store.usedBytes();
      if (used > maxSize) this.shrinking = true;
      else if (used <= maxSize * 0.9) this.shrinking = false;
      if (this.shrinking) {
        deleted = store.pruneOldest(pruneBatch);
        // The file stays as large as its peak unless freed pages go back; a bounded step at a time.
        store.releasePages(2000);
        if (deleted === 0) this.shrinking = false;
      }
    }
    this.pruned += deleted;
    return deleted;
  }

  /** Prunes until nothing is due, yielding between steps; returns rows deleted. */
  async runNow(): Promise<number> {
    const before = this.pruned;
    let guard = 0;
    while (!this.stopped && this.step() >= this.o.pruneBatch && guard++ < 1_000_000) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!this.stopped) this.o.store.analyze();
    return this.pruned - before;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      let more = false;
      try {
        more = this.step() >= this.o.pruneBatch;
        if (!more) this.o.store.analyze();
      } catch (cause) {
        this.o.logger.warn('activity: retention step failed', { error: String(cause) });
      }
      this.arm(more ? 0 : this.o.pruneInterval);
    }, ms);
  }
}
