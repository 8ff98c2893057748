// stdio upstreams against real processes: server-everything from npm and small fixture servers.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamError } from '@mcpproxy/contracts';
import { everythingEntry, waitFor } from '@mcpproxy/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Connection, type ConnectorOptions, createConnector, INHERITED_ENV_KEYS } from '../src/index.js';
import {
  catchesSigterm,
  failure,
  fixture,
  liveGroupMembers,
  nextCall,
  processAlive,
  serverConfig,
  tempDir,
} from './helpers.js';

const node = process.execPath;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function connector(options: ConnectorOptions = {}) {
  return createConnector({ env: process.env, ...options });
}

/** Connects and registers the connection to be closed after the test. */
async function open(
  config: Parameters<typeof serverConfig>[0],
  options: ConnectorOptions = {},
  timeoutMs?: number,
): Promise<Connection> {
  const connection = await connector(options).connect(serverConfig(config), { timeoutMs });
  cleanups.push(() => connection.close());
  return connection;
}

function textOf(result: { content: unknown[] }): string {
  const first = result.content[0] as { type: string; text?: string } | undefined;
  return first?.text ?? '';
}

function temp(): string {
  const dir = tempDir();
  cleanups.push(dir.dispose);
  return dir.path;
}

describe('stdio upstream: server-everything', () => {
  it('connects, lists its tools, answers echo and get-sum, pings, and ends the process on close', async () => {
    const connection = await open({ protocol: 'stdio', command: node, args: [everythingEntry, 'stdio'] });
    expect(connection.protocol).toBe('stdio');
    const names = connection.tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(connection.serverInfo?.name).toBeTruthy();

    expect(textOf(await connection.callTool('echo', { message: 'hello' }))).toBe('Echo: hello');
    expect(textOf(await connection.callTool('get-sum', { a: 2, b: 3 }))).toContain('5');
    await expect(connection.ping()).resolves.toBeUndefined();
    const { resources } = await connection.client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect(connection.pendingCalls()).toBe(0);

    const pid = connection.pid as number;
    expect(processAlive(pid)).toBe(true);
    await connection.close();
    expect(processAlive(pid)).toBe(false);
    expect(liveGroupMembers(pid)).toEqual([]);
  });
});

