import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Clock, Logger, TimerHandle } from '@mcpproxy/contracts';
import { UpstreamError } from '@mcpproxy/contracts';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The only variables a stdio upstream inherits from the proxy's environment (docs/security.md). */
export const INHERITED_ENV_KEYS = ['PATH', 'HOME', 'USER', 'LANG', 'TERM'] as const;

/** How often a closing connection checks whether the process group is empty. */
const GROUP_POLL_MS = 25;
/** After the process exits, how long to wait for its pipes to close before calling it gone anyway. */
const PIPE_FLUSH_MS = 100;
/** A stderr line longer than this is cut, so one runaway line cannot grow the ring without bound. */
const MAX_LINE_CHARS = 4096;

/**
 * The environment of a stdio upstream: PATH, HOME, USER, LANG and TERM from `base`, then the server's own `env`.
 * Values that look like exported shell functions (`() {…`) are not inherited.
 */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  serverEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV_KEYS) {
    const value = base[key];
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return { ...env, ...serverEnv };
}

/** The last `capacity` lines of a text stream, oldest first; a trailing partial line counts as a line. */
export class LineRing {
  readonly #capacity: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = clip(parts.pop() ?? '');
    for (const line of parts) this.#add(clip(line.replace(/\r$/, '')));
  }

  lines(): string[] {
    const out = this.#lines.slice();
    if (this.#partial !== '') {
      out.push(this.#partial);
      if (out.length > this.#capacity) out.shift();
    }
    return out;
  }

  #add(line: string): void {
    if (this.#capacity === 0) return;
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) this.#lines.shift();
  }
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

/** Formats the last `count` stderr lines for an error message, or `''` when there are none. */
export function stderrSuffix(lines: readonly string[], count = 10): string {
  const tail = lines.filter((l) => l.trim() !== '').slice(-count);
  return tail.length === 0 ? '' : `; stderr: ${tail.join(' | ')}`;
}

export interface SpawnRequest {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string | undefined;
}

export interface StdioProcessOptions {
  clock: Clock;
  logger: Logger;
  /** Wait after SIGTERM (and again after SIGKILL) before escalating or giving up. */
  killGraceMs: number;
  stderrLines: number;
}

const groupsSupported = process.platform !== 'win32';

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(groupsSupported ? -pid : pid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

/**
 * Whether any process of group `pgid` still runs. Zombies do not count: orphaned grandchildren are reparented to
 * PID 1, and when that is not a reaping init (node as PID 1 in a container), their zombies stay in the group.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(groupsSupported ? -pgid : pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return process.platform === 'linux' ? liveGroupMemberOnLinux(pgid) : true;
}

function liveGroupMemberOnLinux(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces or parentheses): state ppid pgrp …
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/**
 * A stdio upstream's process: spawned without a shell, as the leader of its own process group, with its stderr
 * kept in a bounded ring. {@link terminate} ends the whole group, grandchildren included.
 */
export class StdioProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly stderr: LineRing;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  exited = false;

  readonly #options: StdioProcessOptions;
  readonly #exitWaiters = new Set<() => void>();
  readonly #goneListeners = new Set<() => void>();
  #gone = false;
  #flushTimer: TimerHandle | undefined;
  #terminating: Promise<void> | undefined;

  private constructor(child: ChildProcess, pid: number, stderr: LineRing, options: StdioProcessOptions) {
    this.child = child;
    this.pid = pid;
    this.stderr = stderr;
    this.#options = options;
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      for (const waiter of this.#exitWaiters) waiter();
      this.#exitWaiters.clear();
      // A grandchild may hold the pipes open; do not wait for them for long.
      this.#flushTimer = options.clock.setTimeout(() => this.#markGone(), PIPE_FLUSH_MS);
    });
    child.once('close', () => this.#markGone());
  }

  /** Spawns `request`, resolving once the process runs; a missing command is `COMMAND_NOT_FOUND`. */
  static async spawn(request: SpawnRequest, options: StdioProcessOptions): Promise<StdioProcess> {
    const { command, args, env, cwd } = request;
    if (cwd !== undefined) {
      const dir = await stat(cwd).catch(() => undefined);
      if (!dir?.isDirectory()) {
        throw new UpstreamError('CONNECT_FAILED', `working_dir "${cwd}" does not exist or is not a directory`);
      }
    }
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], {
        shell: false,
        detached: groupsSupported,
        cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      throw new UpstreamError('CONNECT_FAILED', `could not start command "${command}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    const stderr = new LineRing(options.stderrLines);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => stderr.push(chunk));
    // Errors after spawn (a failed kill, a broken pipe) must never become an uncaught 'error' event.
    child.on('error', (error) => options.logger.debug('upstream process error', { command, error: error.message }));
    child.stdin?.on('error', () => {});
    child.stdout?.on('error', () => {});
    child.stderr?.on('error', () => {});

    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    }).catch((error: NodeJS.ErrnoException) => {
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (error.code === 'ENOENT') {
        const where = command.includes('/') ? '' : ' on PATH';
        throw new UpstreamError('COMMAND_NOT_FOUND', `command "${command}" not found${where}`, { cause: error });
      }
      if (error.code === 'EACCES') {
        throw new UpstreamError('CONNECT_FAILED', `command "${command}" is not executable (EACCES)`, { cause: error });
      }
      throw new UpstreamError('CONNECT_FAILED', `could not start command "${command}": ${error.message}`, {
        cause: error,
      });
    });
    return new StdioProcess(child, child.pid as number, stderr, options);
  }

  /** Runs `listener` once the process has exited and its pipes are closed (at once if that already happened). */
  onGone(listener: () => void): void {
    if (this.#gone) queueMicrotask(listener);
    else this.#goneListeners.add(listener);
  }

  /** "exited with code 1" or "was killed by SIGKILL". */
  describeExit(): string {
    if (!this.exited) return 'is still running';
    return this.exitSignal ? `was killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
  }

  /**
   * Ends the whole process group: SIGTERM, then SIGKILL if anything is left after the grace, and waits for the
   * process to be reaped. Idempotent; safe after the process exited on its own (its orphans are still ended).
   */
  terminate(): Promise<void> {
    this.#terminating ??= this.#terminate();
    return this.#terminating;
  }

  async #terminate(): Promise<void> {
    const { killGraceMs, logger } = this.#options;
    this.child.stdin?.end();
    signalGroup(this.pid, 'SIGTERM');
    if (!(await this.#waitGroupGone(killGraceMs))) {
      logger.debug('upstream process group outlived SIGTERM; sending SIGKILL', { pid: this.pid });
      signalGroup(this.pid, 'SIGKILL');
      if (!(await this.#waitGroupGone(killGraceMs))) {
        logger.warn('upstream process group still runs after SIGKILL', { pid: this.pid });
      }
    }
    this.child.stdin?.destroy();
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
  }

  /** Resolves true once the leader has exited and no member of its group is left, false after `ms`. */
  #waitGroupGone(ms: number): Promise<boolean> {
    const { clock } = this.#options;
    return new Promise((resolve) => {
      let waited = 0;
      let timer: TimerHandle | undefined;
      const finish = (result: boolean) => {
        clock.clearTimeout(timer);
        this.#exitWaiters.delete(onExit);
        resolve(result);
      };
      const onExit = () => {
        if (!groupAlive(this.pid)) finish(true);
      };
      const tick = () => {
        if (this.exited && !groupAlive(this.pid)) return finish(true);
        if (waited >= ms) return finish(false);
        waited += GROUP_POLL_MS;
        timer = clock.setTimeout(tick, GROUP_POLL_MS);
      };
      if (!this.exited) this.#exitWaiters.add(onExit);
      tick();
    });
  }

  #markGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#options.clock.clearTimeout(this.#flushTimer);
    for (const listener of this.#goneListeners) listener();
    this.#goneListeners.clear();
  }
}

/**
 * The SDK side of a {@link StdioProcess}: newline-delimited JSON-RPC over the child's stdin/stdout, exactly what the
 * SDK's own stdio transport speaks. The process is spawned by `start()` (nothing runs before), and `close()` ends
 * its whole process group — also when it comes while `start()` is still spawning.
 */
export class ChildProcessTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;

  readonly #spawn: () => Promise<StdioProcess>;
  readonly #buffer = new ReadBuffer();
  #process: StdioProcess | undefined;
  #spawning: Promise<StdioProcess> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(spawn: () => Promise<StdioProcess>) {
    this.#spawn = spawn;
  }

  /** The process, once `start()` spawned it. */
  get process(): StdioProcess | undefined {
    return this.#process;
  }

  async start(): Promise<void> {
    if (this.#spawning) throw new Error('ChildProcessTransport already started');
    if (this.#closed) throw new Error('ChildProcessTransport is closed');
    this.#spawning = this.#spawn();
    const proc = await this.#spawning;
    this.#process = proc;
    if (this.#closing) return; // closed while spawning: close() ends it
    const { stdout, stdin } = proc.child;
    stdout?.on('data', (chunk: Buffer) => this.#read(chunk));
    stdout?.on('error', (error) => this.onerror?.(error));
    stdin?.on('error', (error) => this.onerror?.(error));
    proc.onGone(() => this.#finish());
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.#process?.child.stdin;
      if (this.#closed || this.#closing || !stdin?.writable) {
        reject(new Error('Not connected'));
        return;
      }
      stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends the process group (waiting for a spawn in progress first); idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const proc = await this.#spawning?.catch(() => undefined);
      await proc?.terminate();
      this.#finish();
    })();
    return this.#closing;
  }

  #read(chunk: Buffer): void {
    try {
      this.#buffer.append(chunk);
    } catch (error) {
      // An unterminated line past the buffer limit: the stream cannot be trusted any more.
      this.onerror?.(error as Error);
      void this.close();
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.#buffer.readMessage();
      } catch (error) {
        // A non-JSON line (a server logging to stdout): the SDK's transport reports it and reads on.
        this.onerror?.(error as Error);
        continue;
      }
      if (message === null) return;
      this.onmessage?.(message);
    }
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.clear();
    this.onclose?.();
  }
}
