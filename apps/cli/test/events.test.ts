import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { serve } from '@mcpproxy/server';
import { afterEach, describe, expect, it } from 'vitest';
import { type LiveServer, startServer } from './cli-run.js';
import { MAIN } from './helpers.js';

interface Stream {
  child: ChildProcess;
  lines(): Record<string, unknown>[];
  stderr(): string;
  /** Resolves when stdout has a line for which `match` holds, or stderr matches a RegExp. */
  until(match: RegExp | ((line: Record<string, unknown>) => boolean), timeoutMs?: number): Promise<void>;
  exited: Promise<number | string>;
}

const running: Stream[] = [];
const servers: LiveServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close();
});

function events(args: string[], url: string): Stream {
  const child = spawn(process.execPath, [MAIN, 'events', '--url', url, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    wake();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const stream: Stream = {
    child,
    lines,
    stderr: () => err,
    exited,
    until(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const ok = match instanceof RegExp ? match.test(err) : lines().some(match);
          if (!ok) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${match}\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
  running.push(stream);
  return stream;
}

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * A TCP relay in front of the server, so a test can cut the CLI's connection (and refuse new ones) while the
 * server itself keeps running: the CLI must then resume from its last seq, not start over. One HTTP request (the
 * WebSocket upgrade) per connection, as the CLI makes.
 */
async function relay(target: URL): Promise<{ url: string; cut(): void; open(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    // The server checks Host (DNS-rebinding defence), so the request head gets the server's own host:port.
    let head = '';
    const onHead = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onHead);
      upstream.write(Buffer.from(head.replace(/\r\nhost:[^\r]*/i, `\r\nHost: ${target.host}`), 'latin1'));
      client.pipe(upstream);
    };
    client.on('data', onHead);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    open() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const post = (url: string, path: string, body?: unknown) =>
  fetch(`${url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('mcpproxy events', () => {
  it('streams a change made through REST as one NDJSON line, filtered by --types and --server', async () => {
    const server = await startServer({
      mcpServers: [
        { name: 'a', command: 'true', quarantined: true },
        { name: 'b', command: 'true', quarantined: true },
      ],
    });
    servers.push(server);
    const stream = events(['--types', 'server_config_changed', '--server', 'a'], server.url);
    await stream.until(/live at/);

    expect((await post(server.url, '/servers/b/disable')).status).toBe(200);
    expect((await post(server.url, '/servers/a/disable')).status).toBe(200);
    await stream.until((l) => l.server === 'a');
    const lines = stream.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      type: 'server_config_changed',
      server: 'a',
      data: { change: 'disabled', summary: { name: 'a', enabled: false } },
    });
    expect(typeof lines[0]?.seq).toBe('number');

    stream.child.kill('SIGINT');
    expect(await within(stream.exited, 5_000)).toBe(0);
  });

  it('resumes after a dropped connection and prints the events it missed, without a gap', async () => {
    const server = await startServer({ mcpServers: [{ name: 'a', command: 'true', quarantined: true }] });
    servers.push(server);
    const link = await relay(new URL(server.url));
    try {
      const stream = events(['--types', 'server_config_changed'], link.url);
      await stream.until(/live at/);
      await post(server.url, '/servers', { name: 'one', command: 'true' });
      await stream.until((l) => l.server === 'one');

      link.cut();
      await stream.until(/connection lost/);
      // Made while the CLI is disconnected: it must still print them, in order, once it is back.
      await post(server.url, '/servers', { name: 'two', command: 'true' });
      await post(server.url, '/servers', { name: 'three', command: 'true' });
      link.open();
      await stream.until((l) => l.server === 'three');
      await post(server.url, '/servers', { name: 'four', command: 'true' });
      await stream.until((l) => l.server === 'four');

      const lines = stream.lines();
      expect(lines.map((l) => l.server)).toEqual(['one', 'two', 'three', 'four']);
      const seqs = lines.map((l) => l.seq as number);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(lines.map((l) => l.epoch)).size).toBe(1);
      expect(stream.stderr()).not.toContain('not available');
      stream.child.kill('SIGINT');
      expect(await within(stream.exited, 5_000)).toBe(0);
    } finally {
      await link.close();
    }
  });

  it('keeps streaming across a server restart, and says that events in between are lost', async () => {
    const server = await startServer({ mcpServers: [{ name: 'a', command: 'true', quarantined: true }] });
    servers.push(server);
    const port = (server.running.address as { port: number }).port;
    const stream = events(['--types', 'server_config_changed'], server.url);
    await stream.until(/live at/);
    await post(server.url, '/servers', { name: 'before', command: 'true' });
    await stream.until((l) => l.server === 'before');

    await server.running.close();
    await stream.until(/connection lost/);
    writeFileSync(server.configPath, JSON.stringify({ listen: `127.0.0.1:${port}`, mcpServers: [] }));
    const again = await serve({
      dataDir: server.dataDir,
      logLevel: 'silent',
      processMetrics: false,
      watchConfig: false,
    });
    server.running = again;
    await stream.until(/events in between are not available/);
    await post(server.url, '/servers', { name: 'after', command: 'true' });
    await stream.until((l) => l.server === 'after');
    const epochs = new Set(stream.lines().map((l) => l.epoch));
    expect(epochs.size).toBe(2);
    stream.child.kill('SIGINT');
    expect(await within(stream.exited, 5_000)).toBe(0);
  });

  it('refuses an unknown event type with the list of known ones', async () => {
    const stream = events(['--types', 'nope'], 'http://127.0.0.1:1');
    expect(await stream.exited).toBe(1);
    expect(stream.stderr()).toContain('unknown event type(s): nope');
    expect(stream.stderr()).toContain('server_state_changed');
  });
});
