// `pnpm tsx bench/quality.ts`: retrieval quality only, fast, for tuning. Prints the misses of the in-repo set and of
// the dev set, and only the aggregates of the blind dev set and the frozen set (their per-query results are not for
// designing against).
import { createToolIndex, type ToolIndexOptions } from '../src/index.js';
import { loadBlindQueries, loadDev2Queries, loadDevQueries } from './dev.js';
import { evaluate, loadEvalQueries, loadReferenceTools } from './eval.js';
import { evaluateGraded, loadFrozenQueries, loadFrozenTools } from './frozen.js';

const f3 = (x: number) => x.toFixed(3);
function rankerOf(servers: readonly { server: string; tools: never[] | unknown[] }[], options?: ToolIndexOptions) {
  const index = createToolIndex(options);
  for (const s of servers) index.add(s.server, s.tools as never);
  return (query: string) => index.search(query, { limit: 100 }).map((h) => `${h.server}:${h.tool}`);
}
// OPTS='{"verbPenalty":1}' measures a variant: index options as JSON.
const env = process.env.OPTS ? (JSON.parse(process.env.OPTS) as ToolIndexOptions) : undefined;
const old = evaluate(loadEvalQueries(), rankerOf(loadReferenceTools(), env));
console.log(`in-repo: R@1 ${f3(old.recallAt1)} R@5 ${f3(old.recallAt5)} MRR ${f3(old.mrr)}`);
const verbose = process.argv.includes('-v');
if (verbose) for (const m of old.misses) console.log(`  miss ${m.rank} ${m.query} → ${m.top.join(' ')}`);
const tools = loadFrozenTools();
const rank = rankerOf(tools, env);
const dev = loadDevQueries();
const d = evaluateGraded(dev, rank);
console.log(
  `dev (${dev.length}): R@5 ${f3(d.recallAt5)} lenient ${f3(d.lenientRecallAt5)} MRR ${f3(d.mrr)} nDCG@5 ${f3(d.ndcgAt5)}`,
);
if (verbose)
  for (const q of dev) {
    const ranked = rank(q.query);
    const at = ranked.findIndex((id) => q.relevant[id] === 2);
    if (at < 0 || at >= 3) console.log(`  dev ${at < 0 ? '—' : at + 1} ${q.query} → ${ranked.slice(0, 3).join(' ')}`);
  }
const dev2 = loadDev2Queries();
const d2 = evaluateGraded(dev2, rank);
console.log(
  `dev2 (${dev2.length}): R@5 ${f3(d2.recallAt5)} lenient ${f3(d2.lenientRecallAt5)} MRR ${f3(d2.mrr)} nDCG@5 ${f3(d2.ndcgAt5)}`,
);
if (verbose)
  for (const q of dev2) {
    const ranked = rank(q.query);
    const at = ranked.findIndex((id) => q.relevant[id] === 2);
    if (at < 0 || at >= 3) console.log(`  dev2 ${at < 0 ? '—' : at + 1} ${q.query} → ${ranked.slice(0, 3).join(' ')}`);
  }
const blind = loadBlindQueries();
const bl = evaluateGraded(blind, rank);
console.log(
  `blind (${blind.length}): R@5 ${f3(bl.recallAt5)} lenient ${f3(bl.lenientRecallAt5)} MRR ${f3(bl.mrr)} nDCG@5 ${f3(bl.ndcgAt5)}`,
);
if (process.argv.includes('--frozen')) {
  const fr = evaluateGraded(loadFrozenQueries(), rank);
  console.log(
    `frozen: R@5 ${f3(fr.recallAt5)} lenient ${f3(fr.lenientRecallAt5)} MRR ${f3(fr.mrr)} nDCG@5 ${f3(fr.ndcgAt5)}`,
  );
}
