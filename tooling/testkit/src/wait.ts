/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Outer bound of the wait in real milliseconds, not a pace. @default 10_000 */
  timeoutMs?: number | undefined;
  /** What is awaited, for the timeout message. @default 'condition' */
  what?: string | undefined;
  /** Real milliseconds between two checks. @default 5 */
  intervalMs?: number | undefined;
}

/**
 * Polls `check` until it returns a truthy value and resolves with that value; rejects after `timeoutMs`.
 * For state that announces nothing (counters, process tables, sockets); waits on an outcome, never paces a test.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, what = 'condition', intervalMs = 5 }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Options of {@link WaitList.until}. */
export interface UntilOptions {
  /** Outer bound of the wait in real milliseconds. @default 10_000 */
  timeoutMs?: number | undefined;
  /** What is awaited, for the timeout message. @default 'condition' */
  what?: string | undefined;
  /** Extra context for the timeout message (what was seen instead), computed only on timeout. */
  detail?: (() => string) | undefined;
}

/** Waits that re-check when the watched state says it changed, instead of polling. */
export interface WaitList {
  /** Re-checks every pending wait; call it whenever the watched state changed. */
  notify(): void;
  /**
   * Resolves with the first truthy value of `check`, checked now and on every {@link notify};
   * rejects after `timeoutMs`.
   */
  until<T>(check: () => T | undefined | null | false, options?: UntilOptions): Promise<T>;
  /** Waits not yet settled. */
  pending(): number;
}

/** A {@link WaitList}: the building block of recorders and test clients that wait for what they receive. */
export function createWaitList(): WaitList {
  const waiters = new Set<() => void>();
  return {
    notify() {
      for (const waiter of [...waiters]) waiter();
    },
    until<T>(
      check: () => T | undefined | null | false,
      { timeoutMs = 10_000, what = 'condition', detail }: UntilOptions = {},
    ): Promise<T> {
      const now = check();
      if (now) return Promise.resolve(now);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          const more = detail ? `; ${detail()}` : '';
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${more}`));
        }, timeoutMs);
        const waiter = () => {
          const value = check();
          if (!value) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(value);
        };
        waiters.add(waiter);
      });
    },
    pending: () => waiters.size,
  };
}

/** Settles like `promise`, or rejects after `timeoutMs` naming `what`; the timer never outlives the wait. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets queued promise callbacks and actor mailboxes run (a fake clock needs this between `advance` steps). */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * The error `promise` rejects with, asserted (with vitest's `expect`) to be an instance of `type`.
 * A promise that resolves fails the assertion.
 */
export async function rejectionOf<E>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  // Loaded here, not at the top: benches import testkit's fakes outside a vitest run.
  const { expect } = await import('vitest');
  expect(error).toBeInstanceOf(type);
  return error as E;
}
