/** The socket's reconnect delays, in ms: after the last one, polling starts. */
export const RECONNECT_DELAYS_MS: readonly number[] = Object.freeze([1_000, 2_000, 4_000, 8_000, 16_000, 32_000]);

/** How often `/api/v1/servers` is polled while the socket is down past every reconnect delay. */
export const POLL_INTERVAL_MS = 30_000;

/**
 * The delay before reconnect attempt `failures + 1`: the `failures`-th entry of `delays` (the last one once they
 * run out), spread by ±`jitter` so that many clients of a restarted server do not reconnect in the same instant.
 * `random` is in [0, 1).
 */
export function reconnectDelay(
  failures: number,
  { delays = RECONNECT_DELAYS_MS, jitter = 0.2, random = Math.random }: BackoffOptions = {},
): number {
  const base = delays[Math.min(Math.max(failures, 0), delays.length - 1)] ?? 1_000;
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

/** Options of {@link reconnectDelay}. */
export interface BackoffOptions {
  /** The delays in order. @default RECONNECT_DELAYS_MS (1, 2, 4, 8, 16, 32 s) */
  delays?: readonly number[] | undefined;
  /** Spread as a fraction of each delay. @default 0.2 */
  jitter?: number | undefined;
  /** Source of randomness in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}
