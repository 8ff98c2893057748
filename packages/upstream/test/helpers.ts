import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from '@mcpproxy/contracts';

const require = createRequire(import.meta.url);

/** Entry file of `@modelcontextprotocol/server-everything` (run with `process.execPath`, not npx). */
export const everythingEntry = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

/** Absolute path of a fixture script in `test/fixtures`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** A validated, defaulted server config, as the config service would hand it over. */
export function serverConfig(input: Omit<ServerConfigInput, 'name'> & { name?: string }): ServerConfig {
  const parsed = parseServerConfig({ name: 'test', ...input });
  if (!parsed.ok) throw new Error(`bad test config: ${JSON.stringify(parsed.issues)}`);
  return parsed.value;
}

/** Polls `predicate` until it holds; fails after `timeoutMs`. For waiting on an outcome, never to pace a test. */
export async function waitFor(predicate: () => boolean, { timeoutMs = 5_000, what = 'condition' } = {}): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Resolves with the value of the first call of the returned listener; rejects after `timeoutMs`. */
export function nextCall<T>(timeoutMs = 5_000): { listener: (value: T) => void; called: Promise<T> } {
  let listener!: (value: T) => void;
  const called = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('listener was not called in time')), timeoutMs);
    listener = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
  });
  return { listener, called };
}

function procStat(pid: number): { state: string; pgid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live process. A zombie counts as gone: it runs nothing, and an orphan's zombie waits on a
 * PID 1 that may never reap it (as in some containers).
 */
export function processAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat && stat.pgid === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(pid);
  }
  return members;
}

/** Whether `pid` has installed a handler for SIGTERM (bit 15 of SigCgt in /proc/PID/status). */
export function catchesSigterm(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

/** A fresh temp directory, removed by the returned `dispose`. */
export function tempDir(): { path: string; dispose: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'mcpproxy-upstream-'));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** A port nobody listens on right now (bound on 127.0.0.1:0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A running server-everything in an HTTP mode. */
export interface HttpEverything {
  port: number;
  url: (path: string) => string;
  stop: () => Promise<void>;
}

/** Starts server-everything (`streamableHttp` or `sse`) on a free port and waits until it says it listens. */
export async function startEverythingHttp(mode: 'streamableHttp' | 'sse'): Promise<HttpEverything> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [everythingEntry, mode], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`server-everything ${mode} did not start: ${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/listening on port|running on port/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server-everything ${mode} exited with ${code}: ${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  // Keep draining its logs so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  return { port, url: (path) => `http://127.0.0.1:${port}${path}`, stop };
}
