import { echoTool, sumTool } from '@mcpproxy/testkit';
import { toolHash as upstreamToolHash } from '@mcpproxy/upstream';
import { describe, expect, it } from 'vitest';
import { toolHash } from '../src/index.js';

describe('toolHash', () => {
  it('gives the same pins as @mcpproxy/upstream, so either side can judge a listing', () => {
    const tools = [
      echoTool,
      sumTool,
      { name: 'x', inputSchema: { b: { z: 1, a: [3, { d: 1, c: 2 }] }, a: null }, outputSchema: { type: 'object' } },
      { name: 'y', description: '', inputSchema: {}, annotations: { readOnlyHint: true } },
    ];
    for (const tool of tools) expect(toolHash(tool)).toBe(upstreamToolHash(tool));
  });
});
