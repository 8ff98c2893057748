import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type RunningServer, serve } from '@mcpproxy/server';
import type { Subscribable } from '../src/index.js';

const require = createRequire(import.meta.url);
/** Entry of `@modelcontextprotocol/server-everything`, started with this Node binary. */
export const EVERYTHING = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);

/** A stdio entry for server-everything, approved (not quarantined) so that it starts. */
export function everything(name = 'everything'): Record<string, unknown> {
  return { name, protocol: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], quarantined: false };
}

/** A real mcpproxy in a temp data dir; `restart()` stops it and starts a new process-state on the same port. */
export interface TestServer extends AsyncDisposable {
  running: RunningServer;
  url: string;
  port: number;
  dataDir: string;
  configPath: string;
  /** Stops the server (the data dir stays). */
  stop(): Promise<void>;
  /** Starts it again on the same port, optionally with a new config file. */
  start(config?: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startServer(config: Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-client-'));
  const configPath = join(dataDir, 'mcp_config.json');
  const write = (c: Record<string, unknown>, listen: string) =>
    writeFileSync(configPath, `${JSON.stringify({ listen, ...c }, null, 2)}\n`);
  write(config, '127.0.0.1:0');
  const boot = () => serve({ dataDir, logLevel: 'silent', processMetrics: false, watchConfig: false });
  let running: RunningServer;
  try {
    running = await boot();
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const port = (running.address as { port: number }).port;
  let up = true;
  const server: TestServer = {
    running,
    url: running.url as string,
    port,
    dataDir,
    configPath,
    async stop() {
      if (!up) return;
      up = false;
      await server.running.close();
    },
    async start(next) {
      if (up) return;
      if (next) write(next, `127.0.0.1:${port}`);
      else write(config, `127.0.0.1:${port}`);
      server.running = await boot();
      up = true;
    },
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
  return server;
}

/** Resolves with the value once `predicate` holds for `value` (now or later); rejects after `timeoutMs`. */
export function until<T>(value: Subscribable<T>, predicate: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    if (predicate(value.get())) {
      resolve(value.get());
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; last value: ${JSON.stringify(value.get())}`));
    }, timeoutMs);
    const off = value.subscribe((v) => {
      if (!predicate(v)) return;
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}
