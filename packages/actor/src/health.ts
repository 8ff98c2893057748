import type { Clock } from '@mcpproxy/contracts';
import type { ActorFailureCode, ActorHealth } from './types.js';

/** Who hears the schedule's timers (the actor). */
export interface ReadyScheduleHost {
  /** A ping is due (the actor pings and reports back with {@link ReadySchedule.pinged}). */
  pingDue(): void;
  /** A re-listing is due (the actor lists and reports back with {@link ReadySchedule.relisted}). */
  relistDue(): void;
}

export interface ReadyScheduleOptions {
  /** Time source of both timers. */
  clock: Clock;
  /** Hears the timers; an object rather than two callbacks, so a ready actor costs no extra closures. */
  host: ReadyScheduleHost;
}

/**
 * The timers of a ready actor: the health ping every `health_check_interval` (the next one is armed once the last
 * answered) and the re-listing every `tool_discovery_interval` (re-armed after each listing). It also coalesces
 * re-listings: one asked for while another runs runs once after it. Owns no I/O: the actor pings and lists.
 */
export class ReadySchedule {
  private pingTimer: ReturnType<Clock['setTimeout']> | undefined;
  private discoveryTimer: ReturnType<Clock['setTimeout']> | undefined;
  private pingInterval = 0;
  private discoveryInterval = 0;
  private relisting = false;
  private relistAgain = false;
  private readonly clock: Clock;
  private readonly host: ReadyScheduleHost;

  constructor({ clock, host }: ReadyScheduleOptions) {
    this.clock = clock;
    this.host = host;
  }

  /** Arms both timers with these intervals (ms; zero or less = off), replacing running ones. */
  start(pingInterval: number, discoveryInterval: number): void {
    this.stop();
    this.pingInterval = pingInterval;
    this.discoveryInterval = discoveryInterval;
    this.armPing();
    this.armDiscovery();
  }

  /** Clears both timers and forgets a re-listing under way. */
  stop(): void {
    const { clock } = this;
    clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    clock.clearTimeout(this.discoveryTimer);
    this.discoveryTimer = undefined;
    this.relisting = false;
    this.relistAgain = false;
  }

  /** The last ping answered: arm the next. */
  pinged(): void {
    if (this.pingTimer === undefined) this.armPing();
  }

  /**
   * Asks for a re-listing now (a `tools/list_changed`, or the discovery timer). Answers true when the caller
   * should list now, false when one runs already (it then runs once more after it).
   */
  beginRelist(): boolean {
    if (this.relisting) {
      this.relistAgain = true;
      return false;
    }
    this.relisting = true;
    this.clock.clearTimeout(this.discoveryTimer);
    this.discoveryTimer = undefined;
    return true;
  }

  /** A re-listing ended: answers true when another was asked for meanwhile (list again), else re-arms discovery. */
  relisted(): boolean {
    this.relisting = false;
    if (this.relistAgain) {
      this.relistAgain = false;
      return true;
    }
    if (this.discoveryTimer === undefined) this.armDiscovery();
    return false;
  }

  private armPing(): void {
    this.pingTimer = this.arm(this.pingInterval, () => {
      this.pingTimer = undefined;
      this.host.pingDue();
    });
  }

  private armDiscovery(): void {
    this.discoveryTimer = this.arm(this.discoveryInterval, () => {
      this.discoveryTimer = undefined;
      this.host.relistDue();
    });
  }

  /** A timer of `interval` ms, or none when the interval is zero or less (off). */
  private arm(interval: number, fire: () => void): ReturnType<Clock['setTimeout']> | undefined {
    return interval > 0 ? this.clock.setTimeout(fire, interval) : undefined;
  }
}

/** The health record of an actor: the last ping that answered and the code of the last failure. */
export class HealthRecord {
  private lastPingAt: string | null = null;
  private lastPingMs: number | null = null;
  private code: ActorFailureCode | null = null;
  private cache: ActorHealth | undefined;

  /** The record as {@link ActorHealth}; frozen, the same object until it changes. */
  read(): ActorHealth {
    this.cache ??= Object.freeze({
      last_ping_at: this.lastPingAt,
      last_ping_ms: this.lastPingMs,
      last_error_code: this.code,
    });
    return this.cache;
  }

  /** A ping sent at `sent` answered at `now` (both clock milliseconds). */
  pinged(sent: number, now: number): void {
    this.lastPingAt = new Date(now).toISOString();
    this.lastPingMs = now - sent;
    this.cache = undefined;
  }

  /** Sets the code of the last failure (`null` once ready again). */
  setErrorCode(code: ActorFailureCode | null): void {
    if (this.code === code) return;
    this.code = code;
    this.cache = undefined;
  }
}