describe('stdio upstream: process handling', () => {
  it('runs a command over stdio when the protocol is auto, and ends it on dispose', async () => {
    let pid: number | undefined;
    {
      await using connection = await connector().connect(
        serverConfig({ command: node, args: [fixture('server.mjs')] }),
      );
      expect(connection.protocol).toBe('stdio');
      expect(textOf(await connection.callTool('echo', { message: 'auto' }))).toBe('auto');
      pid = connection.pid;
      expect(processAlive(pid as number)).toBe(true);
    }
    expect(processAlive(pid as number)).toBe(false);
  });

  it('starts the upstream with only PATH, HOME, USER, LANG, TERM and the server env', async () => {
    const base: Record<string, string | undefined> = {
      ...process.env,
      MCPPROXY_TEST_SECRET: 'must-not-leak',
      LANG: 'C.UTF-8',
    };
    const connection = await open(
      { command: node, args: [fixture('server.mjs')], env: { API_TOKEN: 'abc', LANG: 'fr_FR.UTF-8' } },
      { env: base },
    );
    const env = JSON.parse(textOf(await connection.callTool('env', {}))) as Record<string, string>;
    const inherited = INHERITED_ENV_KEYS.filter((key) => base[key] !== undefined);
    expect(Object.keys(env).sort()).toEqual([...new Set([...inherited, 'API_TOKEN', 'LANG'])].sort());
    expect(env.MCPPROXY_TEST_SECRET).toBeUndefined();
    expect(env.API_TOKEN).toBe('abc');
    expect(env.LANG).toBe('fr_FR.UTF-8');
    expect(env.PATH).toBe(process.env.PATH);
  });

  it('runs the upstream in its working_dir, and refuses a working_dir that does not exist', async () => {
    const dir = temp();
    const connection = await open({ command: node, args: [fixture('server.mjs')], working_dir: dir });
    expect(textOf(await connection.callTool('cwd', {}))).toBe(realpathSync(dir));

    const missing = join(dir, 'missing');
    const error = await failure(
      connector().connect(serverConfig({ command: node, args: [fixture('server.mjs')], working_dir: missing })),
    );
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toContain(missing);
  });

  it('keeps only the last 200 stderr lines', async () => {
    const connection = await open({ command: node, args: [fixture('server.mjs'), '--stderr-lines=500'] });
    await waitFor(() => connection.stderrTail().at(-1) === 'stderr line 500', { what: 'the last stderr line' });
    const tail = connection.stderrTail();
    expect(tail).toHaveLength(200);
    expect(tail[0]).toBe('stderr line 301');
  });

  it('fires onClose with an error when the upstream process is killed', async () => {
    const connection = await open({ command: node, args: [fixture('server.mjs')] });
    const closed = nextCall<Error | undefined>();
    connection.onClose(closed.listener);
    process.kill(connection.pid as number, 'SIGKILL');
    const error = await closed.called;
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe('CLOSED');
    expect(error?.message).toContain('SIGKILL');
    expect((await failure(connection.callTool('echo', { message: 'x' }))).code).toBe('CLOSED');
  });

  it('calls onToolsChanged when the upstream announces tools/list_changed', async () => {
    const connection = await open({ command: node, args: [fixture('server.mjs')] });
    const changed = nextCall<void>();
    connection.onToolsChanged(changed.listener);
    await connection.callTool('add-tool', {});
    await changed.called;
    expect((await connection.listTools()).map((t) => t.name)).toContain('extra-1');
  });

  it('fails with COMMAND_NOT_FOUND naming a command that does not exist', async () => {
    for (const command of ['mcpproxy-no-such-command', '/nonexistent/bin/mcp-server']) {
      const error = await failure(connector().connect(serverConfig({ command })));
      expect(error.code).toBe('COMMAND_NOT_FOUND');
      expect(error.message).toContain(command);
    }
  });

  it('fails with CONNECT_FAILED and the stderr tail when the process exits during initialize', async () => {
    const script = 'console.error("fatal: missing API key FOO_TOKEN"); process.exit(3)';
    const error = await failure(connector().connect(serverConfig({ command: node, args: ['-e', script] })));
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toContain('exited with code 3');
    expect(error.message).toContain('missing API key FOO_TOKEN');
  });

  it('fails with INIT_TIMEOUT when initialize is never answered, leaving no process behind', async () => {
    const pidFile = join(temp(), 'pid');
    const error = await failure(
      connector().connect(serverConfig({ command: node, args: [fixture('silent.mjs'), pidFile] }), {
        timeoutMs: 500,
      }),
    );
    expect(error.code).toBe('INIT_TIMEOUT');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(pid)).toBe(false);
    expect(liveGroupMembers(pid)).toEqual([]);
  });

  it('takes init_timeout from the server config', async () => {
    const config = serverConfig({ command: node, args: [fixture('silent.mjs')], init_timeout: '300ms' });
    const error = await failure(connector({ defaultInitTimeoutMs: 60_000 }).connect(config));
    expect(error.code).toBe('INIT_TIMEOUT');
    expect(error.message).toContain('300 ms');
  });

  it('fails with ABORTED when the connect signal aborts, leaving no process behind', async () => {
    const pidFile = join(temp(), 'pid');
    const controller = new AbortController();
    const connecting = connector().connect(serverConfig({ command: node, args: [fixture('silent.mjs'), pidFile] }), {
      signal: controller.signal,
    });
    await waitFor(() => {
      try {
        return readFileSync(pidFile, 'utf8') !== '';
      } catch {
        return false;
      }
    });
    controller.abort();
    expect((await failure(connecting)).code).toBe('ABORTED');
    expect(processAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('fails a hung call with CALL_TIMEOUT, cancels it upstream and brings the pending count back to zero', async () => {
    const connection = await open({ command: node, args: [fixture('server.mjs')] });
    const call = connection.callTool('hang', {}, { timeoutMs: 300 });
    expect(connection.pendingCalls()).toBe(1);
    expect((await failure(call)).code).toBe('CALL_TIMEOUT');
    expect(connection.pendingCalls()).toBe(0);
    await waitFor(() => connection.stderrTail().includes('hang cancelled'), { what: 'the upstream to cancel' });
    expect(textOf(await connection.callTool('echo', { message: 'still here' }))).toBe('still here');
  });

  it('rejects a pending call with CLOSED when the connection is closed', async () => {
    const connection = await open({ command: node, args: [fixture('server.mjs')] });
    const call = connection.callTool('hang', {});
    await waitFor(() => connection.stderrTail().includes('hang started'), { what: 'the upstream to start the call' });
    const closing = connection.close();
    expect((await failure(call)).code).toBe('CLOSED');
    expect(connection.pendingCalls()).toBe(0);
    await closing;
    expect(processAlive(connection.pid as number)).toBe(false);
  });

  it('ends the whole process group on close, grandchildren that ignore SIGTERM included', async () => {
    const pidsFile = join(temp(), 'pids.json');
    const connection = await open({ command: node, args: [fixture('wrapper.mjs'), pidsFile] }, { killGraceMs: 300 });
    // The real server answers through the wrapper, as behind npx.
    expect(textOf(await connection.callTool('echo', { message: 'via wrapper' }))).toBe('via wrapper');
    const pids = JSON.parse(readFileSync(pidsFile, 'utf8')) as { wrapper: number; sleeper: number; server: number };
    expect(pids.wrapper).toBe(connection.pid);
    await waitFor(() => catchesSigterm(pids.sleeper), { what: 'the sleeper to ignore SIGTERM' });
    expect(liveGroupMembers(pids.wrapper).sort()).toEqual([pids.wrapper, pids.sleeper, pids.server].sort());

    await connection.close();
    expect(processAlive(pids.wrapper)).toBe(false);
    expect(processAlive(pids.server)).toBe(false);
    expect(processAlive(pids.sleeper)).toBe(false);
    expect(liveGroupMembers(pids.wrapper)).toEqual([]);
  });
});
