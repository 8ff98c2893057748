import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output is kept, and which can be waited on and ended with everything it started. */
export interface Child {
  readonly pid: number;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects on timeout or if the child exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves when the child has exited. */
  readonly exited: Promise<Exit>;
  /** Ctrl+C: SIGINT to the child's process group, as a terminal sends it to the foreground job. */
  interrupt(): void;
  /** Kills the child and every process it started, wherever their process group (idempotent). */
  kill(): Promise<void>;
}

/** Spawn options: the folder and the whole environment (nothing is inherited implicitly). */
export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** One row of the process table. */
interface ProcessRow {
  pid: number;
  ppid: number;
  /** The command line, arguments separated by spaces. */
  args: string;
}

/**
 * The process table, read from /proc (slim container images have no `ps`); elsewhere (macOS) from `ps`.
 * Processes that end while it is read are skipped.
 */
function processTable(): ProcessRow[] {
  if (existsSync('/proc/self/stat')) {
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .flatMap((entry) => {
        try {
          // stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split after the last ')'.
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
          return [{ pid: Number(entry), ppid, args }];
        } catch {
          return [];
        }
      });
  }
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .flatMap((line) => {
      const match = /^\s*(\d+)\s+(\d+)\s?(.*)$/.exec(line);
      return match ? [{ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] ?? '' }] : [];
    });
}

/** Every live descendant of `pid` (children, grandchildren…). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const row of processTable()) children.set(row.ppid, [...(children.get(row.ppid) ?? []), row.pid]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Whether `pid` is a running process (a zombie, dead but not yet reaped, counts as gone). */
function isRunning(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once none of `pids` runs, or after `timeoutMs`. SIGKILL takes effect asynchronously and no event says
 * when a process that is not our child is gone, so this checks the process table every 20 ms.
 */
async function gone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts `command` with its own stdin closed and stdout/stderr captured. The child leads its own process group, so
 * `kill()` can also reach grandchildren that left it (stdio upstreams run in process groups of their own).
 */
export function spawnChild(command: string, args: readonly string[], { cwd, env }: SpawnOptions): Child {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const watch of watchers) watch();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const watch of watchers) watch();
  });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      for (const watch of watchers) watch();
      resolve({ code, signal });
    });
  });

  return {
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = (out + err).match(pattern);
          if (match) finish(() => resolve(match));
          else if (done) finish(() => reject(new Error(`exited before printing ${pattern}:\n${out}${err}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${out}${err}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          watchers.delete(check);
          settle();
        };
        watchers.add(check);
        check();
      });
    },
    interrupt() {
      if (!done) killQuietly(-pid, 'SIGINT');
    },
    async kill() {
      if (done) return;
      const family = descendants(pid);
      killQuietly(-pid, 'SIGKILL');
      for (const member of family) killQuietly(member, 'SIGKILL');
      await exited;
      await gone(family, 10_000);
    },
  };
}

/** The result of a program that ran to its end. */
export interface Finished extends Exit {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end. If it is still running after `timeoutMs` (a server, socket or child process left
 * open keeps Node alive), it is killed with everything it started and the promise rejects with its output.
 */
export async function runToEnd(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<Finished> {
  const child = spawnChild(command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  const outcome = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    await child.kill();
    throw new Error(
      `${[command, ...args].join(' ')} did not exit within ${options.timeoutMs} ms (something was left open)\n` +
        `stdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`,
    );
  }
  return { ...outcome, stdout: child.stdout(), stderr: child.stderr() };
}

/** Live processes whose command line contains `text` (e.g. a temp folder only the test's processes use). */
export function processesMentioning(text: string): string[] {
  return processTable()
    .filter((row) => row.pid !== process.pid && row.args.includes(text))
    .map((row) => `${row.pid} ${row.args}`);
}

/**
 * Waits until no process mentions `text` (a process told to stop may take a moment to exit), for at most
 * `timeoutMs`; returns the ones still running then (empty when all are gone).
 */
export async function processesLeftMentioning(text: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesMentioning(text);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = processesMentioning(text);
  }
  return left;
}
