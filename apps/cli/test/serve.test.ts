import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Cli,
  childPids,
  EVERYTHING,
  exitWithin,
  openLive,
  processGone,
  runCli,
  tempDir,
  withFilePermissions,
  writeJson,
} from './helpers.js';

// An outer bound on a process that must exit during start-up: it loads the server code first, which took over 10 s
// once on the 2-core machine with other work running (one failure in a full run, none in reruns).
const EXIT_BOUND_MS = 30_000;
const dirs: { cleanup(): void }[] = [];
const clis: Cli[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
const cli = (...args: Parameters<typeof runCli>) => {
  const c = runCli(...args);
  clis.push(c);
  return c;
};
afterEach(async () => {
  for (const c of clis.splice(0)) {
    if (c.child.exitCode === null && c.child.signalCode === null) {
      c.child.kill('SIGKILL');
      await c.exited;
    }
  }
  for (const d of dirs.splice(0)) d.cleanup();
});

const everything = { name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] };

describe('mcpproxy serve', () => {
  it('prints the URLs, serves the API, and on SIGTERM exits 0 within 5 s: WS clients get 1001, the upstream process is gone', async () => {
    const d = dir();
    writeJson(join(d, 'mcp_config.json'), { listen: '127.0.0.1:0', mcpServers: [everything] });
    const proc = cli(['serve', '--data-dir', d]);
    const [, api] = await proc.waitFor(/API\s+(http:\/\/127\.0\.0\.1:\d+\/api\/v1)\n/);
    const base = (api as string).replace(/\/api\/v1$/, '');
    const port = base.split(':').pop();
    expect(proc.stderr()).toContain(`Live       ws://127.0.0.1:${port}/ws/events`);
    expect(proc.stderr()).toContain(`Dashboard  http://127.0.0.1:${port}/ui/`);
    expect(proc.stderr()).toContain(`MCP        http://127.0.0.1:${port}/mcp`);

    const live = await openLive(`ws://127.0.0.1:${port}/ws/events`);
    await live.untilState('everything', 'ready');
    const res = await fetch(`${api}/servers`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { servers: { name: string }[] }).servers[0]?.name).toBe('everything');

    const upstreams = childPids(proc.child.pid as number);
    expect(upstreams.length).toBeGreaterThan(0);

    const started = performance.now();
    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 5_000)).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await live.closeCode).toBe(1001);
    expect(upstreams.filter((pid) => !processGone(pid))).toEqual([]);
    expect(existsSync(join(d, 'mcpproxy.lock'))).toBe(false);
  });

  it('--demo writes a config with server-everything in ./.mcpproxy-demo and runs it (SIGINT exits 0)', async () => {
    const cwd = dir();
    const proc = cli(['serve', '--demo', '-l', '127.0.0.1:0'], { cwd });
    const [, port] = await proc.waitFor(/Live\s+ws:\/\/127\.0\.0\.1:(\d+)\/ws\/events/);
    const configPath = join(cwd, '.mcpproxy-demo', 'mcp_config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    expect(config.mcpServers).toEqual([
      {
        name: 'everything',
        protocol: 'stdio',
        command: process.execPath,
        args: [EVERYTHING, 'stdio'],
        quarantined: false,
      },
    ]);
    const live = await openLive(`ws://127.0.0.1:${port}/ws/events`);
    await live.untilState('everything', 'ready');
    live.ws.terminate();
    proc.child.kill('SIGINT');
    expect(await exitWithin(proc, 5_000)).toBe(0);
  });

  it('is the default command and exits 4 on an invalid config, printing each issue', async () => {
    const d = dir();
    writeJson(join(d, 'mcp_config.json'), { tools_limit: 0, mcpServers: [{ name: 'a:b', command: 'x' }] });
    const proc = cli(['--data-dir', d]);
    expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(4);
    expect(proc.stderr()).toContain('tools_limit');
    expect(proc.stderr()).toContain('mcpServers[0].name');
  });

  it('exits 4 when asked to listen off loopback without an api_key', async () => {
    const proc = cli(['serve', '--data-dir', dir(), '-l', '0.0.0.0:0']);
    expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(4);
    expect(proc.stderr()).toContain('api_key');
  });

  it('exits 2 when the port is in use', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as { port: number };
      const proc = cli(['serve', '--data-dir', dir(), '-l', `127.0.0.1:${port}`]);
      expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(2);
      expect(proc.stderr()).toContain('in use');
    } finally {
      blocker.close();
    }
  });

  it('exits 3 when another instance holds the data dir', async () => {
    const d = dir();
    writeJson(join(d, 'mcp_config.json'), { listen: '127.0.0.1:0' });
    const first = cli(['serve', '--data-dir', d]);
    await first.waitFor(/Press Ctrl\+C/);
    const second = cli(['serve', '--data-dir', d]);
    expect(await exitWithin(second, EXIT_BOUND_MS)).toBe(3);
    expect(second.stderr()).toContain(`pid ${first.child.pid}`);
    first.child.kill('SIGTERM');
    expect(await exitWithin(first, 5_000)).toBe(0);
  });

  it('exits 5 when the config cannot be read (permission denied)', async () => {
    const d = dir();
    const configPath = join(d, 'mcp_config.json');
    writeJson(configPath, { listen: '127.0.0.1:0' });
    // The CLI owns the data dir and the config, but the config's mode lets nobody read it, its owner included.
    const options = withFilePermissions([d, configPath]);
    chmodSync(configPath, 0o000);
    const proc = cli(['serve', '--data-dir', d, '-c', configPath], options);
    expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(5);
    expect(proc.stderr()).toContain(`cannot access the config ${configPath}: permission denied`);
  });

  it('prints its version', async () => {
    const proc = cli(['--version']);
    expect(await exitWithin(proc, EXIT_BOUND_MS)).toBe(0);
  });
});
