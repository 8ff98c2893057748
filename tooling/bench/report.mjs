// Gathers every package's bench-results/*.json (written by `pnpm bench`) into BENCHMARKS.md.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'bench-results');
const reports = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
      .sort((a, b) => a.issue - b.issue || a.package.localeCompare(b.package))
  : [];

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
for (const r of reports) {
  out.push(`## ${r.package} (issue #${r.issue})`, '');
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
writeFileSync(join(root, 'BENCHMARKS.md'), `${out.join('\n')}\n`);
console.log(`BENCHMARKS.md written from ${reports.length} report(s)`);
