// Gathers every package's bench-results/*.json (written by `pnpm bench`) into BENCHMARKS.md.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'bench-results');
const FUZZ_START_MARK = '<!-- fuzz:start -->';
const reports = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({
        ...JSON.parse(readFileSync(join(dir, f), 'utf8')),
        measured: statSync(join(dir, f)).mtime.toISOString(),
      }))
  : [];
const target = join(root, 'BENCHMARKS.md');
const previous = existsSync(target) ? readFileSync(target, 'utf8') : '';

// bench-results/ lives on the machine that ran the benches (it is not committed). A package whose results are not
// here keeps the section the last report wrote for it, word for word, so running one package's bench and then this
// script updates that package's section only.
const SECTION = /^## (\S+) \(issue #(\d+)\)$/;
const previousSections = new Map();
{
  const body = previous.includes(FUZZ_START_MARK) ? previous.slice(0, previous.indexOf(FUZZ_START_MARK)) : previous;
  let current;
  for (const line of body.split('\n')) {
    const m = SECTION.exec(line);
    if (m) {
      current = { package: m[1], issue: Number(m[2]), lines: [] };
      previousSections.set(m[1], current);
    }
    if (current) current.lines.push(line);
  }
  // A section written before sections carried their own date was measured on the day of that report.
  const previousDate = /^- date: (\S+)$/m.exec(previous)?.[1];
  for (const sec of previousSections.values()) {
    while (sec.lines.length > 0 && sec.lines[sec.lines.length - 1].trim() === '') sec.lines.pop();
    if (previousDate && !sec.lines.some((l) => l.startsWith('Measured '))) {
      sec.lines.splice(1, 0, '', `Measured ${previousDate}.`);
    }
  }
}
const fresh = new Set(reports.map((r) => r.package));
const sections = [
  ...reports,
  ...[...previousSections.values()].filter((sec) => !fresh.has(sec.package)).map((sec) => ({ ...sec, kept: true })),
].sort((a, b) => a.issue - b.issue || a.package.localeCompare(b.package));

const cell = (v) => String(v ?? '').replace(/\|/g, '\\|');
const out = [
  '# Benchmarks',
  '',
  'Written by `pnpm bench`; do not edit by hand. Each figure stands beside the baseline measured in the same run',
  'and the goal from its issue. Ratios are ours / baseline cost (lower is better) unless the row says otherwise.',
  '',
  `- date: ${new Date().toISOString()}`,
  `- machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  `- node: ${process.version} (${process.platform}-${process.arch})`,
  '',
];
for (const r of sections) {
  if (r.kept) {
    out.push(...r.lines, '');
    continue;
  }
  out.push(`## ${r.package} (issue #${r.issue})`, '', `Measured ${r.measured}.`, '');
  out.push('| measure | value | baseline (same run) | ratio | goal | met |', '|---|---|---|---|---|---|');
  for (const row of r.rows) {
    const base = row.baseline ? `${row.baseline.name}: ${row.baseline.value}` : '—';
    const ratio = row.ratio === undefined ? '—' : `${row.ratio.toFixed(2)}×`;
    const met = row.met === undefined ? '—' : row.met ? 'yes' : '**no**';
    out.push(
      `| ${cell(row.name)} | ${cell(row.value)} ${cell(row.unit)} | ${cell(base)} | ${ratio} | ${cell(row.goal ?? '—')} | ${met} |`,
    );
  }
  for (const n of r.notes ?? []) out.push('', `- ${n}`);
  out.push('');
}

// ---------------------------------------------------------------- fuzz and chaos (issue #16)
// `pnpm fuzz` and the chaos test write bench-results/fuzz/*.json. The section sits between markers so that
// `--section=fuzz` rewrites only it, and a `pnpm bench` run without fuzz results keeps the section it finds.
const FUZZ_START = FUZZ_START_MARK;
const FUZZ_END = '<!-- fuzz:end -->';
const fuzzDir = join(dir, 'fuzz');
const fuzzReports = existsSync(fuzzDir)
  ? readdirSync(fuzzDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(fuzzDir, f), 'utf8')))
  : [];
