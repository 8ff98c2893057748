import { describe, expect, it } from 'vitest';
import {
  createFakeClock,
  EVENT_TYPES,
  EventEnvelopeSchema,
  formatDuration,
  MASK,
  maskConfig,
  parseConfig,
  parseDuration,
  scrubSecrets,
  secretValues,
  statusOf,
} from '../src/index.js';

describe('durations', () => {
  it('parses the documented units (docs/configuration.md) and integer milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(1.5)).toBeUndefined();
    expect(parseDuration('5 minutes')).toBeUndefined();
  });

  it('formats milliseconds as the shortest exact duration', () => {
    expect([0, 500, 1500, 30_000, 120_000, 3_600_000].map(formatDuration)).toEqual([
      '0ms',
      '500ms',
      '1500ms',
      '30s',
      '2m',
      '1h',
    ]);
  });
});

describe('masking', () => {
  const parsed = parseConfig({
    api_key: 'top-secret-key',
    mcpServers: [{ name: 'gh', command: 'x', env: { TOKEN: 'ghp_abcdef' }, headers: {} }],
  });
  if (!parsed.ok) throw new Error('fixture invalid');
  const config = parsed.value;

  it('masks api_key and every env and header value but keeps the keys', () => {
    const masked = maskConfig(config);
    expect(masked.api_key).toBe(MASK);
    expect(masked.mcpServers[0]?.env).toEqual({ TOKEN: MASK });
    expect(JSON.stringify(masked)).not.toContain('ghp_abcdef');
    expect(JSON.stringify(masked)).not.toContain('top-secret-key');
    expect(config.mcpServers[0]?.env.TOKEN).toBe('ghp_abcdef');
  });

  it('scrubs secrets out of free text', () => {
    const secrets = secretValues(config);
    expect(scrubSecrets('auth failed with ghp_abcdef for top-secret-key', secrets)).toBe(
      `auth failed with ${MASK} for ${MASK}`,
    );
  });
});

describe('event envelope schema', () => {
  it('accepts every catalogue type with its data and refuses a wrong data shape', () => {
    expect(EVENT_TYPES).toContain('server_state_changed');
    expect(EVENT_TYPES).toHaveLength(14);
    const good = EventEnvelopeSchema.safeParse({
      seq: 1,
      epoch: 'e',
      type: 'app_state_changed',
      time: '2026-11-21T10:00:00.000Z',
      data: { from: 'starting', to: 'running' },
    });
    expect(good.success).toBe(true);
    const bad = EventEnvelopeSchema.safeParse({
      seq: 1,
      epoch: 'e',
      type: 'app_state_changed',
      time: 't',
      data: { from: 'starting', to: 'flying' },
    });
    expect(bad.success).toBe(false);
  });
});

describe('error codes', () => {
  it('maps each code to the status in docs/rest.md', () => {
    expect(statusOf('READ_ONLY')).toBe(403);
    expect(statusOf('INVALID_CONFIG')).toBe(422);
    expect(statusOf('UPSTREAM_TIMEOUT')).toBe(504);
    expect(statusOf('PAYLOAD_TOO_LARGE')).toBe(413);
  });
});

describe('fake clock', () => {
  it('fires due timers in order as time advances and never before', () => {
    const clock = createFakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    const c = clock.setTimeout(() => fired.push('c'), 15);
    clock.clearTimeout(c);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(20);
    expect(clock.pending()).toBe(0);
  });

  it('runs timers set by a firing timer when they fall inside the advanced span', async () => {
    const clock = createFakeClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    await clock.advanceAsync(10);
    expect(fired).toEqual([5, 10]);
  });
});
