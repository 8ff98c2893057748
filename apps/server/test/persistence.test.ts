import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFakeClock, ToolInfoSchema } from '@mcpproxy/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { acquireLock, EXIT_CODES, openApprovalsStore, ServeError } from '../src/index.js';
import { fixture, scriptedConnector, startServer, tempDir, waitForState, waitForView } from './helpers.js';

const dirs: { cleanup(): void }[] = [];
const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('approvals store (file-backed, write-behind)', () => {
  it('reads synchronously from memory and writes behind atomically, leaving no temp files', async () => {
    const path = join(dir(), 'approvals.json');
    const clock = createFakeClock();
    const store = await openApprovalsStore({ path, clock });
    store.set('github', new Map([['search', 'h1']]));
    store.set(
      'github',
      new Map([
        ['search', 'h2'],
        ['issue', 'h3'],
      ]),
    );
    expect(store.get('github')?.get('search')).toBe('h2');
    // Debounced: one pending write for the burst, nothing on disk yet.
    expect(clock.pending()).toBe(1);
    expect(existsSync(path)).toBe(false);
    await store.flush();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      servers: { github: { issue: 'h3', search: 'h2' } },
    });
    expect(readdirSync(join(path, '..'))).toEqual(['approvals.json']);
    store.delete('github');
    await store.close();
    expect(JSON.parse(readFileSync(path, 'utf8')).servers).toEqual({});
    expect(clock.pending()).toBe(0);

    const reopened = await openApprovalsStore({ path, clock });
    expect(reopened.get('github')).toBeUndefined();
    await reopened.close();
  });

  it('keeps approvals across a reopen, and close() flushes what was still pending', async () => {
    const path = join(dir(), 'approvals.json');
    const store = await openApprovalsStore({ path, clock: createFakeClock() });
    store.set('a', new Map([['t', 'x']]));
    await store.close();
    const again = await openApprovalsStore({ path });
    expect(again.get('a')?.get('t')).toBe('x');
    await again.close();
  });

  it('refuses to start on a corrupt approvals file (exit 1) rather than silently re-baselining every tool', async () => {
    const path = join(dir(), 'approvals.json');
    writeFileSync(path, '{"version": 1, "servers": {"a": {"t": 5}}}');
    const error = await openApprovalsStore({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).code).toBe('START_FAILED');
    expect((error as ServeError).exitCode).toBe(EXIT_CODES.ERROR);
  });
});

describe('data dir lock', () => {
  it('refuses a second holder while the first is alive (exit 3), and frees the dir on release', async () => {
    const d = dir();
    const first = await acquireLock(d);
    const error = await acquireLock(d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).exitCode).toBe(EXIT_CODES.DATA_DIR_LOCKED);
    expect((error as ServeError).message).toContain(String(process.pid));
    await first.release();
    expect(existsSync(first.path)).toBe(false);
    const second = await acquireLock(d);
    await second.release();
  });

  it('takes over a stale lock whose process is gone', async () => {
    const d = dir();
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(child.stdout);
    writeFileSync(
      join(d, 'mcpproxy.lock'),
      JSON.stringify({ pid: deadPid, hostname: (await import('node:os')).hostname(), token: 'old', started_at: '' }),
    );
    const lock = await acquireLock(d);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('a second instance on the same data dir fails with exit 3 and leaves the first running', async () => {
    await using first = await startServer({ connector: scriptedConnector({}) });
    const error = await startServer({ connector: scriptedConnector({}), dataDir: first.dataDir }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).exitCode).toBe(3);
    expect((await first.api('/api/v1/status')).status).toBe(200);
  });
});

