import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function summarise(name, samplesNs, batch) {
  const perOp = samplesNs.map((s) => s / batch);
  const total = samplesNs.reduce((a, b) => a + b, 0);
  const ops = samplesNs.length * batch;
  return {
    name,
    ops,
    opsPerSec: ops / (total / 1e9),
    meanNs: total / ops,
    p50Ns: percentile(perOp, 50),
    p99Ns: percentile(perOp, 99),
  };
}

export function measure(name, fn, { batch = 1, samples = 2000, warmup = 1000 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const out = new Array(samples);
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    out[s] = Number(process.hrtime.bigint() - t0);
  }
  return summarise(name, out, batch);
}

export async function measureAsync(name, fn, { batch = 1, samples = 2000, warmup = 1000 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const out = new Array(samples);
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    out[s] = Number(process.hrtime.bigint() - t0);
  }
  return summarise(name, out, batch);
}

export function formatNs(ns) {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function writeReport(report) {
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.package.replace(/[@/]/g, '_')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const lines = report.rows.map((r) => {
    const base = r.baseline ? ` | baseline ${r.baseline.name}: ${r.baseline.value}` : '';
    const ratio = r.ratio === undefined ? '' : ` | ratio ${r.ratio.toFixed(2)}×`;
    const goal = r.goal ? ` | goal ${r.goal}: ${r.met ? 'met' : 'MISSED'}` : '';
    return `  ${r.name}: ${r.value} ${r.unit}${base}${ratio}${goal}`;
  });
  console.log(`\n${report.package} (issue #${report.issue})\n${lines.join('\n')}`);
  for (const n of report.notes ?? []) console.log(`  note: ${n}`);
}
