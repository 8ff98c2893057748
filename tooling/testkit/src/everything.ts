import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Entry file of `@modelcontextprotocol/server-everything`: run it with `process.execPath` (not npx). */
export const everythingEntry: string = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

/** A port nobody listened on a moment ago (bound on 127.0.0.1:0, read, released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Options of {@link startEverythingHttp}. */
export interface EverythingHttpOptions {
  /** Transport of server-everything. @default 'streamableHttp' */
  mode?: 'streamableHttp' | 'sse' | undefined;
  /** Outer bound of the wait for "listening on port", in real milliseconds. @default 30_000 */
  startTimeoutMs?: number | undefined;
}

/** A running server-everything in an HTTP mode; `await using` stops it. */
export interface EverythingHttp extends AsyncDisposable {
  port: number;
  /** `http://127.0.0.1:port` + `path`. @default path '/mcp' ('/sse' in SSE mode) */
  url(path?: string): string;
  /** SIGKILLs the process and resolves once it exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts server-everything over HTTP (`PORT` set to a free port) and resolves once it says it listens on that port.
 * It is killed if it does not start.
 */
export async function startEverythingHttp({
  mode = 'streamableHttp',
  startTimeoutMs = 30_000,
}: EverythingHttpOptions = {}): Promise<EverythingHttp> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [everythingEntry, mode], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  // Streamable HTTP says "listening on port N", SSE "running on port N".
  const ready = new RegExp(`(listening|running) on port ${port}\\b`);
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server-everything ${mode} did not start: ${output}`)),
        startTimeoutMs,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (ready.test(output)) {
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
  } finally {
    child.stdout?.removeAllListeners('data');
    child.stderr?.removeAllListeners('data');
  }
  // Keep draining its logs so a full pipe never blocks it.
  child.stdout?.resume();
  child.stderr?.resume();
  const defaultPath = mode === 'sse' ? '/sse' : '/mcp';
  return {
    port,
    url: (path = defaultPath) => `http://127.0.0.1:${port}${path}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
