// The labelled corpus (corpus/*.json, and the frozen holdout in corpus/holdout/) and its scoring, shared by
// `pnpm bench` and the regression test.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanCheck, ScanVerdict, ToolScanResult, UpstreamTool } from '@mcpproxy/contracts';
import { createScanContext, type ServerTools, scanTool } from '../src/index.js';

export type EntryClass = 'malicious' | 'benign' | 'hard_negative';

/** One labelled tool definition. */
export interface CorpusEntry {
  id: string;
  class: EntryClass;
  server: string;
  tool: UpstreamTool;
  expect: { verdict: ScanVerdict; checks: ScanCheck[] };
  /** Where the definition comes from: a published package, or the attack write-up it follows. */
  source: string;
  /** Other servers' tools the entry is scanned beside (for shadowing). */
  context?: ServerTools[];
}

export type Split = 'tuning' | 'holdout';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'corpus');
const FILES = ['malicious', 'benign', 'hard-negatives'];

/** Entries of one split: `tuning` (corpus/*.json) or `holdout` (corpus/holdout/*.json, never tuned on). */
export function loadCorpus(split: Split): CorpusEntry[] {
  const base = split === 'holdout' ? join(dir, 'holdout') : dir;
  return FILES.flatMap((f) => JSON.parse(readFileSync(join(base, `${f}.json`), 'utf8')) as CorpusEntry[]);
}

const RANK: Record<ScanVerdict, number> = { clean: 0, review: 1, block: 2 };

export interface EntryOutcome {
  entry: CorpusEntry;
  result: ToolScanResult;
  /** Malicious: flagged at least as the label says. Others: verdict within the label. */
  ok: boolean;
}

/** Scans every entry beside the benign servers of its split (as a gateway would) plus the entry's own context. */
export function runCorpus(entries: readonly CorpusEntry[]): EntryOutcome[] {
  const benignServers = new Map<string, UpstreamTool[]>();
  for (const e of entries) {
    if (e.class !== 'benign') continue;
    const list = benignServers.get(e.server) ?? [];
    list.push(e.tool);
    benignServers.set(e.server, list);
  }
  const shared = [...benignServers].map(([server, tools]) => ({ server, tools }));
  const sharedContext = createScanContext(shared);
  return entries.map((entry) => {
    const context = entry.context
      ? createScanContext([...shared, ...entry.context, { server: entry.server, tools: [entry.tool] }])
      : sharedContext;
    const result = scanTool(entry.tool, { server: entry.server, context });
    const ok =
      entry.class === 'malicious'
        ? RANK[result.verdict] >= RANK[entry.expect.verdict]
        : RANK[result.verdict] <= RANK[entry.expect.verdict];
    return { entry, result, ok };
  });
}

export interface CheckFigures {
  /** Malicious entries labelled with this check. */
  labelled: number;
  /** …of which this check fired on. */
  caught: number;
  /** Hard negatives and benign tools this check fired on, and of those with a hard finding. */
  falseAlarms: number;
  falseBlocks: number;
}

export interface CorpusFigures {
  malicious: number;
  benign: number;
  hardNegatives: number;
  /** Malicious entries flagged at least as labelled. */
  recall: number;
  /** Hard negatives blocked (a hard finding). */
  hardNegativeFpr: number;
  /** Hard negatives marked for review or blocked. */
  hardNegativeFlagRate: number;
  /** Benign tools with any finding. */
  benignFpr: number;
  perCheck: Record<string, CheckFigures>;
  misses: string[];
  falsePositives: string[];
}

const CHECKS: readonly ScanCheck[] = [
  'hidden_unicode',
  'encoded_payload',
  'directive',
  'shadowing',
  'capability_mismatch',
  'embedded_secret',
];

/** Recall, false-positive rates and per-check figures of one run. */
export function score(outcomes: readonly EntryOutcome[]): CorpusFigures {
  const mal = outcomes.filter((o) => o.entry.class === 'malicious');
  const hn = outcomes.filter((o) => o.entry.class === 'hard_negative');
  const ben = outcomes.filter((o) => o.entry.class === 'benign');
  const perCheck: Record<string, CheckFigures> = {};
  for (const c of CHECKS) {
    const labelled = mal.filter((o) => o.entry.expect.checks.includes(c));
    const negatives = [...hn, ...ben];
    perCheck[c] = {
      labelled: labelled.length,
      caught: labelled.filter((o) => o.result.findings.some((f) => f.check === c)).length,
      falseAlarms: negatives.filter((o) => o.result.findings.some((f) => f.check === c)).length,
      falseBlocks: negatives.filter((o) => o.result.findings.some((f) => f.check === c && f.tier === 'hard')).length,
    };
  }
  const ratio = (n: number, d: number) => (d === 0 ? 0 : n / d);
  return {
    malicious: mal.length,
    benign: ben.length,
    hardNegatives: hn.length,
    recall: ratio(mal.filter((o) => o.ok).length, mal.length),
    hardNegativeFpr: ratio(hn.filter((o) => o.result.verdict === 'block').length, hn.length),
    hardNegativeFlagRate: ratio(hn.filter((o) => o.result.verdict !== 'clean').length, hn.length),
    benignFpr: ratio(ben.filter((o) => o.result.verdict !== 'clean').length, ben.length),
    perCheck,
    misses: mal.filter((o) => !o.ok).map((o) => `${o.entry.id} (${o.result.verdict})`),
    falsePositives: [...hn, ...ben]
      .filter((o) => o.result.verdict !== 'clean')
      .map((o) => `${o.entry.id} (${o.result.verdict}: ${o.result.findings.map((f) => f.check).join(', ')})`),
  };
}
