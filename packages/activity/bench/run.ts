// Benchmarks of issue #14 (the activity log). Run with `pnpm bench`; figures land in bench-results/.
//  1. CPU of record() on the call path, beside a no-op recorder in the same run;
//  2. sustained 2,000 records/s (ACTIVITY_BENCH_SECONDS, default 20 s; the issue asks 60 s) with nothing dropped,
//     and the whole CPU it costs the process (writer included) against the same load with a no-op recorder;
//  3. filtered page queries over 1,000,000 records (p50/p99), and database bytes per record;
//  4. the writer thread's own CPU per record at 150 and 600 small calls/s, beside the previous settings (issue #15).
// ACTIVITY_BENCH_PARTS=record,sustained,queries,writer picks parts (default: all), for iterating on one.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type BenchRow, formatNs, measure, percentile, writeReport } from '@mcpproxy/bench-kit';
import { type ActivityLog, type ActivityQueryInput, createActivityLog, type ToolCallEntry } from '../src/index.js';
import { canMeasureThreads, writerCpu } from './writer-cpu.js';

const SECONDS = Number(process.env.ACTIVITY_BENCH_SECONDS ?? 20);
const RATE = 2000;
const BIG_N = Number(process.env.ACTIVITY_BENCH_RECORDS ?? 1_000_000);
const QUERY_RUNS = 300;
const RECORD_GOAL_NS = 20_000;
const QUERY_GOAL_NS = 20_000_000;
const WRITER_SECONDS = Number(process.env.ACTIVITY_BENCH_WRITER_SECONDS ?? 15);
const PARTS = new Set((process.env.ACTIVITY_BENCH_PARTS ?? 'record,sustained,queries,writer').split(','));

const rows: BenchRow[] = [];
const notes: string[] = [];
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mcpproxy-activity-bench-'));
  dirs.push(d);
  return d;
};
const dirBytes = (d: string) => readdirSync(d).reduce((n, f) => n + statSync(join(d, f)).size, 0);

const RESULT_1K = `${'Found 12 matching files under /home/user/project/src. '.repeat(19)}done.`;
/** A realistic call: ~120 B of arguments, ~1 KB of result text. */
const realistic = (i: number): ToolCallEntry => ({
  server: `server-${i % 20}`,
  tool: `tool_${i % 50}`,
  surface: 'mcp',
  status: i % 20 === 0 ? 'error' : 'ok',
  duration_ms: (i * 7919) % 500,
  session: `session-${i % 100}`,
  client: { name: 'claude-code', version: '2.1.0' },
  arguments: { path: `/home/user/project/src/file-${i}.ts`, pattern: 'TODO', max_results: 50 },
  result: RESULT_1K,
  ...(i % 20 === 0 ? { error: { code: 'UPSTREAM_TIMEOUT', message: 'upstream did not answer in 120 s' } } : {}),
});

// --- 1. record() on the call path ---------------------------------------------------------------------------------
if (PARTS.has('record')) {
  const entries = Array.from({ length: 1024 }, (_, i) => realistic(i));
  let k = 0;
  const noop = { record(_e: ToolCallEntry) {} };
  const base = measure('no-op recorder', () => noop.record(entries[k++ & 1023] as ToolCallEntry), {
    samples: 5000,
    batch: 20,
    warmup: 20_000,
  });
  // A queue large enough that the timed loop (which never yields, so no batch is written) does not overflow.
  const log = createActivityLog({ dir: tmp(), queueSize: 200_000, batchSize: 500 });
  const timing = measure('record()', () => log.record(entries[k++ & 1023] as ToolCallEntry), {
    samples: 5000,
    batch: 20,
    warmup: 20_000,
  });
  const { dropped } = log.metrics();
  await log.close();
  rows.push({
    name: 'record(): CPU on the call path per call, mean (queue push only)',
    value: formatNs(timing.meanNs),
    unit: '',
    baseline: { name: 'no-op recorder', value: formatNs(base.meanNs) },
    goal: '≤ 20 µs',
    met: timing.meanNs <= RECORD_GOAL_NS,
  });
  rows.push({ name: 'record(): p99 of 20-call samples, per call', value: formatNs(timing.p99Ns), unit: '' });
  if (dropped !== 0) throw new Error(`record() bench dropped ${dropped}`);
}

