import { createFakeClock } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { RetryPolicy } from '../src/retry.js';

function setup(max_retries = 3) {
  const clock = createFakeClock();
  const retry = new RetryPolicy({
    clock,
    random: () => 0.5,
    settings: { initial_delay: 100, max_delay: 1_000, max_retries },
  });
  return { clock, retry };
}

describe('RetryPolicy', () => {
  it('says when the next failure reaches max_retries', () => {
    const { retry } = setup(3);
    retry.recordFailure();
    expect(retry.exhaustedByNext()).toBe(false);
    retry.recordFailure();
    expect(retry.exhaustedByNext()).toBe(true);
    retry.reset();
    expect(retry.failures).toBe(0);
    expect(retry.exhaustedByNext()).toBe(false);
  });

  it('schedules the retry with growing jittered backoff on the injected clock', () => {
    const { clock, retry } = setup(10);
    let due = 0;
    retry.recordFailure();
    retry.schedule(() => due++);
    const first = Date.parse(retry.nextRetryAt ?? '') - clock.now();
    expect(first).toBe(100);
    clock.advance(99);
    expect(due).toBe(0);
    clock.advance(1);
    expect(due).toBe(1);
    retry.recordFailure();
    retry.recordFailure();
    retry.schedule(() => due++);
    // attempt 2: cap min(1000, 100·4) = 400; 100 + 0.5·300 = 250
    expect(Date.parse(retry.nextRetryAt ?? '') - clock.now()).toBe(250);
  });

  it('clears a scheduled retry and its time', () => {
    const { clock, retry } = setup();
    let due = 0;
    retry.recordFailure();
    retry.schedule(() => due++);
    retry.clear();
    expect(retry.nextRetryAt).toBeNull();
    clock.advance(10_000);
    expect(due).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('records an auto-disable with its reason, count and time, until cleared', () => {
    const { clock, retry } = setup();
    retry.recordFailure();
    retry.recordFailure();
    retry.disable('connection refused');
    expect(retry.autoDisabled).toEqual({
      reason: 'connection refused',
      failures: 2,
      at: new Date(clock.now()).toISOString(),
    });
    retry.clearDisable();
    expect(retry.autoDisabled).toBeNull();
  });
});
