import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_NODE_TIMER_MS, systemClock } from '../src/clock.js';

const DAY = 86_400_000;

// vitest's fake timers reproduce Node's overflow (a delay above 2^31−1 ms runs after 1 ms), so the chain is
// checked without waiting days.
describe('systemClock.setTimeout with delays above 2^31−1 ms', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the fake timers overflow like Node does (the premise of the tests below)', () => {
    const fn = vi.fn();
    setTimeout(fn, MAX_NODE_TIMER_MS + 1);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('fires a 30-day timer after 30 days, not at once', () => {
    const fn = vi.fn();
    systemClock.setTimeout(fn, 30 * DAY);
    vi.advanceTimersByTime(1_000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY - 1_001);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clearTimeout stops a chained timer midway', () => {
    const fn = vi.fn();
    const handle = systemClock.setTimeout(fn, 60 * DAY);
    vi.advanceTimersByTime(30 * DAY);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(60 * DAY);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps short timers as plain Node timers', () => {
    const fn = vi.fn();
    const handle = systemClock.setTimeout(fn, 10);
    systemClock.clearTimeout(handle);
    vi.advanceTimersByTime(20);
    expect(fn).not.toHaveBeenCalled();
    systemClock.setTimeout(fn, 10);
    vi.advanceTimersByTime(10);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