// --- 2. sustained load ---------------------------------------------------------------------------------------------
interface Sustained {
  records: number;
  cpuUs: number;
  /** Main-thread busy time (event-loop utilisation), ms. */
  mainMs: number;
  loopP99Ms: number;
  dropped: number;
  maxQueued: number;
  bytes: number;
}
async function sustained(log: ActivityLog | undefined, seconds: number): Promise<Sustained> {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  const noop = { record(_e: ToolCallEntry) {}, metrics: () => ({ queued: 0 }) };
  const target = log ?? noop;
  let sent = 0;
  let maxQueued = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  delay.enable();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed / 1000) * RATE), seconds * RATE);
      while (sent < due) target.record(realistic(sent++));
      maxQueued = Math.max(maxQueued, target.metrics().queued);
      if (sent >= seconds * RATE) resolve();
      else setTimeout(tick, 10);
    };
    tick();
  });
  await log?.flush();
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  return {
    records: sent,
    cpuUs: cpu.user + cpu.system,
    mainMs: elu.active,
    loopP99Ms: delay.percentile(99) / 1e6,
    dropped: log?.metrics().dropped ?? 0,
    maxQueued,
    bytes: 0,
  };
}
if (PARTS.has('sustained')) {
  const bare = await sustained(undefined, SECONDS);
  const dir = tmp();
  const log = createActivityLog({ dir });
  const real = await sustained(log, SECONDS);
  const written = log.metrics().written;
  await log.close();
  const addedNs = ((real.cpuUs - bare.cpuUs) * 1000) / real.records;
  const mainNs = ((real.mainMs - bare.mainMs) * 1e6) / real.records;
  rows.push({
    name: `sustained ${RATE.toLocaleString('en')} records/s for ${SECONDS} s: records dropped`,
    value: real.dropped,
    unit: `of ${real.records.toLocaleString('en')} (written ${written.toLocaleString('en')}, max queued ${real.maxQueued})`,
    goal: '0 dropped',
    met: real.dropped === 0 && written === real.records,
  });
  rows.push({
    name: 'sustained: main-thread time added per recorded call (record + mask + serialise + hand-off)',
    value: formatNs(mainNs),
    unit: '',
    baseline: { name: 'same load, no-op recorder (per call)', value: formatNs((bare.mainMs * 1e6) / bare.records) },
    goal: '≤ 20 µs',
    met: mainNs <= RECORD_GOAL_NS,
  });
  rows.push({
    name: 'sustained: whole-process CPU added per recorded call (writer thread: SQLite, 7 indexes, full text)',
    value: formatNs(addedNs),
    unit: '',
    baseline: { name: 'same load, no-op recorder (CPU per call)', value: formatNs((bare.cpuUs * 1000) / bare.records) },
  });
  rows.push({
    name: 'sustained: event-loop delay p99 while batches are written',
    value: real.loopP99Ms.toFixed(1),
    unit: 'ms',
    baseline: { name: 'no-op recorder', value: `${bare.loopP99Ms.toFixed(1)} ms` },
  });
  rows.push({
    name: 'database bytes per record, ~120 B arguments + ~1 KB result (db + WAL)',
    value: Math.round(dirBytes(dir) / written),
    unit: 'B',
  });
}

