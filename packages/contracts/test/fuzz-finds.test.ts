import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, parseConfig, parseServerConfig } from '../src/index.js';

/** Sets `value` at the dotted `key` of an empty config. */
function withKey(key: string, value: unknown): Record<string, unknown> {
  const parts = key.split('.');
  const root: Record<string, unknown> = {};
  let node = root;
  for (const p of parts.slice(0, -1)) {
    const child: Record<string, unknown> = {};
    node[p] = child;
    node = child;
  }
  node[parts[parts.length - 1] as string] = value;
  return root;
}

// Every config duration that drives a timer; Node fires timers above 2^31−1 ms after 1 ms.
const TIMER_KEYS = [
  'call_tool_timeout',
  'init_timeout',
  'health_check_interval',
  'tool_discovery_interval',
  'retry.initial_delay',
  'retry.max_delay',
  'circuit_breaker.reset_timeout',
  'events.ping_interval',
  'events.pong_timeout',
  'events.batch_window',
];

describe('issue 16: timer durations are bounded', () => {
  it('24d is below Node’s 2^31−1 ms timer limit', () => {
    expect(MAX_TIMER_MS).toBe(24 * 86_400_000);
    expect(MAX_TIMER_MS).toBeLessThan(2 ** 31 - 1);
  });

  it.each(TIMER_KEYS)('refuses "30d" for %s with rule duration_max', (key) => {
    const r = parseConfig(withKey(key, '30d'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toContainEqual(
      expect.objectContaining({ path: key, rule: 'duration_max', message: expect.stringContaining('at most 24d') }),
    );
  });

  it.each(TIMER_KEYS)('accepts exactly 24d for %s', (key) => {
    // max_delay must stay ≥ initial_delay, so set both when testing the retry pair.
    const input = key.startsWith('retry.')
      ? { retry: { initial_delay: '24d', max_delay: '24d' } }
      : withKey(key, '24d');
    expect(parseConfig(input).ok).toBe(true);
  });

  it('refuses integer milliseconds above the limit too', () => {
    const r = parseConfig({ call_tool_timeout: MAX_TIMER_MS + 1 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ path: 'call_tool_timeout', rule: 'duration_max' });
  });

  it.each(['init_timeout', 'health_check_interval'])('refuses "30d" for mcpServers[].%s', (key) => {
    const r = parseConfig({ mcpServers: [{ name: 'a', command: 'x', [key]: '30d' }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ path: `mcpServers[0].${key}`, rule: 'duration_max' })]);
    expect(parseServerConfig({ name: 'a', command: 'x', [key]: '30d' }).ok).toBe(false);
  });

  it('keeps accepting long activity.retention values (not a timer)', () => {
    const r = parseConfig({ activity: { retention: '365d' } });
    expect(r.ok && r.value.activity.retention).toBe(365 * 86_400_000);
    const d = parseConfig({});
    expect(d.ok && d.value.activity.retention).toBe(30 * 86_400_000);
  });
});

describe('issue 16: server names made only of dots', () => {
  it.each(['.', '..', '...'])('refuses "%s" as a name in the array form', (name) => {
    const r = parseConfig({ mcpServers: [{ name, command: 'x' }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      expect.objectContaining({ path: 'mcpServers[0].name', message: expect.stringContaining('dots') }),
    ]);
    expect(parseServerConfig({ name, command: 'x' }).ok).toBe(false);
  });

  it.each(['.', '..'])('refuses "%s" as a key of the object form with the name rule', (name) => {
    const r = parseConfig({ mcpServers: { [name]: { command: 'x' } } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      expect.objectContaining({ path: `mcpServers[${JSON.stringify(name)}]`, rule: 'server_name' }),
    ]);
  });

  it('still accepts names that contain dots among other characters', () => {
    const r = parseConfig({
      mcpServers: [
        { name: '.a', command: 'x' },
        { name: 'a..b', command: 'x' },
      ],
    });
    expect(r.ok && r.value.mcpServers.map((s) => s.name)).toEqual(['.a', 'a..b']);
  });
});
