import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { loadEvalQueries, loadReferenceTools } from '../bench/eval.js';

const servers = loadReferenceTools();
const queries = loadEvalQueries();
const require = createRequire(import.meta.url);

describe('reference tools fixture', () => {
  it('holds the tools of the four npm reference servers, each with a name and an input schema', () => {
    expect(servers.map((s) => s.server)).toEqual(['everything', 'filesystem', 'memory', 'sequential-thinking']);
    for (const s of servers) {
      expect(s.tools.length).toBeGreaterThan(0);
      for (const t of s.tools) {
        expect(t.name).toMatch(/\S/);
        expect(typeof t.inputSchema).toBe('object');
      }
    }
  });

  it('was dumped from the server versions installed now (run `pnpm dump-tools` after a bump)', () => {
    for (const s of servers) {
      const manifest = JSON.parse(readFileSync(require.resolve(`${s.package}/package.json`), 'utf8')) as {
        version: string;
      };
      expect(`${s.package}@${manifest.version}`).toBe(`${s.package}@${s.version}`);
    }
  });
});

describe('evaluation queries fixture', () => {
  it('has at least 40 distinct, non-blank queries', () => {
    expect(queries.length).toBeGreaterThanOrEqual(40);
    expect(new Set(queries.map((q) => q.query.toLowerCase())).size).toBe(queries.length);
    for (const q of queries) expect(q.query).toMatch(/\S/);
  });

  it('labels every query with one or more server:tool answers that exist in the reference tools', () => {
    const known = new Set(servers.flatMap((s) => s.tools.map((t) => `${s.server}:${t.name}`)));
    for (const q of queries) {
      expect(q.expected.length, q.query).toBeGreaterThan(0);
      for (const id of q.expected) expect(known.has(id), `${q.query} → ${id}`).toBe(true);
      expect(typeof q.paraphrase).toBe('boolean');
    }
  });

  it('covers all four servers', () => {
    const covered = new Set(queries.flatMap((q) => q.expected.map((id) => id.slice(0, id.indexOf(':')))));
    expect([...covered].sort()).toEqual(servers.map((s) => s.server).sort());
  });
});
