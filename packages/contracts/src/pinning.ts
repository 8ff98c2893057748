import type { UpstreamTool } from './upstream.js';

/** The fields of a tool that its pin covers (docs/security.md). */
export type PinnedTool = Pick<UpstreamTool, 'name' | 'description' | 'inputSchema' | 'outputSchema'>;

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}

/**
 * JSON with object keys sorted at every depth (and `undefined` members left out, as JSON does), so two schemas
 * that differ only in key order serialise to the same text. Array order is kept: it carries meaning
 * (`required`, `enum`, tuple items).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}

/**
 * The text a tool's pin hashes: the canonical JSON of `{name, description, inputSchema, outputSchema}`.
 * `title` and `annotations` are left out, so a server may retitle or re-annotate a tool without tripping the
 * rug-pull check; any change to what the model reads or sends does trip it. Kept here, free of `node:crypto`,
 * so every package (and a browser) pins the same bytes; the hashing packages apply SHA-256 to it.
 */
export function pinningText(tool: PinnedTool): string {
  return canonicalJson({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
  });
}
