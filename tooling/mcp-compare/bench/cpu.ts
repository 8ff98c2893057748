/**
 * CPU time of the processes under test, read from `/proc` (Linux): `utime + stime` of `/proc/PID/stat`, the same
 * counters `process.cpuUsage()` reads inside the process, so the bench needs no hook in the servers it measures
 * (mcp-proxy and supergateway have none). Resolution is one clock tick (10 ms); the bench samples around bursts of
 * hundreds of calls, so the tick is well under 1 % of a sample.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/PID/stat` (100 on Linux, asked once). */
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** CPU time (µs, user + system) of one process so far; 0 once it has gone. */
export function cpuOfPid(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it start at the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(rest[11]) + Number(rest[12])) * TICK_US;
}

/** Every live descendant of `pid` (children of all its threads, recursively). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {}
      for (const c of children.split(' ')) {
        if (!c.trim()) continue;
        out.push(Number(c));
        walk(Number(c));
      }
    }
  };
  walk(pid);
  return out;
}

/** The command line of `pid`, arguments joined by spaces; '' once it has gone. */
export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Sum of `cpuOfPid` over `pids`. */
export const cpuOf = (pids: readonly number[]): number => pids.reduce((sum, p) => sum + cpuOfPid(p), 0);