const outcomeText = (outcomes, limit = 8) =>
  Object.entries(outcomes ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
/** Chaos outcomes are keyed "surface outcome"; summed by outcome over every surface. */
const byCode = (outcomes) => {
  const sums = {};
  for (const [key, n] of Object.entries(outcomes ?? {})) {
    const code = key.slice(key.indexOf(' ') + 1);
    sums[code] = (sums[code] ?? 0) + n;
  }
  return sums;
};
function fuzzSection() {
  const lines = [FUZZ_START, '## Fuzz and chaos (issue #16)', ''];
  for (const r of fuzzReports) {
    if (r.kind === 'fuzz') {
      lines.push(
        `Long fuzz run (\`pnpm fuzz\`), ${r.date}: ${r.totals.inputs} inputs, ${r.totals.failures} failures in ` +
          `${Math.round(r.durationS)} s, seed ${r.seed} (replay with \`FUZZ_SEED=${r.seed}\`).`,
        '',
        '| target | inputs | failures | outcomes seen (most frequent) |',
        '|---|---|---|---|',
      );
      for (const [name, t] of Object.entries(r.targets)) {
        lines.push(`| ${cell(name)} | ${t.inputs} | ${t.failures} | ${cell(outcomeText(t.outcomes))} |`);
      }
      for (const [name, t] of Object.entries(r.targets)) {
        for (const e of t.examples ?? []) lines.push('', `- failure in ${name}: ${cell(e.replace(/\s+/g, ' '))}`);
      }
      lines.push('');
    } else if (r.kind === 'chaos') {
      lines.push(
        `Chaos test (\`apps/server/test/chaos.test.ts\`), ${r.date}: ${r.upstreams} stdio upstreams, ` +
          `${r.kills} SIGKILLs and ${r.stops} SIGSTOP/SIGCONT pauses while calls ran on every surface.`,
        '',
        '| measure | value |',
        '|---|---|',
        `| calls made | ${r.calls} |`,
        `| outcomes by code (all surfaces) | ${cell(outcomeText(byCode(r.outcomes), Infinity))} |`,
        `| outcomes by surface and code | ${cell(outcomeText(r.outcomes, Infinity))} |`,
        `| longest wait | ${r.longestWaitMs} ms (deadline ${r.deadlineMs} ms + margin ${r.marginMs} ms) |`,
        `| every server back to ready | ${r.allReady ? 'yes' : '**no**'} |`,
        `| orphan processes after stop | ${r.orphans} |`,
        `| most processes of one upstream at once | ${r.mostProcessesPerUpstream ?? '—'} |`,
        `| heap after GC: baseline → after | ${r.heapBaselineMb} MB → ${r.heapAfterMb} MB |`,
        '',
      );
    }
  }
  lines.push(FUZZ_END);
  return lines.join('\n');
}
const kept = previous.includes(FUZZ_START)
  ? previous.slice(previous.indexOf(FUZZ_START), previous.indexOf(FUZZ_END) + FUZZ_END.length)
  : '';
const section = fuzzReports.length > 0 ? fuzzSection() : kept;

if (process.argv.includes('--section=fuzz')) {
  const next = previous.includes(FUZZ_START)
    ? previous.replace(kept, section)
    : `${previous.trimEnd()}\n\n${section}\n`;
  writeFileSync(target, next);
  console.log(`BENCHMARKS.md: fuzz section written from ${fuzzReports.length} report(s)`);
} else {
  if (section) out.push(section, '');
  writeFileSync(target, `${out.join('\n')}\n`);
  const keptNames = sections.filter((r) => r.kept).map((r) => r.package);
  console.log(
    `BENCHMARKS.md written from ${reports.length} report(s)` +
      (keptNames.length > 0 ? `; kept the previous sections of ${keptNames.join(', ')}` : ''),
  );
}