// --- 3. queries over 1,000,000 records -------------------------------------------------------------------------------
if (PARTS.has('queries')) {
  const dir = tmp();
  const T0 = Date.UTC(2026, 10, 1);
  const log = createActivityLog({
    dir,
    batchSize: 5000,
    queueSize: 10_000,
    maxSize: 8 * 1024 ** 3,
    retention: 3650 * 86_400_000,
  });
  const fill0 = performance.now();
  for (let i = 0; i < BIG_N; i++) {
    log.record({
      server: `server-${i % 20}`,
      tool: `tool_${(i * 31) % 50}`,
      surface: 'mcp_all',
      status: i % 37 === 0 ? 'error' : i % 101 === 0 ? 'timeout' : 'ok',
      duration_ms: (i * 7919) % 1000,
      session: `session-${i % 500}`,
      client: { name: `client-${i % 5}`, version: '1.0' },
      arguments: { n: i, word: `w${i % 1000}` },
      result: 'ok: 3 items',
      time: T0 + i * 3,
    });
    if ((i + 1) % 5000 === 0) await log.flush();
  }
  await log.flush();
  const fillS = (performance.now() - fill0) / 1000;
  // What the background pass does every minute: prune (nothing here) and refresh the planner's statistics.
  await log.prune();
  rows.push({
    name: `bulk fill of ${BIG_N.toLocaleString('en')} small records (batches of 5,000)`,
    value: Math.round(BIG_N / fillS).toLocaleString('en'),
    unit: 'records/s',
  });
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const end = T0 + BIG_N * 3;
  const shapes: Array<[string, () => ActivityQueryInput]> = [
    ['server, first page of 50', () => ({ server: `server-${rnd(20)}` })],
    ['server + status=error', () => ({ server: `server-${rnd(20)}`, status: 'error' })],
    ['tool + since (last 10 min)', () => ({ tool: `tool_${rnd(50)}`, since: end - 600_000 })],
    [
      'session + client',
      () => {
        const s = rnd(500);
        return { session: `session-${s}`, client: `client-${s % 5}` };
      },
    ],
    ['status=timeout + until (first half)', () => ({ status: 'timeout', until: T0 + BIG_N * 1.5 })],
    ['q (full text, 1,000 matches)', () => ({ q: `w${rnd(1000)}` })],
    ['q (a word in every record) + server', () => ({ q: 'items', server: `server-${rnd(20)}` })],
    [
      'server, a page deep in the middle (cursor)',
      () => {
        const server = `server-${rnd(20)}`;
        return { server, cursor: cursorAt(log, server, T0 + 3 * (1000 + rnd(BIG_N - 2000))) };
      },
    ],
  ];
  const figures: Array<[string, number, number, number]> = [];
  for (const [name, make] of shapes) {
    const times: number[] = [];
    const cpuTimes: number[] = [];
    for (let r = 0; r < QUERY_RUNS + 20; r++) {
      const q = make();
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const page = log.list(q);
      const ns = Number(process.hrtime.bigint() - t0);
      const c = process.cpuUsage(c0);
      if (r >= 20) {
        // first 20 warm the page cache
        times.push(ns);
        cpuTimes.push((c.user + c.system) * 1000);
      }
      if (page.records.length === 0 && !q.cursor) throw new Error(`no rows for ${name}`);
    }
    figures.push([name, percentile(times, 50), percentile(times, 99), percentile(cpuTimes, 99)]);
  }
  for (const [name, p50, p99, cpu99] of figures) {
    rows.push({
      name: `list() over ${BIG_N.toLocaleString('en')} records, ${name}: p99 (wall)`,
      value: formatNs(p99),
      unit: `(p50 ${formatNs(p50)}; CPU p99 ${formatNs(cpu99)})`,
      goal: 'p99 ≤ 20 ms',
      met: p99 <= QUERY_GOAL_NS,
    });
  }
  const s0 = process.hrtime.bigint();
  const stats = await log.stats({ groupBy: 'server', window: '5m', bucket: '1m', until: end });
  rows.push({
    name: `stats() by server, 5 min window (${stats.groups.reduce((n, g) => n + g.calls, 0).toLocaleString('en')} calls), 1 min buckets`,
    value: formatNs(Number(process.hrtime.bigint() - s0)),
    unit: '',
  });
  await log.close();
  rows.push({
    name: `database bytes per record at ${BIG_N.toLocaleString('en')} small records (7 indexes + full text)`,
    value: Math.round(dirBytes(dir) / BIG_N),
    unit: 'B',
  });
}

