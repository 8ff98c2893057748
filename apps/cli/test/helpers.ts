import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
/** The built CLI (the package's turbo `test` depends on its own `build`). */
export const MAIN = join(here, '..', 'dist', 'main.js');
const require = createRequire(import.meta.url);
export const EVERYTHING = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);

export function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'mcpproxy-cli-'));
  chmodSync(path, 0o755);
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

export interface Cli {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first stderr match of `re` (now or later); rejects on exit or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal's name) once the process ended. */
  exited: Promise<number | string>;
}

/** How {@link runCli} starts the CLI: as another user, or behind a command that runs `node` (e.g. `setpriv …`). */
export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** A command (and its arguments) that runs `node dist/main.js …` for us. */
  prefix?: string[];
}

/**
 * Runs `node dist/main.js ...args` (behind `options.prefix` when given). The process is killed by `kill()` of the
 * caller or at the end of its test.
 */
export function runCli(args: string[], options: CliOptions = {}): Cli {
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command as string, [...prefixArgs, MAIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MCPPROXY_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  });
  let err = '';
  const waiters = new Set<() => void>();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    err += chunk;
    for (const w of [...waiters]) w();
  });
  child.stdout?.resume();
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
      for (const w of [...waiters]) w();
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = err.match(re);
          if (m) {
            cleanup();
            resolve(m);
          } else if (done) {
            cleanup();
            reject(new Error(`process exited before ${re}; stderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re}; stderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The absolute path of `command` on PATH, or `undefined`. */
function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Options for {@link runCli} under which file permission bits bind the CLI as they bind an ordinary user, so that a
 * mode-000 file gives a real EACCES. Root reads any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so as root the CLI
 * runs as the owner of the checkout, and when that owner is root, under `setpriv` without those two capabilities.
 * Either way the CLI can still load itself wherever the checkout lives, a private 0700 folder included (running it
 * as `nobody` could not). `paths` (the files and folders the test prepares) are handed to that identity.
 */
export function withFilePermissions(paths: string[]): CliOptions {
  if (process.getuid?.() !== 0) return {};
  const owner = statSync(MAIN);
  if (owner.uid !== 0) {
    for (const path of paths) chownSync(path, owner.uid, owner.gid);
    return { uid: owner.uid, gid: owner.gid };
  }
  const setpriv = onPath('setpriv');
  if (setpriv === undefined) {
    throw new Error(
      'setpriv (Debian package util-linux) is needed to run this test as root: run `tooling/ci/system-deps.sh` as root',
    );
  }
  return { prefix: [setpriv, '--bounding-set=-dac_override,-dac_read_search', '--'] };
}

/** The exit code, or rejects when the process is still running after `timeoutMs`. */
export function exitWithin(cli: Cli, timeoutMs: number): Promise<number | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    cli.exited,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${timeoutMs} ms; stderr:\n${cli.stderr()}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Opens `/ws/events` and resolves once a frame shows `server` in `state` (the hello snapshot or an event). */
export async function openLive(wsUrl: string): Promise<{
  ws: WebSocket;
  untilState(server: string, state: string, timeoutMs?: number): Promise<void>;
  closeCode: Promise<number>;
}> {
  const ws = new WebSocket(wsUrl);
  const frames: unknown[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const l of [...listeners]) l();
  });
  const closeCode = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const shows = (server: string, state: string) =>
    frames.some((f) => {
      const frame = f as {
        type?: string;
        snapshot?: { servers?: { name: string; state: string }[] };
        data?: { summary?: { name: string; state: string } };
      };
      if (frame.type === 'hello') return frame.snapshot?.servers?.some((s) => s.name === server && s.state === state);
      return frame.data?.summary?.name === server && frame.data.summary.state === state;
    });
  return {
    ws,
    closeCode,
    untilState(server, state, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!shows(server, state)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${server} to be ${state}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

/** Pids of the direct children of `pid` (Linux `/proc`). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Whether a process is gone (no such pid, or a zombie waiting for a reaper). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}
