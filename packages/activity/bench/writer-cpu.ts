// Writer-thread CPU per recorded call at steady, realistic rates, beside a same-run baseline with the settings this
// package had before (one batch of 100 a transaction, FTS automerge 4, SQLite's default 1,000-page WAL checkpoint). The thread's own CPU comes from
// /proc/self/task/<tid>/schedstat (ns on CPU), so the main thread and other processes on the machine do not count.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';
import { type ActivityLog, createActivityLog, type ToolCallEntry } from '../src/index.js';
import { TX_BATCHES } from '../src/log.js';
import { WRITER_PRAGMAS } from '../src/writer.js';

/** A small tool call: ~100 B of arguments, ~200 B of result, a few servers, tools and sessions. */
export const smallCall = (i: number): ToolCallEntry => ({
  server: `server-${i % 6}`,
  tool: `tool_${(i * 7) % 24}`,
  surface: 'mcp',
  status: i % 25 === 0 ? 'error' : 'ok',
  duration_ms: (i * 7919) % 300,
  session: `session-${i % 4}`,
  client: { name: 'claude-code', version: '2.1.0' },
  arguments: { path: `/home/user/project/src/file-${i % 400}.ts`, pattern: 'TODO', max_results: 20 },
  result: `Found ${i % 13} matches in file-${i % 400}.ts: line ${i % 700} TODO fix the ${
    ['parser', 'cache', 'index', 'router'][i % 4]
  } before the release; see notes.md and the issue tracker for the plan and the open questions.`,
  ...(i % 25 === 0 ? { error: { code: 'UPSTREAM_TIMEOUT', message: 'upstream did not answer in 120 s' } } : {}),
});

const tasks = (): Set<string> => new Set(readdirSync('/proc/self/task'));
const threadNs = (tids: string[]): number =>
  tids.reduce((n, t) => n + Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]), 0);

export const canMeasureThreads = (): boolean => {
  try {
    return threadNs([String(process.pid)]) > 0;
  } catch {
    return false;
  }
};

/** Opens a log and returns it with the ids of the threads it started (the writer thread). */
function openMeasured(dir: string, baseline: boolean, flushInterval?: number): { log: ActivityLog; tids: string[] } {
  const before = tasks();
  const saved = baseline ? WRITER_PRAGMAS.splice(0) : [];
  const txMax = TX_BATCHES.max;
  if (baseline) TX_BATCHES.max = 1;
  let log: ActivityLog;
  try {
    log = createActivityLog({ dir, retention: 3650 * 86_400_000, ...(flushInterval ? { flushInterval } : {}) });
  } finally {
    WRITER_PRAGMAS.push(...saved);
    TX_BATCHES.max = txMax;
  }
  const tids = [...tasks()].filter((t) => !before.has(t));
  if (baseline) {
    // Back to FTS5's default merge setting; the writer's connection rereads the FTS config when it changes.
    const db = new Database(join(dir, 'activity.db'));
    db.exec("INSERT INTO activity_fts(activity_fts, rank) VALUES ('automerge', 4)");
    db.close();
  }
  return { log, tids };
}

/**
 * Fills `prefill` records in bulk (so indexes have a realistic depth), then records small calls at `rate` per
 * second for `seconds`, paced by a 10 ms timer like calls arriving, and returns the writer thread's CPU per record.
 */
export async function writerCpu(
  dir: string,
  opts: { baseline: boolean; rate: number; seconds: number; prefill: number; flushInterval?: number },
): Promise<{ nsPerRecord: number; records: number; dropped: number }> {
  const { log, tids } = openMeasured(dir, opts.baseline, opts.flushInterval);
  const T0 = Date.now() - opts.prefill * 20;
  for (let i = 0; i < opts.prefill; i++) {
    log.record({ ...smallCall(i), time: T0 + i * 20 });
    if ((i + 1) % 5000 === 0) await log.flush();
  }
  await log.flush();
  const total = opts.rate * opts.seconds;
  const cpu0 = threadNs(tids);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(Math.floor(((performance.now() - start) / 1000) * opts.rate), total);
      while (sent < due) log.record(smallCall(opts.prefill + sent++));
      if (sent >= total) resolve();
      else setTimeout(tick, 10);
    };
    tick();
  });
  await log.flush();
  const ns = threadNs(tids) - cpu0;
  const { dropped } = log.metrics();
  await log.close();
  return { nsPerRecord: ns / total, records: total, dropped };
}
