import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_STATUS } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { openApiDocument, REST_DOC_COMMAND, REST_DOC_PATH, renderRestDocs } from '../src/rest-docs.js';

describe('docs/rest.md', () => {
  it('is what the OpenAPI document the server serves renders to (regenerate when a route changes)', async () => {
    const expected = renderRestDocs(await openApiDocument());
    const actual = readFileSync(REST_DOC_PATH, 'utf8');
    // One readable failure instead of a 600-line diff: the fix is always the same command.
    expect(actual === expected, `docs/rest.md is stale: run \`${REST_DOC_COMMAND}\` and commit the result`).toBe(true);
  });

  it('documents every route of the served document', async () => {
    const doc = await openApiDocument();
    const text = readFileSync(REST_DOC_PATH, 'utf8');
    const paths = Object.keys(doc.paths as Record<string, unknown>);
    expect(paths.length).toBeGreaterThan(15);
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) expect(text).toContain(`### \`${method.toUpperCase()} ${path}\``);
    }
  });

  it('has an error code table with every API code and its HTTP status', () => {
    const text = readFileSync(REST_DOC_PATH, 'utf8');
    const rows = new Map<string, number>();
    for (const m of text.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1] ?? '', Number(m[2]));
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
  });
});

// ---------------------------------------------------------------- links between the docs and the READMEs

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The user-facing markdown: docs/, the root README and every package README. */
function markdownFiles(): string[] {
  const out = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  for (const dir of ['packages', 'apps']) {
    for (const pkg of readdirSync(join(ROOT, dir))) {
      if (existsSync(join(ROOT, dir, pkg, 'README.md'))) out.push(`${dir}/${pkg}/README.md`);
    }
  }
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

describe('user documentation links', () => {
  it('every relative link in docs/ and the READMEs reaches an existing file and heading', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/i.test(target)) continue;
        const [path = '', hash] = target.split('#');
        const resolved = path ? join(dirname(join(ROOT, file)), path) : join(ROOT, file);
        if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
        else if (hash && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(hash)) {
          broken.push(`${file}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('links every package README to the part of docs/ it implements', () => {
    const unlinked = markdownFiles().filter(
      (f) =>
        /^(packages|apps)\//.test(f) && !/\]\((\.\.\/)+docs\/[A-Za-z-]+\.md/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(unlinked, 'end each of these READMEs with `Reference: [page](../../docs/page.md)`').toEqual([]);
  });

  it('never sends users to a file outside the repository', () => {
    const offenders = markdownFiles().filter((f) =>
      /DESIGN\.md|DESIGN §|shared folder/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
