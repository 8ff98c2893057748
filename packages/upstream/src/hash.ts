import { createHash } from 'node:crypto';
import { type PinnedTool, pinningText } from '@mcpproxy/contracts';

/** The fields of a tool that its pin covers. */
export type HashedTool = PinnedTool;

/**
 * The pin of a tool (docs/security.md): SHA-256, lower-case hex, over contracts' `pinningText` (the canonical JSON of its
 * name, description, input schema and output schema; `title` and `annotations` left out).
 */
export function toolHash(tool: HashedTool): string {
  return createHash('sha256').update(pinningText(tool)).digest('hex');
}
