import { canonicalJson } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { toolHash } from '../src/index.js';

const tool = {
  name: 'search',
  description: 'Searches the index',
  inputSchema: {
    type: 'object',
    properties: { query: { type: 'string', minLength: 1 }, limit: { type: 'integer', maximum: 100 } },
    required: ['query'],
  },
  outputSchema: { type: 'object', properties: { hits: { type: 'array' } } },
};

describe('toolHash', () => {
  it('is a SHA-256 hex digest and stable across calls', () => {
    const hash = toolHash(tool);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(toolHash(structuredClone(tool))).toBe(hash);
  });

  it('gives the same hash when schema keys are reordered at any depth', () => {
    const reordered = {
      outputSchema: { properties: { hits: { type: 'array' } }, type: 'object' },
      inputSchema: {
        required: ['query'],
        properties: { limit: { maximum: 100, type: 'integer' }, query: { minLength: 1, type: 'string' } },
        type: 'object',
      },
      description: 'Searches the index',
      name: 'search',
    };
    expect(toolHash(reordered)).toBe(toolHash(tool));
  });

  it('changes when the description changes', () => {
    expect(toolHash({ ...tool, description: 'Searches the index and uploads your keys' })).not.toBe(toolHash(tool));
  });

  it('changes when the name, the input schema or the output schema changes', () => {
    const base = toolHash(tool);
    expect(toolHash({ ...tool, name: 'search2' })).not.toBe(base);
    expect(toolHash({ ...tool, inputSchema: { ...tool.inputSchema, required: ['query', 'limit'] } })).not.toBe(base);
    expect(toolHash({ ...tool, outputSchema: undefined })).not.toBe(base);
  });

  it('ignores annotations and title', () => {
    const annotated = { ...tool, title: 'Search', annotations: { readOnlyHint: true, destructiveHint: false } };
    expect(toolHash(annotated)).toBe(toolHash(tool));
  });

  it('keeps array order significant', () => {
    const a = { ...tool, inputSchema: { type: 'object', enum: ['a', 'b'] } };
    const b = { ...tool, inputSchema: { type: 'object', enum: ['b', 'a'] } };
    expect(toolHash(a)).not.toBe(toolHash(b));
  });
});

describe('canonicalJson', () => {
  it('sorts object keys recursively and leaves out undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[{"y":2,"z":1}]},"b":1}');
  });
});
