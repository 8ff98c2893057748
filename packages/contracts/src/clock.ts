/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = { readonly __brand?: 'TimerHandle' } | object;

/**
 * Time as the libraries see it. No library reads `Date.now()` or `setTimeout` directly: tests inject
 * {@link createFakeClock} and advance time instead of sleeping.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; safe with `undefined` or an already-fired handle. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Node's largest timer delay; a longer one fires after 1 ms (with a TimeoutOverflowWarning). */
export const MAX_NODE_TIMER_MS = 2 ** 31 - 1;

/** A timer longer than {@link MAX_NODE_TIMER_MS}: a chain of Node timers, the current one in `timer`. */
class ChainedTimer {
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The real clock: `Date.now()` and Node timers. Delays above {@link MAX_NODE_TIMER_MS} are run as a chain of
 * shorter timers, so no caller can make a long timer fire at once.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    if (!(ms > MAX_NODE_TIMER_MS)) return setTimeout(fn, ms);
    const chained = new ChainedTimer();
    let remaining = ms;
    const arm = (): void => {
      const step = Math.min(remaining, MAX_NODE_TIMER_MS);
      remaining -= step;
      chained.timer = setTimeout(remaining > 0 ? arm : fn, step);
    };
    arm();
    return chained;
  },
  clearTimeout: (handle) => {
    if (handle === undefined) return;
    if (handle instanceof ChainedTimer) clearTimeout(handle.timer);
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A manual clock for tests: time moves only when the test says so. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing due timers in order (timers set by a firing timer run too if due). */
  advance(ms: number): void;
  /** Like {@link advance}, but lets promise callbacks run after each timer fires. */
  advanceAsync(ms: number): Promise<void>;
  /** Fires every pending timer, advancing time to each; stops after `limit` timers. */
  runAll(limit?: number): void;
  /** Number of timers not yet fired or cleared. */
  pending(): number;
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** Creates a {@link FakeClock} starting at `start` (default 2026-01-01T00:00:00Z). */
export function createFakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, FakeTimer>();

  const nextDue = (until: number): FakeTimer | undefined => {
    let best: FakeTimer | undefined;
    for (const t of timers.values()) {
      if (t.at <= until && (!best || t.at < best.at || (t.at === best.at && t.id < best.id))) best = t;
    }
    return best;
  };
  const fire = (t: FakeTimer) => {
    timers.delete(t.id);
    now = Math.max(now, t.at);
    t.fn();
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { id: nextId++, at: now + Math.max(0, ms), fn };
      timers.set(t.id, t);
      return { id: t.id };
    },
    clearTimeout(handle) {
      if (handle && 'id' in handle) timers.delete((handle as { id: number }).id);
    },
    advance(ms) {
      const until = now + ms;
      for (let t = nextDue(until); t; t = nextDue(until)) fire(t);
      now = until;
    },
    async advanceAsync(ms) {
      const until = now + ms;
      await flushMicrotasks();
      for (let t = nextDue(until); t; t = nextDue(until)) {
        fire(t);
        await flushMicrotasks();
      }
      now = until;
    },
    runAll(limit = 10_000) {
      for (let i = 0; i < limit; i++) {
        const t = nextDue(Number.POSITIVE_INFINITY);
        if (!t) return;
        fire(t);
      }
    },
    pending: () => timers.size,
  };
}

async function flushMicrotasks(): Promise<void> {
  // A macrotask turn lets every queued promise reaction run, however deeply chained.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
