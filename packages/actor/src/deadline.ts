import type { Clock } from '@mcpproxy/contracts';
import { ActorError } from './errors.js';

interface Handle {
  abort(error: Error): void;
}

/**
 * The open deadlines of one actor (pings, re-listings, tool calls), so a teardown can abort them all at once.
 * Timers come from the injected clock.
 */
export class Deadlines {
  private readonly open = new Set<Handle>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /**
   * Runs `work` with an abort signal and a deadline of `ms` (zero, negative or infinite = none). Settles at the
   * deadline with `onTimeout()` even when `work` ignores its signal; `outer` aborting settles it with `ABORTED`.
   */
  run<T>(
    ms: number,
    work: (signal: AbortSignal) => Promise<T>,
    onTimeout: () => Error,
    outer?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const ctl = new AbortController();
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      let settled = false;
      const finish = (settleWith: () => void) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timer);
        outer?.removeEventListener('abort', onOuter);
        this.open.delete(handle);
        settleWith();
      };
      const abortWith = (error: Error) => {
        finish(() => reject(error));
        ctl.abort(error);
      };
      const onOuter = () => abortWith(new ActorError('ABORTED', 'the call was aborted by the caller'));
      const handle: Handle = { abort: abortWith };
      this.open.add(handle);
      if (outer?.aborted) {
        onOuter();
        return;
      }
      outer?.addEventListener('abort', onOuter, { once: true });
      if (Number.isFinite(ms) && ms > 0) timer = this.clock.setTimeout(() => abortWith(onTimeout()), ms);
      let running: Promise<T>;
      try {
        running = work(ctl.signal);
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  /** Aborts every open deadline, each with an error of its own from `error()`. */
  abortAll(error: () => Error): void {
    for (const d of [...this.open]) d.abort(error());
  }
}

/**
 * A deadline the connector can take as well (so its own default never cuts a longer one short); `undefined` for
 * "none" (zero, negative or infinite), which the actor's own timer also treats as no deadline.
 */
export function bounded(ms: number): number | undefined {
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
