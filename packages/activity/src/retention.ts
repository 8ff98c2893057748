import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';

/** The writes retention needs; the log answers them from its writer thread. */
export interface RetentionOps {
  /** Deletes up to `batch` rows older than `before`; resolves to how many. */
  pruneOlderThan(before: number, batch: number): Promise<number>;
  /** Deletes the `batch` oldest rows and hands some freed pages back; resolves to how many. */
  pruneOldest(batch: number): Promise<number>;
  /** Bytes in live pages. */
  usedBytes(): number;
  /** Refreshes the planner's statistics. */
  analyze(): Promise<void>;
}

export interface RetentionOptions {
  ops: RetentionOps;
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
 * Background pruning by age and size. Each step deletes at most `pruneBatch` rows in its own short transaction, so
 * the writer is never held long. Size pruning goes down to 90% of `maxSize` so it does not run again on the very
 * next batch. A pass runs every `pruneInterval` and ends with a statistics refresh.
 */
export class Retention {
  pruned = 0;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Over `maxSize` and not yet back under 90% of it. */
  private shrinking = false;
  private running: Promise<number> | undefined;

  constructor(private readonly o: RetentionOptions) {}

  start(): void {
    this.arm();
  }

  /** Stops the timer and waits for a pass in progress to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => 0);
  }

  /** One step: resolves to the rows deleted (a full batch means more may be due). */
  async step(): Promise<number> {
    const { ops, clock, retention, maxSize, pruneBatch } = this.o;
    let deleted = await ops.pruneOlderThan(clock.now() - retention, pruneBatch);
    if (deleted === 0) {
      const used = ops.usedBytes();
      if (used > maxSize) this.shrinking = true;
      else if (used <= maxSize * 0.9) this.shrinking = false;
      if (this.shrinking) {
        deleted = await ops.pruneOldest(pruneBatch);
        if (deleted === 0) this.shrinking = false;
      }
    }
    this.pruned += deleted;
    return deleted;
  }

  /** A whole pass: steps until one comes back short, then refreshes statistics; resolves to rows deleted. */
  run(): Promise<number> {
    this.running ??= (async () => {
      const before = this.pruned;
      try {
        while (!this.stopped && (await this.step()) >= this.o.pruneBatch) {}
        if (!this.stopped) await this.o.ops.analyze();
      } finally {
        this.running = undefined;
      }
      return this.pruned - before;
    })();
    return this.running;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.run()
        .catch((cause) => this.o.logger.warn('activity: retention pass failed', { error: String(cause) }))
        .finally(() => this.arm());
    }, this.o.pruneInterval);
  }
}
