import type { CircuitBreakerConfig, CircuitState, Clock } from '@mcpproxy/contracts';
import type { CallPermit } from './types.js';

export interface CircuitBreakerOptions {
  /** Time source of the reset timeout. */
  clock: Clock;
  /** The current thresholds (they may change with the config). */
  settings: () => Readonly<CircuitBreakerConfig>;
  /** Called on every change of state, after it took effect. */
  onChange: (from: CircuitState, to: CircuitState) => void;
}

/**
 * The circuit breaker around one server's tool calls: `closed` counts consecutive failures and opens at
 * `failure_threshold`; `open` refuses every call until `reset_timeout` passed, then turns `half_open`; `half_open`
 * lets one probe through, whose outcome closes or reopens it. A reset (a reconnect) closes it and starts a new
 * epoch: outcomes of permits given before it no longer count.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private epoch = 0;
  private probing = false;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  /** Unsettled permits with the epoch they were given in. */
  private readonly permits = new WeakMap<CallPermit, number>();
  private readonly options: CircuitBreakerOptions;

  constructor(options: CircuitBreakerOptions) {
    this.options = options;
  }

  /** The current state. */
  get state(): CircuitState {
    return this.current;
  }

  /**
   * A permit for one call, or `undefined` while open or while the half-open probe is in flight. In half-open the
   * permit given is the probe. Settle it once with {@link settle}.
   */
  admit(): CallPermit | undefined {
    if (this.current === 'open' || (this.current === 'half_open' && this.probing)) return undefined;
    const probe = this.current === 'half_open';
    if (probe) this.probing = true;
    const permit: CallPermit = Object.freeze({ probe });
    this.permits.set(permit, this.epoch);
    return permit;
  }

  /**
   * Counts a call's outcome: `ok` resets the count (and closes a half-open circuit on the probe), `failed` and
   * `timeout` count (and reopen on the probe), `aborted` counts as neither and frees the probe. A permit counts
   * once; one given before the last reset does not count.
   */
  settle(permit: CallPermit, outcome: 'ok' | 'failed' | 'timeout' | 'aborted'): void {
    const epoch = this.permits.get(permit);
    if (epoch === undefined) return;
    this.permits.delete(permit);
    if (epoch !== this.epoch) return;
    if (outcome === 'ok') this.succeeded(permit.probe);
    else if (outcome === 'failed' || outcome === 'timeout') this.failed(permit.probe);
    else if (permit.probe) this.probing = false;
  }

  /** Closes the circuit, clears its timer and starts a new epoch (a reconnect, a stop). */
  reset(): void {
    this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.failures = 0;
    this.probing = false;
    this.epoch++;
    if (this.current !== 'closed') this.set('closed');
  }

  private succeeded(probe: boolean): void {
    if (this.current === 'closed') this.failures = 0;
    else if (this.current === 'half_open' && probe) {
      this.probing = false;
      this.failures = 0;
      this.set('closed');
    }
  }

  private failed(probe: boolean): void {
    if (this.current === 'closed') {
      this.failures++;
      if (this.failures >= this.options.settings().failure_threshold) this.open();
    } else if (this.current === 'half_open' && probe) {
      this.probing = false;
      this.open();
    }
  }

  private open(): void {
    this.failures = 0;
    this.set('open');
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.current === 'open') this.set('half_open');
    }, this.options.settings().reset_timeout);
  }

  private set(to: CircuitState): void {
    const from = this.current;
    this.current = to;
    this.options.onChange(from, to);
  }
}
