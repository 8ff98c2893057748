import {
  type CallToolResult,
  CallToolResultSchema,
  type EmptyResult,
  EmptyResultSchema,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * `CallToolResultSchema.parse(value)` of the SDK, without zod for the common shape.
 *
 * The schema is a loose object (unknown keys kept, after the known ones) whose `content` is an array of content
 * blocks, each a strict-by-stripping object (unknown keys dropped). A result whose shape is plainly valid — text
 * blocks of exactly `{type: 'text', text}`, an optional boolean `isError`, an optional plain-object
 * `structuredContent`, any other keys but `_meta`, and no `undefined` value or own `__proto__` key anywhere this
 * check looks (zod treats those specially) — is rebuilt here as zod would build it: `content`, `structuredContent`,
 * `isError` first (a missing `content` becomes `[]`), then the other keys in their order, with fresh objects for the
 * result, the array, each block and `structuredContent`. Anything else (images, resources, annotations, `_meta`, a
 * wrong type) goes to the schema, so it is accepted, stripped or rejected with the same `ZodError` as before.
 */
export function toCallToolResult(value: unknown): CallToolResult {
  return plainCallToolResult(value) ?? CallToolResultSchema.parse(value);
}

/** `EmptyResultSchema.parse(value)` (the answer to `ping`): `{}` by hand, anything else by the schema. */
export function toEmptyResult(value: unknown): EmptyResult {
  if (isObject(value) && Object.keys(value).length === 0) return {};
  return EmptyResultSchema.parse(value);
}

/** The hand check under {@link toCallToolResult}: the parsed result, or `undefined` when only the schema can tell. */
export function plainCallToolResult(value: unknown): CallToolResult | undefined {
  if (!isObject(value)) return undefined;
  let content: CallToolResult['content'] = [];
  let structured: Record<string, unknown> | undefined;
  let isError: boolean | undefined;
  let extra: string[] | undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return undefined;
    const field = value[key];
    if (field === undefined) return undefined;
    switch (key) {
      case 'content': {
        const blocks = textBlocks(field);
        if (blocks === undefined) return undefined;
        content = blocks;
        break;
      }
      case 'structuredContent':
        if (!isObject(field)) return undefined;
        structured = copyRecord(field);
        if (structured === undefined) return undefined;
        break;
      case 'isError':
        if (typeof field !== 'boolean') return undefined;
        isError = field;
        break;
      case '_meta':
      case '__proto__':
        return undefined;
      default:
        if (extra === undefined) extra = [key];
        else extra.push(key);
    }
  }
  const out: CallToolResult = { content };
  if (structured !== undefined) out.structuredContent = structured;
  if (isError !== undefined) out.isError = isError;
  if (extra !== undefined) for (const key of extra) out[key] = value[key];
  return out;
}

/** An array of text blocks of exactly `{type: 'text', text}` (in either order), rebuilt; else `undefined`. */
function textBlocks(value: unknown): CallToolResult['content'] | undefined {
  if (!Array.isArray(value)) return undefined;
  const blocks: CallToolResult['content'] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const block: unknown = value[i];
    if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string') return undefined;
    if (Object.keys(block).length !== 2) return undefined;
    blocks[i] = { type: 'text', text: block.text };
  }
  return blocks;
}

/** A copy of a `Record<string, unknown>` as zod's record parse makes it; `undefined` for what zod treats apart. */
function copyRecord(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.hasOwn(value, key) || key === '__proto__') return undefined;
    const field = value[key];
    if (field === undefined) return undefined;
    out[key] = field;
  }
  return out;
}

/** A non-null, non-array object. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
