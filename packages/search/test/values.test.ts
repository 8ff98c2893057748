import type { UpstreamTool } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createToolIndex, valueKinds } from '../src/index.js';

describe('valueKinds', () => {
  it('names files, URLs, users and e-mail addresses by their kind', () => {
    expect(valueKinds('what is in config.yaml?')).toEqual(['file']);
    expect(valueKinds('get src/index.ts and ~/notes')).toEqual(['file', 'file']);
    expect(valueKinds('open https://example.com/docs')).toEqual(['url']);
    expect(valueKinds('summarise example.org')).toEqual(['url']);
    expect(valueKinds('ask @alice')).toEqual(['user']);
    expect(valueKinds('write to bob@example.com')).toEqual(['email']);
  });

  it('leaves words, repository references, abbreviations and version numbers alone', () => {
    expect(valueKinds('list the files in a folder')).toEqual([]);
    expect(valueKinds('fork octo/hello and/or star it')).toEqual([]);
    expect(valueKinds('e.g. release 1.2.3')).toEqual([]);
  });
});

describe('value words in search', () => {
  const tool = (name: string, description: string): UpstreamTool => ({ name, description, inputSchema: {} });
  const catalogue = [
    tool('read_text', 'Read the complete contents of a file'),
    tool('get_weather', 'Get the weather of a city'),
    ...Array.from({ length: 6 }, (_, i) => tool(`filler_${i}`, `Does common things ${i}`)),
  ];

  it('lets a query that names a file find the tool that reads files, and not when turned off', () => {
    const on = createToolIndex();
    const off = createToolIndex({ valueWords: false });
    on.add('a', catalogue);
    off.add('a', catalogue);
    expect(on.search('get config.yaml')[0]?.tool).toBe('read_text');
    expect(off.search('get config.yaml')[0]?.tool).toBe('get_weather');
  });
});
