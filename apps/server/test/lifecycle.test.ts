import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ConfigError } from '@mcpproxy/configsvc';
import { createFakeClock } from '@mcpproxy/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { EXIT_CODES, exitCodeOf, isPermissionError, ServeError, serve } from '../src/index.js';
import { scriptedConnector, startServer, tempDir, waitForEvent, waitForState, writeConfig } from './helpers.js';

const dirs: { cleanup(): void }[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

async function startError(options: Parameters<typeof serve>[0]): Promise<ServeError> {
  const error = await serve({ logLevel: 'silent', processMetrics: false, ...options }).then(
    async (running) => {
      await running.close();
      throw new Error('serve() started but should have failed');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServeError);
  return error as ServeError;
}

describe('exit codes', () => {
  it('maps errors to exit codes: EACCES/EPERM anywhere in the cause chain → 5, EADDRINUSE → 2, else 1', () => {
    expect(exitCodeOf(errno('EACCES'))).toBe(5);
    expect(exitCodeOf(errno('EPERM'))).toBe(5);
    const wrapped = new ConfigError('CONFIG_READ_FAILED', 'cannot read', { cause: errno('EACCES') });
    expect(isPermissionError(wrapped)).toBe(true);
    expect(exitCodeOf(wrapped)).toBe(5);
    expect(exitCodeOf(new Error('x', { cause: new Error('y', { cause: errno('EPERM') }) }))).toBe(5);
    expect(exitCodeOf(errno('EADDRINUSE'))).toBe(2);
    expect(exitCodeOf(errno('ENOENT'))).toBe(1);
    expect(exitCodeOf(new ConfigError('INVALID_CONFIG', 'bad'))).toBe(1);
    expect(exitCodeOf('string')).toBe(1);
    expect(new ServeError('PORT_IN_USE', 'x').exitCode).toBe(EXIT_CODES.PORT_IN_USE);
    expect(new ServeError('DATA_DIR_LOCKED', 'x').exitCode).toBe(3);
    expect(new ServeError('CONFIG_INVALID', 'x').exitCode).toBe(4);
    expect(new ServeError('PERMISSION_DENIED', 'x').exitCode).toBe(5);
    expect(new ServeError('START_FAILED', 'x').exitCode).toBe(1);
  });

  it('exits 2 when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const { port } = blocker.address() as { port: number };
      const d = dir();
      const error = await startError({ dataDir: d, listen: `127.0.0.1:${port}`, connector: scriptedConnector({}) });
      expect(error.code).toBe('PORT_IN_USE');
      expect(error.exitCode).toBe(2);
      // Nothing is left behind: the lock is released, so a retry on a free port works.
      await using s = await startServer({ dataDir: d, connector: scriptedConnector({}) });
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      blocker.close();
    }
  });

  it('exits 4 for an invalid config, with every issue', async () => {
    const d = dir();
    writeConfig(join(d, 'mcp_config.json'), { tools_limit: 0, mcpServers: [{ name: 'a:b', command: 'x' }] });
    const error = await startError({ dataDir: d });
    expect(error.exitCode).toBe(4);
    expect(error.issues?.map((i) => i.path).sort()).toEqual(['mcpServers[0].name', 'tools_limit']);
  });

  it('exits 4 when listening off loopback without an api_key, and starts with one', async () => {
    const d = dir();
    writeConfig(join(d, 'mcp_config.json'), { listen: '0.0.0.0:0' });
    const error = await startError({ dataDir: d });
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('api_key');
    await using s = await startServer({
      dataDir: d,
      connector: scriptedConnector({}),
      config: { listen: '0.0.0.0:0', api_key: 'k3y' },
    });
    expect(s.running.address?.host).toBe('0.0.0.0');
    expect((await s.api('/api/v1/status', { key: false })).status).toBe(401);
  });

  it('exits 4 when the config path cannot be used as a file, and 4 for a bad MCPPROXY_LISTEN', async () => {
    const d = dir();
    const configPath = join(d, 'config-is-a-dir');
    mkdirSync(configPath);
    expect((await startError({ dataDir: d, configPath })).exitCode).toBe(4);
    const e = await startError({ dataDir: d, env: { MCPPROXY_LISTEN: 'not-an-address' } });
    expect(e.exitCode).toBe(4);
  });

  it('exits 1 when the data dir cannot be created (a file is in the way)', async () => {
    const d = dir();
    writeFileSync(join(d, 'file'), '');
    expect((await startError({ dataDir: join(d, 'file', 'data') })).exitCode).toBe(1);
  });
});

