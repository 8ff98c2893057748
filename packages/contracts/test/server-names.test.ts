import { describe, expect, it } from 'vitest';
import { parseConfig, parseServerConfig } from '../src/index.js';

/** Parses file text the way the config service does: JSON.parse keeps "__proto__" as an own key. */
function parseText(text: string) {
  return parseConfig(JSON.parse(text));
}

describe('issue 16: server names that are special property names', () => {
  it('refuses a "__proto__" key in the object form of mcpServers with the name rule instead of dropping it', () => {
    const r = parseText('{"mcpServers": {"ok": {"command": "x"}, "__proto__": {"command": "y"}}}');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ path: 'mcpServers.__proto__', rule: 'server_name' })]);
    expect(r.issues[0]?.message).toContain('"__"');
  });

  it('reports the entry issues of a "__proto__" key too (the entry is not lost before validation)', () => {
    const r = parseText('{"mcpServers": {"__proto__": {"protocol": "stdio"}}}');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ path: 'mcpServers.__proto__.command' })]);
  });

  it.each(['constructor', 'prototype'])('refuses "%s" as a key of the object form', (name) => {
    const r = parseText(`{"mcpServers": {"${name}": {"command": "x"}}}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ path: `mcpServers.${name}`, rule: 'server_name' })]);
    expect(r.issues[0]?.message).toContain('reserved');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses "%s" as a name in the array form', (name) => {
    const r = parseText(`{"mcpServers": [{"name": "${name}", "command": "x"}]}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([expect.objectContaining({ path: 'mcpServers[0].name' })]);
    expect(parseServerConfig({ name, command: 'x' }).ok).toBe(false);
  });

  it('still accepts names that merely contain those words, in key order', () => {
    const r = parseText(
      '{"mcpServers": {"Constructor": {"command": "x"}, "my-prototype": {"command": "x"}, "proto": {"command": "x"}}}',
    );
    expect(r.ok && r.value.mcpServers.map((s) => s.name)).toEqual(['Constructor', 'my-prototype', 'proto']);
  });

  it('still reports a non-object mcpServers as a type error', () => {
    const r = parseConfig({ mcpServers: 'nope' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ path: 'mcpServers' });
  });
});
