// `pnpm bench`: detection quality on the labelled corpus (the tuning part and the frozen holdout, each reported),
// per check, beside a keyword-list baseline measured in the same run; and the time to scan 10,000 tools.
import { cpus } from 'node:os';
import { type BenchRow, writeReport } from '@mcpproxy/bench-kit';
import type { UpstreamTool } from '@mcpproxy/contracts';
import { createScanContext, type ScanContext, scanServer, scanTool } from '../src/index.js';
import { loadBaseline, type ScannerApi } from './baseline.js';
import { type CorpusEntry, type CorpusFigures, loadCorpus, runCorpus, score } from './corpus.js';
import { keywordFlags } from './keyword-baseline.js';

const rows: BenchRow[] = [];
const notes: string[] = [];
const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const tuning = loadCorpus('tuning');
const holdout = loadCorpus('holdout');
const full = [...tuning, ...holdout];

function baseline(entries: readonly CorpusEntry[]) {
  const of = (c: string) => entries.filter((e) => e.class === c);
  const rate = (es: CorpusEntry[]) => (es.length === 0 ? 0 : es.filter((e) => keywordFlags(e.tool)).length / es.length);
  return { recall: rate(of('malicious')), hardNegative: rate(of('hard_negative')), benign: rate(of('benign')) };
}

function quality(label: string, entries: readonly CorpusEntry[]): CorpusFigures {
  const s = score(runCorpus(entries));
  const b = baseline(entries);
  const counts = `${s.malicious} malicious, ${s.hardNegatives} hard negatives, ${s.benign} benign`;
  rows.push(
    {
      name: `${label}: recall on malicious tools (${counts}; ratio: higher is better)`,
      value: f3(s.recall),
      unit: '',
      baseline: { name: 'keyword list', value: f3(b.recall) },
      ratio: b.recall === 0 ? undefined : s.recall / b.recall,
      goal: '≥ 0.95',
      met: s.recall >= 0.95,
    },
    {
      name: `${label}: false positives on hard negatives (blocked)`,
      value: pct(s.hardNegativeFpr),
      unit: '',
      baseline: { name: 'keyword list (flagged)', value: pct(b.hardNegative) },
      goal: '≤ 3%',
      met: s.hardNegativeFpr <= 0.03,
    },
    {
      name: `${label}: hard negatives marked for review or blocked`,
      value: pct(s.hardNegativeFlagRate),
      unit: '',
    },
    {
      name: `${label}: false positives on benign tools of real servers (any finding)`,
      value: pct(s.benignFpr),
      unit: '',
      baseline: { name: 'keyword list (flagged)', value: pct(b.benign) },
      goal: '0%',
      met: s.benignFpr === 0,
    },
  );
  const perCheck = Object.entries(s.perCheck)
    .map(([c, f]) => `${c} ${f.caught}/${f.labelled} caught, ${f.falseAlarms} false alarms (${f.falseBlocks} hard)`)
    .join('; ');
  notes.push(`${label}, per check: ${perCheck}.`);
  notes.push(
    `${label}, misses: ${s.misses.join(', ') || 'none'}; false positives: ${s.falsePositives.join(', ') || 'none'}.`,
  );
  return s;
}

const fullFigures = quality('Full corpus', full);
quality('Holdout (frozen before tuning, never tuned on)', holdout);
quality('Tuning part', tuning);
for (const [check, f] of Object.entries(fullFigures.perCheck)) {
  rows.push({
    name: `Full corpus, ${check}: malicious entries of this check it catches`,
    value: `${f.caught}/${f.labelled}`,
    unit: '',
  });
}

// ---- Speed: 10,000 tools on one server ------------------------------------------------------------------------
// Drawn from the whole corpus in turn (a third malicious, so the slow paths run too), names made unique, the
// server's own context built once as a gateway would. The corpus has 223 definitions, so each text comes back about
// 45 times; the "distinct" set appends a different sentence to every description, so that a cost that only
// repetition hides (a cache, say) would show there.
function toolSet(entries: readonly CorpusEntry[], distinct: boolean): UpstreamTool[] {
  return Array.from({ length: 10_000 }, (_, i) => {
    const e = entries[i % entries.length] as CorpusEntry;
    const tool = { ...e.tool, name: `${e.tool.name}_${i}` };
    if (distinct && typeof tool.description === 'string') tool.description += ` Ref ${i}.`;
    return tool;
  });
}
const tools = toolSet(full, false);
const benignTools = toolSet(
  full.filter((e) => e.class === 'benign'),
  false,
);
const distinctTools = toolSet(full, true);

// SCANNER_BASELINE=<git ref>: the scanner of that commit, timed turn by turn with this one (see baseline.ts).
const current: ScannerApi = { createScanContext, scanServer, scanTool };
const baseRef = process.env.SCANNER_BASELINE;
const base = baseRef ? await loadBaseline(baseRef) : undefined;

interface Times {
  wall: number[];
  cpu: number[];
}

function once(api: ScannerApi, list: UpstreamTool[], context: ScanContext, into: Times): void {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  api.scanServer('big', list, { context });
  into.wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const c = process.cpuUsage(c0);
  into.cpu.push((c.user + c.system) / 1e3);
}

