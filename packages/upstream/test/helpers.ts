import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerConfig, type ServerConfig, type ServerConfigInput, UpstreamError } from '@mcpproxy/contracts';
import { rejectionOf, withTimeout } from '@mcpproxy/testkit';

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

/** The error `promise` rejects with, asserted to be an `UpstreamError`. */
export function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  return rejectionOf(promise, UpstreamError);
}

/** Resolves with the value of the first call of the returned listener; rejects after `timeoutMs`. */
export function nextCall<T>(timeoutMs = 5_000): { listener: (value: T) => void; called: Promise<T> } {
  let listener!: (value: T) => void;
  const called = withTimeout(
    new Promise<T>((resolve) => {
      listener = resolve;
    }),
    timeoutMs,
    'the listener to be called',
  );
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
