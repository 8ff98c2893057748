import type { Clock, RetryConfig, ServerSummary } from '@mcpproxy/contracts';

/** Why and when a server was auto-disabled, as its summary shows it. */
export type AutoDisabled = NonNullable<ServerSummary['auto_disabled']>;

/**
 * Backoff before retry number `attempt` (0-based: 0 after the first failure): full jitter with a floor,
 * `initial_delay + random() · (cap − initial_delay)` where `cap = min(max_delay, initial_delay · 2^attempt)`.
 * The floor keeps a failing server from being retried in a hot loop when the jitter draws near zero;
 * the upper bound doubles with each attempt until `max_delay`.
 */
export function backoffDelay(attempt: number, retry: Readonly<RetryConfig>, random: () => number): number {
  const { initial_delay: initial, max_delay: max } = retry;
  const cap = Math.min(max, initial * 2 ** Math.min(attempt, 52));
  const span = Math.max(0, cap - initial);
  return Math.round(initial + Math.min(1, Math.max(0, random())) * span);
}

export interface RetryPolicyOptions {
  /** Time source of the backoff timer and of `next_retry_at`. */
  clock: Clock;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** The retry settings; replace {@link RetryPolicy.settings} when the config changes. */
  settings: Readonly<RetryConfig>;
}

/**
 * Retry and auto-disable of one actor: the consecutive failure count, the backoff timer of the next retry and the
 * auto-disable record once `max_retries` consecutive connects failed. It decides and schedules; what a retry does
 * is the caller's callback.
 */
export class RetryPolicy {
  /** Consecutive failed connects since the last success or reset. */
  failures = 0;
  /** When the scheduled retry runs (ISO 8601), or `null`. */
  nextRetryAt: string | null = null;
  /** Set once the failures reached `max_retries`; cleared by an enable. */
  autoDisabled: AutoDisabled | null = null;
  /** The retry settings in force (the actor replaces them when the config changes). */
  settings: Readonly<RetryConfig>;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor({ clock, random, settings }: RetryPolicyOptions) {
    this.clock = clock;
    this.random = random;
    this.settings = settings;
  }

  /** Whether one more failure reaches `max_retries` (the caller then gives up instead of retrying). */
  exhaustedByNext(): boolean {
    return this.failures + 1 >= this.settings.max_retries;
  }

  /** Counts a failure. */
  recordFailure(): void {
    this.failures++;
  }

  /** Zeroes the failure count (a success, a restart, an enable). */
  reset(): void {
    this.failures = 0;
  }

  /** Records the auto-disable of now with its reason. */
  disable(reason: string): void {
    this.autoDisabled = {
      reason,
      failures: this.failures,
      at: new Date(this.clock.now()).toISOString(),
    };
  }

  /** Forgets an auto-disable. */
  clearDisable(): void {
    this.autoDisabled = null;
  }

  /** Starts the backoff timer of the next retry (replacing one that runs); `onDue` runs when it fires. */
  schedule(onDue: () => void): void {
    this.clear();
    const { clock } = this;
    const delay = backoffDelay(Math.max(0, this.failures - 1), this.settings, this.random);
    this.nextRetryAt = new Date(clock.now() + delay).toISOString();
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      onDue();
    }, delay);
  }

  /** Cancels the scheduled retry. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.nextRetryAt = null;
  }
}
