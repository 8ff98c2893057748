import { createHash } from 'node:crypto';
import type { UpstreamTool } from '@mcpproxy/contracts';

/** The fields of a tool that its pin covers. */
export type HashedTool = Pick<UpstreamTool, 'name' | 'description' | 'inputSchema' | 'outputSchema'>;

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
  return sorted;
}

/**
 * JSON with object keys sorted at every depth, so two schemas that differ only in key order serialise alike.
 * Array order is kept: it carries meaning (`required`, `enum`, tuple items).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}

/**
 * The pin of a tool (DESIGN §4): SHA-256, lower-case hex, over the canonical JSON of its name, description,
 * input schema and output schema. `title` and `annotations` are left out, so a server may retitle or re-annotate a
 * tool without tripping the rug-pull check, and reordering schema keys changes nothing.
 */
export function toolHash(tool: HashedTool): string {
  const pinned = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
  };
  return createHash('sha256').update(canonicalJson(pinned)).digest('hex');
}
