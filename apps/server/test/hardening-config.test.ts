import { lstat, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer, waitForEvent, writeConfig } from './helpers.js';

// Issue 16, items 5 and 6 through the real server: reserved server names in the object form of mcpServers, and a
// config file that becomes a symlink while the server runs.

const configReloaded = (ok: boolean) => (e: { type: string; data?: unknown }) =>
  e.type === 'config_reloaded' &&
  (e.data as { source: string; ok: boolean }).source === 'file' &&
  (e.data as { ok: boolean }).ok === ok;

describe('issue 16: reserved server names', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'POST /config/validate refuses a "%s" key in the object form with the name rule',
    async (name) => {
      await using s = await startServer();
      const res = await s.api('/api/v1/config/validate', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"mcpServers": {"ok": {"command": "x"}, "${name}": {"command": "y"}}}`,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.ok).toBe(false);
      expect(res.body.issues).toEqual([expect.objectContaining({ path: `mcpServers.${name}`, rule: 'server_name' })]);
    },
  );

  it.each(['__proto__', 'constructor', 'prototype'])('POST /servers refuses the name "%s"', async (name) => {
    await using s = await startServer();
    const res = await s.api('/api/v1/servers', { method: 'POST', json: { name, command: 'x' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: 'name' })]);
    expect((await s.api('/api/v1/servers')).body.servers).toEqual([]);
  });

  it('a hand edit adding a "__proto__" server is rejected (not silently dropped) and the running config stays', async () => {
    await using s = await startServer({ config: { mcpServers: { ok: { command: 'x', enabled: false } } } });
    const rejected = waitForEvent(s.bus, configReloaded(false), 10_000, 'the rejected hand edit');
    await writeFile(
      s.configPath,
      '{"listen": "127.0.0.1:0", "mcpServers": {"ok": {"command": "x", "enabled": false}, "__proto__": {"command": "y"}}}',
    );
    const event = await rejected;
    expect(event.data).toMatchObject({
      ok: false,
      issues: [expect.objectContaining({ path: 'mcpServers.__proto__', rule: 'server_name' })],
    });
    expect((await s.api('/api/v1/servers')).body.servers.map((r: { name: string }) => r.name)).toEqual(['ok']);
  });
});

describe('issue 16: a config file replaced by a symlink while running', () => {
  it('reloads edits of the target, and POST /servers saves into the target and keeps the link', async () => {
    await using s = await startServer({ config: { mcpServers: [] } });
    const dotfiles = join(s.dataDir, 'dotfiles');
    await mkdir(dotfiles);
    const target = join(dotfiles, 'mcp_config.json');
    writeConfig(target, { listen: '127.0.0.1:0', mcpServers: [{ name: 'linked', command: 'x', enabled: false }] });

    // Replace the file with a link, in one rename (as `ln -sfn` or a dotfile manager does).
    let reloaded = waitForEvent(s.bus, configReloaded(true), 10_000, 'the reload of the new link');
    await symlink(target, `${s.configPath}.link`);
    await rename(`${s.configPath}.link`, s.configPath);
    await reloaded;
    const names = async () => (await s.api('/api/v1/servers')).body.servers.map((r: { name: string }) => r.name);
    expect(await names()).toEqual(['linked']);

    // A hand edit of the target, in its own directory, is picked up.
    reloaded = waitForEvent(s.bus, configReloaded(true), 10_000, 'the reload of the edited target');
    writeConfig(target, {
      listen: '127.0.0.1:0',
      mcpServers: [
        { name: 'linked', command: 'x', enabled: false },
        { name: 'edited', command: 'x', enabled: false },
      ],
    });
    await reloaded;
    expect(await names()).toEqual(['edited', 'linked']);

    // Two API writes in a row: neither is a CONFLICT, both land in the target, and the link stays a link.
    for (const name of ['api-1', 'api-2']) {
      const res = await s.api('/api/v1/servers', { method: 'POST', json: { name, command: 'x', enabled: false } });
      expect(res.status, res.text).toBe(201);
    }
    expect((await lstat(s.configPath)).isSymbolicLink()).toBe(true);
    const saved = JSON.parse(await readFile(target, 'utf8')) as { mcpServers: { name: string }[] };
    expect(saved.mcpServers.map((e) => e.name)).toEqual(['linked', 'edited', 'api-1', 'api-2']);
  });
});
