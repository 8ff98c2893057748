import { createFakeClock, type UpstreamConnection, type UpstreamConnector } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { type AttemptResults, ConnectAttempt } from '../src/link.js';

function recorder() {
  const seen: string[] = [];
  const results: AttemptResults = {
    connected: () => seen.push('connected'),
    failed: (_a, message, code, reason) => seen.push(`${reason}:${code}:${message}`),
  };
  return { seen, results };
}

const server = { name: 's', command: 'x' } as never;

describe('ConnectAttempt', () => {
  it('fails with init_timeout on the injected clock and aborts the connector', async () => {
    const clock = createFakeClock();
    let signal: AbortSignal | undefined;
    const connector: UpstreamConnector = {
      connect: (_s, options) => {
        signal = options?.signal;
        return new Promise<never>(() => {});
      },
    };
    const { seen, results } = recorder();
    new ConnectAttempt(clock).run({ connector, server, timeoutMs: 500 }, results);
    clock.advance(499);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual(['init_timeout:INIT_TIMEOUT:initialize timed out after 500 ms']);
    expect(signal?.aborted).toBe(true);
  });

  it('reports a connector that throws at once as connect_failed, and arms no timer without a deadline', async () => {
    const clock = createFakeClock();
    const connector: UpstreamConnector = {
      connect: () => {
        throw new Error('spawn failed');
      },
    };
    const { seen, results } = recorder();
    new ConnectAttempt(clock).run({ connector, server, timeoutMs: 0 }, results);
    expect(clock.pending()).toBe(0);
    await Promise.resolve();
    expect(seen).toEqual(['connect_failed:UNKNOWN:spawn failed']);
  });

  it('settles once; cancel aborts the signal, clears the timer and lets waiters resume', async () => {
    const clock = createFakeClock();
    let signal: AbortSignal | undefined;
    const connector: UpstreamConnector = {
      connect: (_s, options) => {
        signal = options?.signal;
        return new Promise<UpstreamConnection>(() => {});
      },
    };
    const attempt = new ConnectAttempt(clock);
    attempt.run({ connector, server, timeoutMs: 1_000 }, recorder().results);
    attempt.cancel();
    expect(signal?.aborted).toBe(true);
    expect(clock.pending()).toBe(0);
    expect(attempt.settle()).toBe(false);
    await attempt.done;
  });
});
