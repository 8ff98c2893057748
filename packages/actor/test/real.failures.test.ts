import { type Clock, systemClock } from '@mcpproxy/contracts';
import { freePort } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { realActor, realSettings, serverConfig } from './helpers/real.js';

describe('ServerActor against failing real upstreams', () => {
  it('retries a command that exits at once with growing delays, then auto-disables it', async () => {
    // The real clock, with every timer it is asked for written down.
    const timers: number[] = [];
    const clock: Clock = {
      now: () => systemClock.now(),
      setTimeout: (fn, ms) => {
        timers.push(ms);
        return systemClock.setTimeout(fn, ms);
      },
      clearTimeout: (handle) => systemClock.clearTimeout(handle),
    };
    const settings = realSettings({
      init_timeout: 10_000,
      retry: { initial_delay: 50, max_delay: 400, max_retries: 4 },
    });
    await using real = realActor(
      serverConfig({ name: 'crasher', command: process.execPath, args: ['-e', 'process.exit(3)'] }),
      { settings, random: () => 0.999_999, clock },
    );
    const { actor, events } = real;
    const disabled = events.next('server_auto_disabled', undefined, 15_000);
    await actor.start();
    const auto = await disabled;
    expect(auto.data.failures).toBe(4);
    expect(auto.data.reason).toMatch(/exited with code 3/);
    expect(actor.getState()).toMatchObject({ state: 'disabled', enabled: false, retry_count: 4, next_retry_at: null });
    expect(events.of('server_state_changed').filter((e) => e.data.to === 'error')).toHaveLength(3);
    // Retry delays (every timer but the init timeouts): the upper bound doubles and the jitter draws at the top.
    expect(timers.filter((ms) => ms !== 10_000)).toEqual([50, 100, 200]);
    // The retries really waited: connects are spaced by at least the scheduled delays.
    const connecting = events.of('server_state_changed').filter((e) => e.data.to === 'connecting');
    expect(connecting).toHaveLength(4);
    for (let i = 1; i < connecting.length; i++) {
      const gap = Date.parse(connecting[i]?.time ?? '') - Date.parse(connecting[i - 1]?.time ?? '');
      expect(gap).toBeGreaterThanOrEqual(50 * 2 ** (i - 1) - 2);
    }
  });

  it('gives a clear error for a command that does not exist, and does not crash', async () => {
    await using real = realActor(serverConfig({ name: 'ghost', command: '/nonexistent/mcp-server-that-is-not-here' }));
    const { actor } = real;
    await actor.start();
    const state = actor.getState();
    expect(state.state).toBe('error');
    expect(state.last_error).toMatch(/mcp-server-that-is-not-here/);
    expect(state.last_error).toMatch(/not found|ENOENT|no such file/i);
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'NOT_READY' });
  });

  it('gives a clear error for a URL nobody listens on, and does not crash', async () => {
    const port = await freePort();
    await using real = realActor(
      serverConfig({ name: 'nobody', protocol: 'streamable-http', url: `http://127.0.0.1:${port}/mcp` }),
    );
    const { actor } = real;
    await actor.start();
    const state = actor.getState();
    expect(state.state).toBe('error');
    expect(state.last_error).toMatch(/ECONNREFUSED|refused|fetch failed|connect/i);
    expect(state.next_retry_at).not.toBeNull();
  });
});
