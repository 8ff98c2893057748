import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const importsOf = (source: string) =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
const nodeOnly = (specifier: string) => specifier.startsWith('node:') || specifier === 'ws' || specifier === 'fs';

describe('the browser entry', () => {
  it('imports nothing Node-only, itself or through stateview and contracts', () => {
    const src = join(here, '..', 'src');
    const own = readdirSync(src).flatMap((file) => importsOf(readFileSync(join(src, file), 'utf8')));
    expect(own.filter(nodeOnly)).toEqual([]);
    expect(own.filter((s) => !s.startsWith('.') && !s.startsWith('@mcpproxy/')).sort()).toEqual([]);
    for (const dep of ['stateview', 'contracts']) {
      const dist = join(here, '..', 'node_modules', '@mcpproxy', dep, 'dist', 'index.js');
      expect(importsOf(readFileSync(dist, 'utf8')).filter(nodeOnly), dep).toEqual([]);
    }
  });
});
