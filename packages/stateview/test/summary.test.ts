import { ServerSummarySchema } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { makeSummary } from '../src/index.js';

describe('makeSummary', () => {
  it('builds a valid idle, closed-circuit ServerSummary with zero counters and null fields', () => {
    const summary = makeSummary('github');
    expect(ServerSummarySchema.parse(summary)).toEqual(summary);
    expect(summary).toEqual({
      name: 'github',
      protocol: 'stdio',
      enabled: true,
      quarantined: false,
      groups: [],
      state: 'idle',
      circuit: 'closed',
      tool_count: 0,
      retry_count: 0,
      next_retry_at: null,
      connected_at: null,
      last_error: null,
      auto_disabled: null,
      pending_tools: 0,
      changed_tools: 0,
    });
  });

  it('lays the patch over the defaults, keeps the documented key order and lets the name argument win', () => {
    const summary = makeSummary('a', { name: 'b', state: 'ready', tool_count: 3, groups: ['dev'] });
    expect(summary).toMatchObject({ name: 'a', state: 'ready', tool_count: 3, groups: ['dev'] });
    expect(Object.keys(summary)).toEqual(Object.keys(ServerSummarySchema.shape));
  });

  it('returns fresh, unfrozen objects that share no arrays with the patch', () => {
    const groups = ['dev'];
    const a = makeSummary('a', { groups });
    const b = makeSummary('a', { groups });
    expect(a.groups).not.toBe(groups);
    expect(a.groups).not.toBe(b.groups);
    expect(Object.isFrozen(a)).toBe(false);
  });
});
