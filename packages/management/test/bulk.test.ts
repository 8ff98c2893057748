import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createStack, human } from './helpers/stack.js';

const servers = [
  { name: 'a', command: 'a-mcp', groups: ['dev'] },
  { name: 'b', command: 'b-mcp', groups: ['dev', 'ops'] },
  { name: 'c', command: 'c-mcp', groups: ['ops'] },
  { name: 'q', command: 'q-mcp', groups: ['dev'], quarantined: true },
];

describe('bulk operations', () => {
  it('disables a group in one config save and reports each server', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    await Promise.all(['a', 'b', 'c'].map((n) => s.reach(n, 'ready')));
    const saves = s.events.of('config_reloaded').length;
    const result = await s.mgmt.disableAll({ group: 'dev' }, human);
    expect(result).toEqual({
      total: 3,
      successful: 3,
      failed: 0,
      results: { a: { ok: true }, b: { ok: true }, q: { ok: true } },
    });
    expect(s.events.of('config_reloaded').length).toBe(saves + 1);
    const file = s.json().mcpServers;
    expect(file.filter((e) => e.enabled === false).map((e) => e.name)).toEqual(['a', 'b', 'q']);
    expect(s.view.server('a')?.state).toBe('disabled');
    expect(s.view.server('b')?.state).toBe('disabled');
    expect(s.view.server('c')?.state).toBe('ready');
  });

  it('enables every server, continuing past a quarantined one that fails', async () => {
    await using s = await createStack({
      file: { mcpServers: servers.map((e) => ({ ...e, enabled: false })) },
    });
    const saves = s.events.of('config_reloaded').length;
    const result = await s.mgmt.enableAll({}, human);
    expect(result.total).toBe(4);
    expect(result.successful).toBe(3);
    expect(result.failed).toBe(1);
    expect(result.results.q).toEqual({ ok: false, error: expect.stringMatching(/quarantined/) });
    expect(result.results.a).toEqual({ ok: true });
    expect(s.events.of('config_reloaded').length).toBe(saves + 1);
    await Promise.all(['a', 'b', 'c'].map((n) => s.reach(n, 'ready')));
    expect(s.json().mcpServers.find((e) => e.name === 'q')).toMatchObject({ enabled: false, quarantined: true });
    expect(s.connector.attempts('q')).toBe(0);
  });

  it('restarts a group in parallel, continuing past servers that cannot restart', async () => {
    await using s = await createStack({
      file: { mcpServers: [...servers, { name: 'off', command: 'x', groups: ['ops'], enabled: false }] },
    });
    await Promise.all(['a', 'b', 'c'].map((n) => s.reach(n, 'ready')));
    const result = await s.mgmt.restartAll({ group: 'ops' }, human);
    expect(result).toMatchObject({ total: 3, successful: 2, failed: 1 });
    expect(result.results.off).toEqual({ ok: false, error: expect.stringMatching(/disabled/) });
    expect(s.connector.attempts('b')).toBe(2);
    expect(s.connector.attempts('c')).toBe(2);
    expect(s.connector.attempts('a')).toBe(1);
  });

  it('answers zero servers for a group nobody is in', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    expect(await s.mgmt.restartAll({ group: 'nobody' }, human)).toEqual({
      total: 0,
      successful: 0,
      failed: 0,
      results: {},
    });
  });

  it('fails every server of a bulk change when the save itself fails, and writes nothing', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    // A hand edit the config service has not read yet: its save stops with CONFLICT instead of overwriting it.
    const edited = `${JSON.stringify({ listen: '127.0.0.1:8080', mcpServers: [] })}\n`;
    writeFileSync(s.path, edited);
    const result = await s.mgmt.disableAll({}, human);
    expect(result).toMatchObject({ total: 4, successful: 0, failed: 4 });
    expect(result.results.a?.error).toMatch(/changed on disk/);
    expect(s.file()).toBe(edited);
  });
});
