import { fileURLToPath } from 'node:url';

/**
 * The fixture MCP servers testkit ships in `fixtures/` (run them with `process.execPath`):
 * - `rugpull-server.mjs`: stdio; counts its starts in the file `RUG_STATE`; from the second start on, `RUG_MODE`
 *   `description` (default) gives `echo` a new description (a rug pull), `reorder` sends every schema with its keys
 *   reversed. Tools: `echo`, `add`.
 */
export type FixtureName = 'rugpull-server.mjs';

/** Absolute path of one of testkit's fixture files. */
export function fixturePath(name: FixtureName): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}
