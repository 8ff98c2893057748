import type { UpstreamTool } from '@mcpproxy/contracts';
import type { Check, ScanContext } from '../src/index.js';
import { extractTool } from '../src/index.js';

/** A tool with a description and optional string parameters (name → description). */
export function tool(
  description: string,
  params: Record<string, string | Record<string, unknown>> = {},
  name = 'tool',
): UpstreamTool {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params))
    properties[k] = typeof v === 'string' ? { type: 'string', description: v } : v;
  return { name, description, inputSchema: { type: 'object', properties } };
}

/** Runs one check on a tool, as scanTool would. */
export function run(check: Check, t: unknown, opts: { server?: string; context?: ScanContext } = {}) {
  return check.run({ view: extractTool(t), server: opts.server, context: opts.context });
}

/** Unicode tag characters spelling `s` (invisible ASCII smuggling). */
export const tags = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0000 + (c.codePointAt(0) ?? 0))).join('');
