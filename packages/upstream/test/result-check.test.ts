// The zod-free check of tools/call and ping results (result-check.ts) against the SDK's schemas: same value, same
// key order, same rejections, for plain shapes (the hand path) and everything left to the schema.
import { CallToolResultSchema, EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { plainCallToolResult, toCallToolResult, toEmptyResult } from '../src/result-check.js';

/** Keys of every object in `value`, depth first: equal values with different key order differ here. */
function keyOrder(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keyOrder);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => [key, ...keyOrder(v)]);
}

/** What the schema does with `value`: its output, or that it threw. */
function bySchema(value: unknown): { ok: true; value: unknown } | { ok: false } {
  const parsed = CallToolResultSchema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false };
}

const plain: Array<[string, unknown]> = [
  ['one text block', { content: [{ type: 'text', text: 'hi' }] }],
  ['no content at all (defaults to [])', {}],
  ['empty content', { content: [] }],
  ['keys in another order, block keys reversed', { isError: true, content: [{ text: 'x', type: 'text' }] }],
  ['structured content', { content: [], structuredContent: { b: 1, a: { nested: [1, 2] }, 1: 'n' } }],
  ['unknown top-level keys kept after the known ones', { zz: [1], content: [], extra: { k: 'v' }, isError: false }],
  ['many blocks', { content: Array.from({ length: 50 }, (_, i) => ({ type: 'text', text: `line ${i}` })) }],
  ['empty text', { content: [{ type: 'text', text: '' }] }],
];

const leftToSchema: Array<[string, unknown]> = [
  ['an image block', { content: [{ type: 'image', data: 'aGk=', mimeType: 'image/png' }] }],
  ['a block with annotations', { content: [{ type: 'text', text: 'a', annotations: { priority: 0.5 } }] }],
  ['a block with an unknown key (stripped)', { content: [{ type: 'text', text: 'a', extra: 1 }] }],
  ['a block with _meta', { content: [{ type: 'text', text: 'a', _meta: { k: 1 } }] }],
  ['result _meta', { _meta: { progressToken: 1 }, content: [] }],
  ['an undefined isError', { content: [], isError: undefined }],
  ['an undefined unknown key', { content: [], other: undefined }],
  ['an undefined structured value', { content: [], structuredContent: { a: undefined } }],
  ['an own __proto__ key', JSON.parse('{"content":[],"__proto__":{"x":1}}')],
  ['an own __proto__ key in structuredContent', JSON.parse('{"content":[],"structuredContent":{"__proto__":{"x":1}}}')],
  ['a resource link', { content: [{ type: 'resource_link', uri: 'file:///a', name: 'a' }] }],
];

const malformed: Array<[string, unknown]> = [
  ['content not a list', { content: 'not a list' }],
  ['isError not a boolean', { content: [], isError: 'yes' }],
  ['structuredContent an array', { content: [], structuredContent: [1] }],
  ['structuredContent null', { content: [], structuredContent: null }],
  ['a text block without text', { content: [{ type: 'text' }] }],
  ['a text block whose text is a number', { content: [{ type: 'text', text: 1 }] }],
  ['an unknown block type', { content: [{ type: 'video', text: 'a' }] }],
  ['a null block', { content: [null] }],
  ['an array result', [{ content: [] }]],
  ['a null result', null],
  ['a string result', 'ok'],
];

describe('CallToolResult check', () => {
  for (const [what, value] of plain) {
    it(`builds by hand what the schema builds: ${what}`, () => {
      const expected = bySchema(value);
      const own = plainCallToolResult(value);
      expect(own).toBeDefined();
      expect(expected.ok).toBe(true);
      if (!expected.ok) return;
      expect(own).toEqual(expected.value);
      expect(keyOrder(own)).toEqual(keyOrder(expected.value));
      // Fresh objects, as zod's: the caller may keep or change them without touching the message.
      expect(own).not.toBe(value);
    });
  }

  for (const [what, value] of leftToSchema) {
    it(`leaves to the schema, with its output: ${what}`, () => {
      expect(plainCallToolResult(value)).toBeUndefined();
      const expected = bySchema(value);
      expect(expected.ok).toBe(true);
      if (!expected.ok) return;
      const own = toCallToolResult(value);
      expect(own).toEqual(expected.value);
      expect(keyOrder(own)).toEqual(keyOrder(expected.value));
    });
  }

  for (const [what, value] of malformed) {
    it(`rejects with the schema's ZodError: ${what}`, () => {
      expect(plainCallToolResult(value)).toBeUndefined();
      expect(bySchema(value).ok).toBe(false);
      let thrown: unknown;
      try {
        toCallToolResult(value);
      } catch (error) {
        thrown = error;
      }
      expect(Array.isArray((thrown as { issues?: unknown }).issues)).toBe(true);
    });
  }

  it('copies structuredContent as the schema does (a new object, the same values)', () => {
    const nested = { deep: true };
    const value = { content: [], structuredContent: { nested } };
    const own = plainCallToolResult(value);
    const expected = CallToolResultSchema.parse(value);
    expect(own?.structuredContent).not.toBe(value.structuredContent);
    expect(own?.structuredContent?.nested).toBe(nested);
    expect(expected.structuredContent?.nested).toBe(nested);
  });
});

describe('ping result check', () => {
  it('accepts {} by hand and leaves the rest to EmptyResultSchema', () => {
    expect(toEmptyResult({})).toEqual(EmptyResultSchema.parse({}));
    expect(toEmptyResult({ _meta: { a: 1 } })).toEqual(EmptyResultSchema.parse({ _meta: { a: 1 } }));
    expect(() => toEmptyResult({ unexpected: 1 })).toThrow();
    expect(() => EmptyResultSchema.parse({ unexpected: 1 })).toThrow();
    expect(() => toEmptyResult([])).toThrow();
  });
});
