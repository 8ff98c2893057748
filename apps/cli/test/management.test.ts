import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '@mcpproxy/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/cli-error.js';
import { everything, type LiveServer, mcpproxy, startServer, untilRow } from './cli-run.js';
import { tempDir } from './helpers.js';

let server: LiveServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer({
    mcpServers: [
      everything('everything', { groups: ['dev'] }),
      { name: 'parked', command: 'true', quarantined: true, groups: ['dev'] },
    ],
  });
  env = { MCPPROXY_URL: server.url };
  await untilRow(server, 'everything', (r) => r.state === 'ready');
});
afterAll(() => server?.close());

const json = (out: string) => JSON.parse(out) as Record<string, unknown>;
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes on purpose
const ANSI = /\x1b\[/;

describe('mcpproxy status and upstream list', () => {
  it('prints status as a table and as JSON', async () => {
    const table = await mcpproxy(['status'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^State\s+running$/m);
    expect(table.stdout).toMatch(/^Servers\s+2 total$/m);
    const out = await mcpproxy(['status', '-o', 'json'], { env });
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toMatchObject({ url: server.url, app: { state: 'running' }, servers: { total: 2 } });
  });

  it('lists servers as a table that fits COLUMNS, without colour on a pipe, and as JSON', async () => {
    const table = await mcpproxy(['upstream', 'list'], { env });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+PROTOCOL/);
    expect(lines[1]).toMatch(/^everything\s+ready\s/);
    expect(lines[2]).toMatch(/^parked\s+quarantined\s/);
    expect(table.stdout).not.toMatch(ANSI);
    const narrow = await mcpproxy(['upstream', 'list'], { env: { ...env, COLUMNS: '40' } });
    const cut = narrow.stdout.trimEnd().split('\n');
    for (const line of cut) expect([...line].length).toBeLessThanOrEqual(40);
    expect(cut.some((line) => line.includes('…'))).toBe(true);
    const out = await mcpproxy(['upstream', 'list', '-o', 'json'], { env });
    const servers = json(out.stdout).servers as { name: string; state: string }[];
    expect(servers.map((s) => [s.name, s.state])).toEqual([
      ['everything', 'ready'],
      ['parked', 'quarantined'],
    ]);
  });
});

describe('mcpproxy upstream changes', () => {
  it('adds (quarantined), shows, quarantines back and removes a server', async () => {
    const add = await mcpproxy(
      ['upstream', 'add', 'extra', '--group', 'tmp', '--env', 'A=1=2', '--', 'true', '--flag'],
      { env },
    );
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('added extra: quarantined');
    expect(add.stdout).toContain('mcpproxy upstream unquarantine extra');
    const detail = server.running.services.config.snapshot().mcpServers.find((s) => s.name === 'extra');
    expect(detail).toMatchObject({
      command: 'true',
      args: ['--flag'],
      env: { A: '1=2' },
      groups: ['tmp'],
      quarantined: true,
    });

    const http = await mcpproxy(
      ['upstream', 'add', 'remote', 'http://127.0.0.1:9/mcp', '--header', 'Authorization: Bearer t0k', '-o', 'json'],
      { env },
    );
    expect(json(http.stdout)).toMatchObject({ name: 'remote', quarantined: true });
    const remote = server.running.services.config.snapshot().mcpServers.find((s) => s.name === 'remote');
    expect(remote).toMatchObject({ url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer t0k' } });

    const removed = await mcpproxy(['upstream', 'remove', 'extra', '-o', 'json'], { env });
    expect(json(removed.stdout)).toEqual({ removed: 'extra' });
    expect((await mcpproxy(['upstream', 'remove', 'remote'], { env })).code).toBe(0);
    expect(server.running.services.view.server('extra')).toBeUndefined();
  });

  it('disables and enables one server, as a line and as JSON', async () => {
    const off = await mcpproxy(['upstream', 'disable', 'everything'], { env });
    expect(off.code).toBe(0);
    expect(off.stdout).toBe('disabled everything: disabled\n');
    const on = await mcpproxy(['upstream', 'enable', 'everything', '-o', 'json'], { env });
    expect(json(on.stdout)).toMatchObject({ name: 'everything', enabled: true });
    await untilRow(server, 'everything', (r) => r.state === 'ready');
  });

  it('runs bulk operations on a group with a summary, and exits 1 when any failed', async () => {
    const restart = await mcpproxy(['upstream', 'restart', '--group', 'dev'], { env });
    expect(restart.stdout).toMatch(/^everything\s+ok/m);
    expect(restart.stdout).toContain('restart: ');
    expect(restart.stdout).toMatch(/succeeded, .* failed \(of 2\)/);

    // The quarantined server cannot be enabled before a person approves it: one success, one failure.
    const enable = await mcpproxy(['upstream', 'enable', '--all', '-o', 'json'], { env });
    expect(enable.code).toBe(1);
    const result = json(enable.stdout) as { total: number; failed: number; results: Record<string, { ok: boolean }> };
    expect(result.total).toBe(2);
    expect(result.results.everything?.ok).toBe(true);
    expect(result.results.parked?.ok).toBe(false);

    const quarantine = await mcpproxy(['upstream', 'quarantine', '--group', 'dev', '-o', 'json'], { env });
    expect(json(quarantine.stdout)).toMatchObject({ total: 2, successful: 2, failed: 0 });
    await untilRow(server, 'everything', (r) => r.quarantined);
    const approve = await mcpproxy(['upstream', 'unquarantine', 'everything'], { env });
    expect(approve.code).toBe(0);
    await untilRow(server, 'everything', (r) => r.state === 'ready');
  });

  it('asks for a name or --all, and names the next step for an unknown server', async () => {
    const none = await mcpproxy(['upstream', 'restart'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('give a name, --all, or --group');
    const missing = await mcpproxy(['upstream', 'enable', 'nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope');
    expect(missing.stderr).toContain('mcpproxy upstream list');
  });
});

describe('mcpproxy tools and call', () => {
  it("lists a server's tools with their approval, and approves", async () => {
    const table = await mcpproxy(['upstream', 'tools', 'everything'], { env });
    expect(table.stdout).toMatch(/^echo\s+approved\s+clean\s+Echoes back/m);
    const list = await mcpproxy(['tools', 'list', 'everything', '-o', 'json'], { env });
    const tools = json(list.stdout).tools as { name: string; approval: string }[];
    expect(tools.some((t) => t.name === 'get-sum' && t.approval === 'approved')).toBe(true);
    const approve = await mcpproxy(['upstream', 'approve', 'everything'], { env });
    expect(approve.stdout).toBe('nothing to approve on everything\n');
  });

  it('searches tools, as a table and as JSON', async () => {
    const table = await mcpproxy(['tools', 'search', 'echo', '--limit', '2'], { env });
    expect(table.stdout).toMatch(/^TOOL\s+SCORE\s+DESCRIPTION\neverything:echo\s+\d/);
    const out = await mcpproxy(['tools', 'search', 'sum', 'numbers', '-o', 'json'], { env });
    expect((json(out.stdout).tools as { name: string }[])[0]?.name).toBe('everything:get-sum');
    const bad = await mcpproxy(['tools', 'search', 'x', '--limit', '0'], { env });
    expect(bad.code).toBe(1);
  });

  it('calls a tool: its text as a table, the whole result as JSON, and a clear error for bad --args', async () => {
    const text = await mcpproxy(['call', 'everything:echo', '--args', '{"message":"hello cli"}'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('Echo: hello cli\n');
    const out = await mcpproxy(['call', 'everything:get-sum', '-a', '{"a":2,"b":3}', '-o', 'json'], { env });
    expect(JSON.stringify(json(out.stdout).content)).toContain('5');
    const bad = await mcpproxy(['call', 'everything:echo', '--args', '{nope'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--args is not valid JSON');
    expect(bad.stderr).toContain('→');
  });
});

describe('mcpproxy doctor', () => {
  it('prints findings with fixes, as a table and as JSON', async () => {
    const table = await mcpproxy(['doctor'], { env });
    expect(table.stdout).toMatch(/^SEVERITY\s+SERVER\s+FINDING\s+FIX/);
    expect(table.stdout).toMatch(/parked.*quarantin/);
    const out = await mcpproxy(['doctor', '-o', 'json'], { env });
    const findings = json(out.stdout).findings as { code: string; server?: string; fix: string }[];
    const parked = findings.find((f) => f.code === 'QUARANTINED' && f.server === 'parked');
    expect(parked?.fix).toMatch(/\S/);
  });

  it('reports an unreachable server as a finding with its fix, exit 1', async () => {
    const out = await mcpproxy(['doctor', '--url', 'http://127.0.0.1:1', '-o', 'json'], { env });
    expect(out.code).toBe(1);
    const findings = json(out.stdout).findings as { code: string; fix: string }[];
    expect(findings).toContainEqual(expect.objectContaining({ code: 'SERVER_UNREACHABLE' }));
    expect(findings.find((f) => f.code === 'SERVER_UNREACHABLE')?.fix).toContain('mcpproxy serve');
  });
});

describe('where the URL and key come from, and exit codes', () => {
  it('exits 1 with "is the server running?" when nothing listens', async () => {
    const out = await mcpproxy(['upstream', 'list', '--url', 'http://127.0.0.1:1']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('cannot reach mcpproxy at http://127.0.0.1:1');
    expect(out.stderr).toContain('is the server running? start it with `mcpproxy serve`');
  });

  it('takes --url over MCPPROXY_URL, and MCPPROXY_URL over the config file', async () => {
    const flag = await mcpproxy(['status', '-o', 'json', '--url', server.url], {
      env: { MCPPROXY_URL: 'http://127.0.0.1:1' },
    });
    expect(flag.code).toBe(0);
    const dir = tempDir();
    try {
      const file = join(dir.path, 'mcp_config.json');
      writeFileSync(file, JSON.stringify({ listen: server.url.replace('http://', '') }));
      const fromFile = await mcpproxy(['status', '-o', 'json', '-c', file]);
      expect(json(fromFile.stdout).url).toBe(server.url);
      const fromDataDir = await mcpproxy(['status', '-o', 'json'], { env: { MCPPROXY_DATA: dir.path } });
      expect(json(fromDataDir.stdout).url).toBe(server.url);
      const envWins = await mcpproxy(['status', '-c', file], { env: { MCPPROXY_URL: 'http://127.0.0.1:1' } });
      expect(envWins.code).toBe(1);
    } finally {
      dir.cleanup();
    }
  });

  it('exits 4 when the config file it reads is not JSON', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'mcp_config.json');
      writeFileSync(file, '{ not json');
      const out = await mcpproxy(['upstream', 'list', '-c', file]);
      expect(out.code).toBe(4);
      expect(out.stderr).toContain('is not valid JSON');
      expect(out.stderr).toContain('mcpproxy config validate');
    } finally {
      dir.cleanup();
    }
  });

  it('exits 5 when the server refuses the key, and reads the key from the environment', async () => {
    const keyed = await startServer({ api_key: 'the-key' });
    try {
      const wrong = await mcpproxy(['status', '--url', keyed.url, '--api-key', 'wrong']);
      expect(wrong.code).toBe(5);
      expect(wrong.stderr).toContain('MCPPROXY_API_KEY');
      const right = await mcpproxy(['status', '--url', keyed.url], { env: { MCPPROXY_API_KEY: 'the-key' } });
      expect(right.code).toBe(0);
      const fromFile = await mcpproxy(['status', '--url', keyed.url, '-c', keyed.configPath]);
      expect(fromFile.code).toBe(0);
    } finally {
      await keyed.close();
    }
  });

  it('exits 2 when serve finds the port in use', async () => {
    const dir = tempDir();
    try {
      const out = await mcpproxy(['serve', '--data-dir', dir.path, '--listen', server.url.replace('http://', '')]);
      expect(out.code).toBe(2);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the program', () => {
  it('exits with the documented codes and reports the version without loading the server', async () => {
    // docs/cli.md: 0 ok, 1 error, 2 port in use, 3 data dir locked, 4 config error, 5 permission denied.
    expect(EXIT_CODES).toEqual({
      OK: 0,
      ERROR: 1,
      PORT_IN_USE: 2,
      DATA_DIR_LOCKED: 3,
      CONFIG_INVALID: 4,
      PERMISSION_DENIED: 5,
    });
    const version = await mcpproxy(['--version']);
    expect(version.stdout.trim()).toBe(VERSION);
  });

  it('names the commands for a typo instead of passing it to serve', async () => {
    const out = await mcpproxy(['upstrem', 'list']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("unknown command 'upstrem'");
    expect(out.stderr).toContain('upstream');
    const help = await mcpproxy(['upstream', 'restart', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('mcpproxy upstream restart --group dev');
  });
});

describe('mcpproxy config validate', () => {
  it('says valid (exit 0), or lists the issues (exit 4)', async () => {
    const dir = tempDir();
    try {
      const good = join(dir.path, 'good.json');
      writeFileSync(good, JSON.stringify({ mcpServers: [{ name: 'a', command: 'x' }] }));
      const ok = await mcpproxy(['config', 'validate', good]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('valid (1 servers)');
      const bad = join(dir.path, 'bad.json');
      writeFileSync(bad, JSON.stringify({ tools_limit: 'many', mcpServers: [{ name: 'a:b', command: 'x' }] }));
      const table = await mcpproxy(['config', 'validate', bad]);
      expect(table.code).toBe(4);
      expect(table.stdout).toContain('tools_limit');
      expect(table.stdout).toContain('mcpServers[0].name');
      const out = await mcpproxy(['config', 'validate', bad, '-o', 'json']);
      expect(out.code).toBe(4);
      expect(json(out.stdout)).toMatchObject({ ok: false });
      const missing = await mcpproxy(['config', 'validate', join(dir.path, 'none.json')]);
      expect(missing.code).toBe(4);
    } finally {
      dir.cleanup();
    }
  });
});