describe('tool approvals survive a restart', () => {
  it('catches a rug pull across a restart: the changed tool is refused (409) until a person approves it', async () => {
    const dataDir = dir();
    const rugState = join(dataDir, 'rug-starts');
    const config = { mcpServers: [fixture('rug', 'rugpull-server.mjs', { env: { RUG_STATE: rugState } })] };

    {
      await using s = await startServer({ dataDir, env: process.env, config });
      await waitForState(s.view, 'rug', 'ready');
      const tools = z.array(ToolInfoSchema).parse((await s.api('/api/v1/servers/rug/tools')).body.tools);
      expect(tools.map((t) => [t.name, t.approval])).toEqual([
        ['echo', 'approved'],
        ['add', 'approved'],
      ]);
    }
    // The baseline is on disk after a graceful stop.
    const stored = JSON.parse(readFileSync(join(dataDir, 'approvals.json'), 'utf8'));
    expect(Object.keys(stored.servers.rug).sort()).toEqual(['add', 'echo']);
    // With the approved definitions, each beside its hash.
    expect(stored.definitions.rug.echo).toEqual({
      hash: stored.servers.rug.echo,
      definition: expect.objectContaining({ description: 'Echoes the message back' }),
    });

    await using s = await startServer({ dataDir, env: process.env, config });
    await waitForState(s.view, 'rug', 'ready');
    await waitForView(s.view, () => s.view.server('rug')?.changed_tools === 1, 5_000, 'the changed tool');
    expect(readFileSync(rugState, 'utf8')).toBe('2');

    const tools = z.array(ToolInfoSchema).parse((await s.api('/api/v1/servers/rug/tools')).body.tools);
    const echo = tools.find((t) => t.name === 'echo');
    expect(echo?.approval).toBe('changed');
    expect(echo?.approved_hash).toBe(stored.servers.rug.echo);
    expect(echo?.description).toContain('~/.ssh/id_rsa');
    // The review still shows what was approved, though this process never listed it.
    expect(echo?.approved_definition).toEqual({
      description: 'Echoes the message back',
      inputSchema: stored.definitions.rug.echo.definition.inputSchema,
    });
    expect(tools.find((t) => t.name === 'add')?.approval).toBe('approved');

    const refused = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'rug:echo', arguments: { message: 'x' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('TOOL_BLOCKED');
    const search = await s.api('/api/v1/tools?q=echoes%20message');
    expect(search.body.tools.map((h: { name: string }) => h.name)).not.toContain('rug:echo');
    expect(
      (await s.api('/api/v1/tools/call', { method: 'POST', json: { name: 'rug:add', arguments: { a: 1, b: 2 } } }))
        .status,
    ).toBe(200);

    const approved = await s.api('/api/v1/servers/rug/tools/approve', { method: 'POST', json: { tools: ['echo'] } });
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body.approved).toEqual(['echo']);
    const ok = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'rug:echo', arguments: { message: 'x' } },
    });
    expect(ok.status).toBe(200);
    await s.running.services.approvals.flush();
    const after = JSON.parse(readFileSync(join(dataDir, 'approvals.json'), 'utf8'));
    expect(after.servers.rug.echo).toBe(echo?.hash);
    // The approved definition is now the new one.
    expect(after.definitions.rug.echo.hash).toBe(echo?.hash);
    expect(after.definitions.rug.echo.definition.description).toContain('~/.ssh/id_rsa');
  });

  it('a hashes-only approvals file (as older versions wrote) still catches the change, with no "before" to show', async () => {
    const dataDir = dir();
    const rugState = join(dataDir, 'rug-starts');
    const config = { mcpServers: [fixture('rug', 'rugpull-server.mjs', { env: { RUG_STATE: rugState } })] };
    {
      await using s = await startServer({ dataDir, env: process.env, config });
      await waitForState(s.view, 'rug', 'ready');
    }
    const path = join(dataDir, 'approvals.json');
    const { servers } = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ version: 1, servers }));

    await using s = await startServer({ dataDir, env: process.env, config });
    await waitForState(s.view, 'rug', 'ready');
    await waitForView(s.view, () => s.view.server('rug')?.changed_tools === 1, 5_000, 'the changed tool');
    const tools = z.array(ToolInfoSchema).parse((await s.api('/api/v1/servers/rug/tools')).body.tools);
    const echo = tools.find((t) => t.name === 'echo');
    expect(echo).toMatchObject({ approval: 'changed', approved_hash: servers.rug.echo });
    expect(echo?.approved_definition).toBeUndefined();
    // The unchanged tool's definition is filled in from this listing; the changed one keeps its hash only.
    await s.running.services.approvals.flush();
    const now = JSON.parse(readFileSync(path, 'utf8'));
    expect(now.servers).toEqual(servers);
    expect(Object.keys(now.definitions.rug)).toEqual(['add']);
  });
});
