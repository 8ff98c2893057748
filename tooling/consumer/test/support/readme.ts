import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One fenced code block of a README's "Quick start" section. */
export interface CodeBlock {
  /** The info string's first word: `ts`, `js`, `sh`, … (empty when the fence has none). */
  lang: string;
  code: string;
}

/** The languages whose blocks are programs the consumer test runs. */
export const PROGRAM_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs']);

/**
 * The fenced blocks of the `## Quick start` section of `<dir>/README.md`, in order: the section runs from its heading
 * to the next `## ` heading. Throws when the README or the section is missing, since every public package must show
 * its users how to start.
 */
export function quickStartBlocks(dir: string): CodeBlock[] {
  const path = join(dir, 'README.md');
  if (!existsSync(path)) throw new Error(`${path} is missing`);
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((line) => /^## Quick start\s*$/i.test(line));
  if (start < 0) throw new Error(`${path} has no "## Quick start" section`);
  const blocks: CodeBlock[] = [];
  let open: { lang: string; fence: string; body: string[] } | undefined;
  for (const line of lines.slice(start + 1)) {
    if (!open && /^## /.test(line)) break;
    if (open) {
      if (line.trimEnd() === open.fence) {
        blocks.push({ lang: open.lang, code: `${open.body.join('\n')}\n` });
        open = undefined;
      } else {
        open.body.push(line);
      }
      continue;
    }
    const fence = /^(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence?.[1]) open = { fence: fence[1], lang: (fence[2] ?? '').toLowerCase(), body: [] };
  }
  if (open) throw new Error(`${path}: an unclosed code fence in "Quick start"`);
  return blocks;
}

/** The quick-start blocks that are programs (TypeScript or JavaScript). */
export function quickStartPrograms(dir: string): CodeBlock[] {
  return quickStartBlocks(dir).filter((block) => PROGRAM_LANGS.has(block.lang));
}