/** Runs of this version and, if loaded, of the baseline, alternating which goes first. */
function time(
  list: UpstreamTool[],
  runs: number,
): { now: Times; before: Times | undefined; ratio: number | undefined } {
  const context = current.createScanContext([{ server: 'big', tools: list }]);
  const baseContext = base?.api.createScanContext([{ server: 'big', tools: list }]);
  current.scanServer('big', list, { context }); // warm-up: JIT and regexp compilation
  if (base && baseContext) base.api.scanServer('big', list, { context: baseContext });
  const now: Times = { wall: [], cpu: [] };
  const before: Times | undefined = base ? { wall: [], cpu: [] } : undefined;
  for (let r = 0; r < runs; r++) {
    if (base && baseContext && before && r % 2 === 1) once(base.api, list, baseContext, before);
    once(current, list, context, now);
    if (base && baseContext && before && r % 2 === 0) once(base.api, list, baseContext, before);
  }
  // Each run against the baseline run next to it: both saw the same load.
  const ratio = before ? median(now.cpu.map((c, i) => c / (before.cpu[i] as number))) : undefined;
  return { now, before, ratio };
}

const wall0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const mixed = time(tools, 9);
const benign = time(benignTools, 9);
const distinct = time(distinctTools, 9);
const kw0 = process.hrtime.bigint();
for (const t of tools) keywordFlags(t);
const kwMs = Number(process.hrtime.bigint() - kw0) / 1e6;
const mixedMs = median(mixed.now.wall);
const previous = (t: ReturnType<typeof time>) =>
  t.before && base
    ? {
        baseline: { name: `previous version ${base.label}`, value: `${median(t.before.cpu).toFixed(1)} ms` },
        ratio: t.ratio,
      }
    : {};
rows.push({
  name: 'scan 10,000 tools on one server (corpus mix, a third malicious), median of 9 after a warm-up',
  value: mixedMs.toFixed(1),
  unit: 'ms',
  baseline: { name: 'keyword list', value: `${kwMs.toFixed(1)} ms` },
  ratio: mixedMs / kwMs,
  goal: '≤ 200 ms',
  met: mixedMs <= 200,
});
rows.push({
  name: 'scan 10,000 tools, CPU time of the same runs (median; ratio: median of run-by-run ratios)',
  value: median(mixed.now.cpu).toFixed(1),
  unit: 'ms',
  ...previous(mixed),
});
rows.push({
  name: 'scan 10,000 benign tools of real servers, median of 9',
  value: median(benign.now.wall).toFixed(1),
  unit: 'ms',
});
rows.push({
  name: 'scan 10,000 benign tools of real servers, CPU time (median)',
  value: median(benign.now.cpu).toFixed(1),
  unit: 'ms',
  ...previous(benign),
});
rows.push({
  name: 'scan 10,000 tools with distinct descriptions (corpus mix), CPU time (median)',
  value: median(distinct.now.cpu).toFixed(1),
  unit: 'ms',
  ...previous(distinct),
});
if (base) {
  // Same results, byte for byte: the corpus with its contexts and the three sets of 10,000 tools.
  const same = (f: (api: ScannerApi) => unknown) => JSON.stringify(f(current)) === JSON.stringify(f(base.api));
  const corpusSame = full.every((e) =>
    same((api) =>
      api.scanTool(e.tool, {
        server: e.server,
        context: e.context ? api.createScanContext([...e.context, { server: e.server, tools: [e.tool] }]) : undefined,
      }),
    ),
  );
  const setsSame = [tools, benignTools, distinctTools].every((list) =>
    same((api) => api.scanServer('big', list, { context: api.createScanContext([{ server: 'big', tools: list }]) })),
  );
  rows.push({
    name: `results identical to the previous version ${base.label} (corpus, and the 30,000 tools above)`,
    value:
      corpusSame && setsSame
        ? 'yes'
        : `no (corpus ${corpusSame ? 'same' : 'differs'}, sets ${setsSame ? 'same' : 'differ'})`,
    unit: '',
  });
  base.dispose();
}
// Pathological single tools: 300,000 characters built to make patterns backtrack or repeat (no full stops, a fence
// that never closes, runs of quotes, tags, zero-width characters, key prefixes…). The scan reads the first 256 Ki.
const N = 300_000;
const adversarial: Record<string, string> = {
  'unclosed fence of orders': `\`\`\`${'ignore previous instructions '.repeat(N / 29)}`,
  'one unclosed quote': `"${'a'.repeat(N)}`,
  'runs of backticks': '`a '.repeat(N / 3),
  'repeated orders without full stops': 'do not not not tell '.repeat(N / 20),
  'hex run': 'ab'.repeat(N / 2),
  'percent run': '%41'.repeat(N / 3),
  'zero-width run': '\u200B'.repeat(N),
  'tag characters': '\u{E0041}'.repeat(N / 2),
  'one long camelCase word': 'aB'.repeat(N / 2),
  'key prefixes': 'sk-'.repeat(N / 3),
  'PEM headers': '-----BEGIN PRIVATE KEY----- '.repeat(N / 28),
};
const worst = Object.entries(adversarial)
  .map(([label, description]) => {
    const t0 = process.hrtime.bigint();
    scanTool({ name: 'x', description, inputSchema: { type: 'object' } });
    return { label, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  })
  .sort((a, b) => b.ms - a.ms);
rows.push({
  name: `worst of ${worst.length} pathological 300,000-character descriptions (${worst[0]?.label})`,
  value: (worst[0]?.ms ?? 0).toFixed(1),
  unit: 'ms',
});

const cpuShare =
  (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e3 / (Number(process.hrtime.bigint() - wall0) / 1e6);
notes.push(
  `Speed runs on one thread of a ${cpus().length}-core machine; the process got ${(cpuShare * 100).toFixed(0)}% of a ` +
    'core over them (CPU time / wall time; well below 100% means other work on the machine inflated the timings).',
  'Keyword-list baseline: one case-insensitive list of 29 attack strings over name, title, description and schema ' +
    'JSON, the approach of gateways that scan today; it catches the plain attacks and flags most security tools.',
);

writeReport({ package: '@mcpproxy/scanner', issue: 13, rows, notes });
