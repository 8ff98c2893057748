import type { ServerSummary } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { countdown, diffLines, filterServers, refusal, sortServers, stableJson } from '../src/format.js';
import { argumentsOf, fieldsOf } from '../src/schema-form.js';
import { fieldOfIssue } from '../src/views/add.js';
import { droppedFromMetrics } from '../src/views/events.js';

const row = (name: string, patch: Partial<ServerSummary> = {}): ServerSummary => ({
  name,
  protocol: 'stdio',
  enabled: true,
  quarantined: false,
  groups: [],
  state: 'ready',
  circuit: 'closed',
  tool_count: 0,
  retry_count: 0,
  next_retry_at: null,
  connected_at: null,
  last_error: null,
  auto_disabled: null,
  pending_tools: 0,
  changed_tools: 0,
  ...patch,
});

describe('the servers table helpers', () => {
  it('sorts by a column with the name breaking ties, either way', () => {
    const rows = [row('b', { tool_count: 2 }), row('a', { tool_count: 2 }), row('c', { tool_count: 1 })];
    expect(sortServers(rows, 'tool_count', false).map((r) => r.name)).toEqual(['c', 'a', 'b']);
    expect(sortServers(rows, 'tool_count', true).map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(sortServers(rows, 'name', true).map((r) => r.name)).toEqual(['c', 'b', 'a']);
  });

  it('filters on every word across name, groups, state and last error', () => {
    const rows = [row('github', { groups: ['dev'] }), row('db', { state: 'error', last_error: 'ECONNREFUSED' })];
    expect(filterServers(rows, 'DEV').map((r) => r.name)).toEqual(['github']);
    expect(filterServers(rows, 'error econn').map((r) => r.name)).toEqual(['db']);
    expect(filterServers(rows, '  ')).toBe(rows);
  });

  it('counts down to a retry and says "now" once it is due', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(countdown('2026-01-01T00:00:04.200Z', now)).toBe('in 5 s');
    expect(countdown('2026-01-01T00:05:00Z', now)).toBe('in 5 min');
    expect(countdown('2025-12-31T23:59:59Z', now)).toBe('now');
    expect(countdown(null, now)).toBe('');
  });

  it('words a gate refusal so a person knows which setting refused', () => {
    expect(refusal({ code: 'READ_ONLY', detail: 'x' })).toMatch(/read-only mode \(read_only_mode is on\)/);
    expect(refusal({ code: 'MANAGEMENT_DISABLED', detail: 'x' })).toMatch(/disable_management/);
    expect(refusal({ code: 'NOT_FOUND', detail: 'no such server' })).toBe('no such server');
  });
});

describe('the quarantine diff', () => {
  it('marks removed and added lines around the common ones', () => {
    expect(diffLines('a\nb\nc', 'a\nx\nc')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'c' },
    ]);
  });

  it('sees a schema with reordered keys as unchanged, as the pin hash does', () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});

describe('the tool call form', () => {
  const schema = {
    type: 'object',
    properties: {
      note: { type: 'string' },
      count: { type: 'integer', description: 'how many' },
      mode: { type: 'string', enum: ['fast', 'slow'] },
      loud: { type: 'boolean' },
      extra: { type: 'object' },
    },
    required: ['count'],
  };

  it('builds one input per property, required first, typed by the schema', () => {
    const fields = fieldsOf(schema);
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['count', 'integer', true],
      ['note', 'string', false],
      ['mode', 'enum', false],
      ['loud', 'boolean', false],
      ['extra', 'json', false],
    ]);
    expect(fields.find((f) => f.name === 'mode')?.options).toEqual(['fast', 'slow']);
  });

  it('turns the inputs into arguments, leaving out empty optional ones and naming fields that do not parse', () => {
    const fields = fieldsOf(schema);
    expect(argumentsOf(fields, { count: '3', note: '', mode: 'fast', loud: true, extra: '{"a":1}' })).toEqual({
      args: { count: 3, mode: 'fast', loud: true, extra: { a: 1 } },
      errors: [],
    });
    expect(argumentsOf(fields, { count: '2.5', extra: '{oops' }).errors).toEqual([
      { name: 'count', message: 'not an integer' },
      { name: 'extra', message: 'not valid JSON' },
    ]);
    expect(argumentsOf(fields, {}).errors).toEqual([{ name: 'count', message: 'required' }]);
  });
});

describe('other helpers', () => {
  it('puts a server validation issue on its form field', () => {
    expect(fieldOfIssue('name')).toBe('name');
    expect(fieldOfIssue('mcpServers[0].url')).toBe('url');
    expect(fieldOfIssue('env.TOKEN')).toBe('env');
    expect(fieldOfIssue('')).toBe('');
  });

  it('sums dropped events over every type in the Prometheus text', () => {
    const text = [
      '# HELP mcpproxy_events_dropped_total Events dropped',
      'mcpproxy_events_dropped_total{type="a"} 3',
      'mcpproxy_events_dropped_total{type="b"} 4',
      'mcpproxy_other 9',
    ].join('\n');
    expect(droppedFromMetrics(text)).toBe(7);
  });
});
