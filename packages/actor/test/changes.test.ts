import { parseServerConfig, type ServerConfig } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { configChanges } from '../src/index.js';

describe('configChanges', () => {
  const entry = (patch: Record<string, unknown>): ServerConfig => {
    const parsed = parseServerConfig({ name: 'a', command: 'x', ...patch });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return parsed.value;
  };

  it('names the kinds the supervisor publishes for a change', () => {
    const kinds = (before: ServerConfig | undefined, after: ServerConfig | undefined) =>
      [...configChanges(before, after)].sort();
    expect(kinds(undefined, entry({}))).toEqual(['added']);
    expect(kinds(entry({}), undefined)).toEqual(['removed']);
    expect(kinds(entry({}), entry({}))).toEqual([]);
    expect(kinds(entry({}), entry({ enabled: false, quarantined: true }))).toEqual(['disabled', 'quarantined']);
    expect(kinds(entry({ groups: ['x'] }), entry({ groups: ['y'], quarantined: true }))).toEqual([
      'quarantined',
      'updated',
    ]);
  });

  it('lists them in publishing order: quarantine, then enabled, then updated', () => {
    expect(configChanges(entry({ quarantined: true }), entry({ enabled: false, command: 'y' }))).toEqual([
      'unquarantined',
      'disabled',
      'updated',
    ]);
  });
});
