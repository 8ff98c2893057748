// The labelled evaluation set and its metrics, shared by `pnpm bench` and the fixture test.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpstreamTool } from '@mcpproxy/contracts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** One server of `reference-tools.json`: its tools exactly as `tools/list` returned them. */
export interface ReferenceServer {
  server: string;
  package: string;
  version: string;
  tools: UpstreamTool[];
}

/** One labelled query of `eval-queries.json`. */
export interface EvalQuery {
  query: string;
  /** Acceptable answers as `server:tool`; a hit on any of them counts. */
  expected: string[];
  /** A paraphrase that shares few words with the tool's own text. */
  paraphrase: boolean;
}

export function loadReferenceTools(): ReferenceServer[] {
  return JSON.parse(readFileSync(join(fixtures, 'reference-tools.json'), 'utf8')) as ReferenceServer[];
}

export function loadEvalQueries(): EvalQuery[] {
  return JSON.parse(readFileSync(join(fixtures, 'eval-queries.json'), 'utf8')) as EvalQuery[];
}

/** Recall@1, Recall@5 and mean reciprocal rank (over the whole ranking) of one ranker over the set. */
export interface EvalMetrics {
  recallAt1: number;
  recallAt5: number;
  mrr: number;
  /** Queries whose best acceptable answer is not in the top 5, with the rank it had (Infinity if absent). */
  misses: Array<{ query: string; rank: number; top: string[] }>;
}

/** Scores `rank` (a query → ranked `server:tool` list) against `queries`. */
export function evaluate(queries: readonly EvalQuery[], rank: (query: string) => string[]): EvalMetrics {
  let r1 = 0;
  let r5 = 0;
  let rr = 0;
  const misses: EvalMetrics['misses'] = [];
  for (const q of queries) {
    const ranked = rank(q.query);
    const index = ranked.findIndex((id) => q.expected.includes(id));
    const position = index === -1 ? Number.POSITIVE_INFINITY : index + 1;
    if (position <= 1) r1++;
    if (position <= 5) r5++;
    else misses.push({ query: q.query, rank: position, top: ranked.slice(0, 3) });
    rr += 1 / position;
  }
  const n = queries.length;
  return { recallAt1: r1 / n, recallAt5: r5 / n, mrr: rr / n, misses };
}

/**
 * The baseline: what a gateway without a search engine would do. Counts the query's words that occur as
 * substrings of the tool's lower-cased name, server and description; ties keep server/tool order.
 */
export function createNaiveMatcher(servers: readonly ReferenceServer[]): (query: string) => string[] {
  const tools = servers.flatMap((s) =>
    s.tools.map((t) => ({
      id: `${s.server}:${t.name}`,
      text: `${t.name} ${s.server} ${t.description ?? ''}`.toLowerCase(),
    })),
  );
  tools.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return (query) => {
    const words = query
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 0);
    return tools
      .map((t) => ({ id: t.id, score: words.reduce((n, w) => n + (t.text.includes(w) ? 1 : 0), 0) }))
      .filter((t) => t.score > 0)
      .sort((a, b) => b.score - a.score)
      .map((t) => t.id);
  };
}
