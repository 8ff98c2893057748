import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, serve } from '@mcpproxy/server';
import { EVERYTHING, MAIN } from './helpers.js';

/** What a finished `mcpproxy` run printed and how it exited. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/main.js ...args` to the end (killed after `timeoutMs`) with a clean environment: only PATH and
 * HOME of this process, plus `env` (no MCPPROXY_* leaks in from the developer's shell).
 */
export function mcpproxy(
  args: string[],
  { env = {}, timeoutMs = 20_000 }: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MCPPROXY_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcpproxy ${args.join(' ')} still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A stdio entry for server-everything, approved so that it starts. */
export function everything(name = 'everything', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, protocol: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], ...extra };
}

/** A real mcpproxy, in this process, on 127.0.0.1:0 with `config` in a temp data dir. */
export interface LiveServer extends AsyncDisposable {
  running: RunningServer;
  url: string;
  dataDir: string;
  configPath: string;
  close(): Promise<void>;
}

export async function startServer(config: Record<string, unknown> = {}): Promise<LiveServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-cli-srv-'));
  const configPath = join(dataDir, 'mcp_config.json');
  writeFileSync(configPath, `${JSON.stringify({ listen: '127.0.0.1:0', ...config }, null, 2)}\n`);
  const running = await serve({ dataDir, logLevel: 'silent', processMetrics: false, watchConfig: false });
  // `running` may be replaced by a test that restarts the server; close whichever runs now.
  const server: LiveServer = {
    running,
    url: running.url as string,
    dataDir,
    configPath,
    close: async () => {
      await server.running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
  return server;
}

/** Resolves once `check()` returns a truthy value (polled every 50 ms); rejects after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once the server's read model shows a row for which `predicate` holds; rejects after `timeoutMs`. */
export function untilRow(
  server: LiveServer,
  name: string,
  predicate: (row: { state: string; quarantined: boolean; enabled: boolean }) => boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const view = server.running.services.view;
  return new Promise((resolve, reject) => {
    const holds = () => {
      const row = view.server(name);
      return row !== undefined && predicate(row);
    };
    if (holds()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${name}: ${JSON.stringify(view.server(name))}`));
    }, timeoutMs);
    const off = view.subscribe(() => {
      if (!holds()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
