import { readFileSync } from 'node:fs';
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
