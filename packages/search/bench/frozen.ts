// The frozen evaluation set (issue 15): queries written as agents phrase them, over the published tool definitions
// of 12 real MCP servers, with graded labels. It was committed before any tuning against it and must not be edited
// to fit the index: tune on the in-repo set and the dev set, then measure this one. Only aggregates are reported.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpstreamTool } from '@mcpproxy/contracts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** One server of `frozen-tools.json`: its published tool definitions and where they were taken from. */
export interface FrozenServer {
  server: string;
  package: string;
  version: string;
  /** Repository, commit and file (or tools/list of the installed package) the definitions come from. */
  source: string;
  tools: UpstreamTool[];
}

/** One graded query: `server:tool` → 2 (the right tool) or 1 (acceptable). */
export interface GradedQuery {
  query: string;
  relevant: Record<string, 1 | 2>;
}

export function loadFrozenTools(): FrozenServer[] {
  return JSON.parse(readFileSync(join(fixtures, 'frozen-tools.json'), 'utf8')) as FrozenServer[];
}

export function loadFrozenQueries(): GradedQuery[] {
  return JSON.parse(readFileSync(join(fixtures, 'frozen-queries.json'), 'utf8')) as GradedQuery[];
}

/** Aggregates of a ranker over a graded set; no per-query detail, on purpose. */
export interface GradedMetrics {
  /** Share of queries with a grade-2 tool in the top 5. */
  recallAt5: number;
  /** Share of queries with a grade-1 or grade-2 tool in the top 5. */
  lenientRecallAt5: number;
  /** Mean reciprocal rank of the first grade-2 tool (0 when absent). */
  mrr: number;
  /** nDCG@5 with gain 2^grade − 1, ideal order from the labels. */
  ndcgAt5: number;
}

/** Scores `rank` (query → ranked `server:tool` list) against graded `queries`. */
export function evaluateGraded(queries: readonly GradedQuery[], rank: (query: string) => string[]): GradedMetrics {
  let r5 = 0;
  let lenient = 0;
  let rr = 0;
  let ndcg = 0;
  for (const q of queries) {
    const ranked = rank(q.query);
    const grade = (id: string | undefined) => (id === undefined ? 0 : (q.relevant[id] ?? 0));
    const first = ranked.findIndex((id) => grade(id) === 2);
    if (first !== -1) {
      rr += 1 / (first + 1);
      if (first < 5) r5++;
    }
    if (ranked.slice(0, 5).some((id) => grade(id) > 0)) lenient++;
    let dcg = 0;
    for (let i = 0; i < 5; i++) dcg += (2 ** grade(ranked[i]) - 1) / Math.log2(i + 2);
    const ideal = Object.values(q.relevant)
      .sort((a, b) => b - a)
      .slice(0, 5)
      .reduce((sum, g, i) => sum + (2 ** g - 1) / Math.log2(i + 2), 0);
    ndcg += ideal > 0 ? dcg / ideal : 0;
  }
  const n = queries.length;
  return { recallAt5: r5 / n, lenientRecallAt5: lenient / n, mrr: rr / n, ndcgAt5: ndcg / n };
}