describe('start-up and shutdown', () => {
  it('reports running after the first reconcile; close() closes live sockets with 1001 and releases the data dir', async () => {
    const dataDir = dir();
    const s = await startServer({
      dataDir,
      connector: scriptedConnector({}),
      config: { mcpServers: [{ name: 'one', command: 'scripted' }] },
    });
    try {
      expect(s.view.snapshot().app.state).toBe('running');
      await waitForState(s.view, 'one', 'ready');
      const ws = new WebSocket(`${s.url.replace('http:', 'ws:')}/ws/events`);
      const hello = new Promise<Record<string, unknown>>((resolve) =>
        ws.once('message', (data) => resolve(JSON.parse(String(data)))),
      );
      await once(ws, 'open');
      expect((await hello).type).toBe('hello');
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      const stopping = waitForEvent(s.bus, (e) => e.type === 'app_state_changed' && e.data.to === 'stopping');
      const started = performance.now();
      await s.close();
      expect(performance.now() - started).toBeLessThan(5_000);
      await stopping;
      expect(await closed).toBe(1001);
      expect(s.view.server('one')?.state).toBe('stopped');
      await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
      // The lock is released: the same data dir starts again.
      await using again = await startServer({ dataDir, connector: scriptedConnector({}) });
      expect(again.view.snapshot().app.state).toBe('running');
    } finally {
      await s.close();
    }
  });

  it('runs without an HTTP listener when listen is ""', async () => {
    await using s = await startServer({
      connector: scriptedConnector({}),
      config: { listen: '', mcpServers: [{ name: 'one', command: 'scripted' }] },
    });
    expect(s.running.url).toBeUndefined();
    await waitForState(s.view, 'one', 'ready');
  });

  it('a hand edit of the config file reaches the bus as config_reloaded and is reconciled into actors', async () => {
    await using s = await startServer({
      connector: scriptedConnector({}),
      config: { mcpServers: [{ name: 'one', command: 'scripted' }] },
    });
    await waitForState(s.view, 'one', 'ready');
    const reloaded = waitForEvent(s.bus, (e) => e.type === 'config_reloaded' && e.data.source === 'file');
    writeConfig(s.configPath, {
      listen: '127.0.0.1:0',
      mcpServers: [
        { name: 'one', command: 'scripted' },
        { name: 'two', command: 'scripted' },
      ],
    });
    expect((await reloaded).data).toMatchObject({ source: 'file', ok: true });
    await waitForState(s.view, 'two', 'ready');
    const metrics = await s.api('/metrics');
    expect(metrics.text).toContain('mcpproxy_supervisor_reconciliations_total 2');
  });

  it('publishes system_metrics on its interval and config_reloaded on a reload', async () => {
    const clock = createFakeClock();
    await using s = await startServer({
      clock,
      watchConfig: false,
      connector: scriptedConnector({}),
      config: { mcpServers: [{ name: 'one', command: 'scripted' }] },
    });
    await waitForState(s.view, 'one', 'ready');
    const metrics = waitForEvent(s.bus, (e) => e.type === 'system_metrics');
    await clock.advanceAsync(10_000);
    const event = await metrics;
    expect(event.data).toMatchObject({ total: 1, ready: 1, error: 0, ws_clients: 0 });
    const reloaded = waitForEvent(s.bus, (e) => e.type === 'config_reloaded');
    expect((await s.api('/api/v1/config/reload', { method: 'POST' })).status).toBe(200);
    expect((await reloaded).data).toMatchObject({ source: 'api', ok: true });
  });
});
