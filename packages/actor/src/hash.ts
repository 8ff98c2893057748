import { createHash } from 'node:crypto';
import { type PinnedTool, pinningText } from '@mcpproxy/contracts';

/**
 * The pinning hash of a tool (docs/security.md): hex SHA-256 over contracts' `pinningText`, the same bytes
 * `@mcpproxy/upstream`'s `toolHash` hashes. Annotations and `title` are excluded, so a change there never
 * un-approves a tool; any change to what the model reads or sends does.
 */
export function toolHash(tool: PinnedTool): string {
  return createHash('sha256').update(pinningText(tool)).digest('hex');
}