// --- 4. writer-thread CPU per record ----------------------------------------------------------------------------------
if (PARTS.has('writer') && canMeasureThreads()) {
  const prefill = Math.min(BIG_N, 20_000);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Baseline and current alternate, twice each, so drift in the machine's load falls on both.
  const compare = async (rate: number, label: string, flushInterval?: number) => {
    const runs = { baseline: [] as number[], current: [] as number[] };
    for (let rep = 0; rep < 2; rep++) {
      for (const baseline of [true, false]) {
        const r = await writerCpu(tmp(), { baseline, rate, seconds: WRITER_SECONDS, prefill, flushInterval });
        if (r.dropped !== 0) throw new Error(`writer bench dropped ${r.dropped}`);
        (baseline ? runs.baseline : runs.current).push(r.nsPerRecord);
      }
    }
    const cur = mean(runs.current);
    const base = mean(runs.baseline);
    rows.push({
      name: `writer thread CPU per recorded call, small calls at ${rate.toLocaleString('en')}/s${label} (${(rate * WRITER_SECONDS).toLocaleString('en')} records after ${prefill.toLocaleString('en')}, 2 runs each)`,
      value: formatNs(cur),
      unit: `(${(cur / base).toFixed(2)}× baseline; runs ${runs.current.map(formatNs).join(', ')})`,
      baseline: {
        name: 'previous: one batch of 100 a transaction, FTS automerge 4, 1,000-page WAL checkpoint',
        value: `${formatNs(base)} (runs ${runs.baseline.map(formatNs).join(', ')})`,
      },
    });
  };
  for (const rate of [150, 600, 2000]) await compare(rate, '');
  await compare(150, ', flushInterval 1000 ms (not the default)', 1000);
  notes.push(
    "Writer thread CPU: the thread's own time on CPU (/proc/self/task/<tid>/schedstat), so the main thread and the " +
      'rest of the machine do not count. Records arrive paced by a 10 ms timer with the default batchSize (100) and ' +
      'flushInterval (200 ms): at 150/s a transaction holds about 30 records either way; at 600/s the previous ' +
      'code committed each batch of 100 as it filled, the current one about 120 a transaction; at 2,000/s 100 ' +
      'against up to 400 (one transaction per interval).',
  );
}

/** A real cursor from the middle of the log: the next_cursor of a one-row page ending at a random time. */
function cursorAt(log: ActivityLog, server: string, until: number): string {
  const cursor = log.list({ server, until, limit: 1 }).next_cursor;
  if (!cursor) throw new Error('no cursor in the middle of the log');
  return cursor;
}

notes.push(
  `Sustained run: ${SECONDS} s at ${RATE} records/s (set ACTIVITY_BENCH_SECONDS=60 for the issue's full minute); ` +
    'the no-op run applies the same load generator, so the CPU difference is what recording adds to the process.',
  'record() only pushes a reference to a bounded ring buffer; masking, truncation and JSON run on the main thread on ' +
    'later turns, and SQLite in the writer thread. The main-thread row (event-loop utilisation) is what the calls ' +
    'share; the whole-process CPU row adds the writer thread, which runs on another core.',
  'Machine shared with other builds while measuring (load average above 10 on 2 cores): absolute figures vary run ' +
    'to run, and a wall-clock p99 includes the times a query was descheduled; the CPU p99 beside it is the ' +
    "query's own cost. Ratios within a run hold.",
);
writeReport({ package: '@mcpproxy/activity', issue: 14, rows, notes });
for (const d of dirs) rmSync(d, { recursive: true, force: true });
