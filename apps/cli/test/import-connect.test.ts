import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveServer, mcpproxy, startServer } from './cli-run.js';
import { tempDir } from './helpers.js';

let server: LiveServer;
let dir: { path: string; cleanup(): void };
beforeAll(async () => {
  server = await startServer();
  dir = tempDir();
});
afterAll(async () => {
  await server?.close();
  dir?.cleanup();
});

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
const json = (out: string) => JSON.parse(out) as Record<string, unknown>;

describe('mcpproxy config import', () => {
  it('adds the servers of a Claude Desktop file, quarantined, after a dry run that changes nothing', async () => {
    const file = join(dir.path, 'claude_desktop_config.json');
    writeFileSync(
      file,
      JSON.stringify({
        globalShortcut: 'Ctrl+Space',
        mcpServers: {
          filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] },
          memory: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-memory'],
            env: { MEMORY_FILE: '/tmp/m' },
          },
        },
      }),
    );
    const env = { MCPPROXY_URL: server.url };
    const dry = await mcpproxy(['config', 'import', file, '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^filesystem\s+would add\s+npx -y @modelcontextprotocol\/server-filesystem \/tmp/m);
    expect(dry.stdout).toContain('claude-desktop: would add 2');
    expect(server.running.services.view.snapshot().servers).toEqual([]);

    const out = await mcpproxy(['config', 'import', file, '-o', 'json'], { env });
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toMatchObject({
      client: 'claude-desktop',
      results: [
        { name: 'filesystem', result: 'added' },
        { name: 'memory', result: 'added' },
      ],
    });
    const rows = server.running.services.view.snapshot().servers;
    expect(rows.map((r) => [r.name, r.quarantined, r.state])).toEqual([
      ['filesystem', true, 'quarantined'],
      ['memory', true, 'quarantined'],
    ]);
    const memory = server.running.services.config.snapshot().mcpServers.find((s) => s.name === 'memory');
    expect(memory).toMatchObject({ command: 'npx', env: { MEMORY_FILE: '/tmp/m' } });

    const again = await mcpproxy(['config', 'import', file], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^memory\s+exists/m);
  });

  it('adds the servers of a Cursor file, stdio and HTTP', async () => {
    const cursorDir = join(dir.path, '.cursor');
    mkdirSync(cursorDir, { recursive: true });
    const file = join(cursorDir, 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          remote: { url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer secret' } },
          local: { command: 'node', args: ['server.js'] },
          broken: { nothing: true },
        },
      }),
    );
    const out = await mcpproxy(['config', 'import', file], { env: { MCPPROXY_URL: server.url } });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^remote\s+added/m);
    expect(out.stdout).toMatch(/^local\s+added/m);
    expect(out.stdout).toMatch(/^broken\s+skipped\s+has neither/m);
    expect(out.stdout).toContain('cursor: added 2, 0 failed, 1 skipped (of 3)');
    const remote = server.running.services.config.snapshot().mcpServers.find((s) => s.name === 'remote');
    expect(remote).toMatchObject({ url: 'http://127.0.0.1:9/mcp', quarantined: true });
    expect(remote?.headers).toEqual({ Authorization: 'Bearer secret' });
  });

  it('says what to do with a file that is not an MCP client config', async () => {
    const file = join(dir.path, 'other.json');
    writeFileSync(file, JSON.stringify({ hello: 'world' }));
    const out = await mcpproxy(['config', 'import', file, '--dry-run']);
    expect(out.code).toBe(4);
    expect(out.stderr).toContain('--from');
  });
});

describe('mcpproxy connect', () => {
  const original = {
    mcpServers: { github: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] } },
    theme: 'dark',
  };

  it('writes the /mcp entry into a copy of a Claude Desktop config with a backup, and takes it out again', async () => {
    const file = join(dir.path, 'claude', 'claude_desktop_config.json');
    mkdirSync(join(dir.path, 'claude'), { recursive: true });
    writeFileSync(file, JSON.stringify(original, null, 2));
    const env = { MCPPROXY_URL: server.url, MCPPROXY_API_KEY: 'k1' };

    const dry = await mcpproxy(['connect', 'claude-desktop', '--config-file', file, '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would be added');
    expect(read(file)).toEqual(original);
    expect(existsSync(`${file}.bak`)).toBe(false);

    const add = await mcpproxy(['connect', 'claude-desktop', '--config-file', file], { env });
    expect(add.code).toBe(0);
    const written = read(file);
    expect(written.theme).toBe('dark');
    expect(written.mcpServers?.github).toEqual(original.mcpServers.github);
    expect(written.mcpServers?.mcpproxy).toEqual({
      command: 'npx',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote expands it, not JavaScript
      args: ['-y', 'mcp-remote', `${server.url}/mcp`, '--header', 'Authorization:${MCPPROXY_AUTH}'],
      env: { MCPPROXY_AUTH: 'Bearer k1' },
    });
    expect(read(`${file}.bak`)).toEqual(original);

    const same = await mcpproxy(['connect', 'claude-desktop', '--config-file', file, '-o', 'json'], { env });
    expect(json(same.stdout)).toMatchObject({ change: 'unchanged' });

    const remove = await mcpproxy(['connect', 'claude-desktop', '--config-file', file, '--remove'], { env });
    expect(remove.code).toBe(0);
    expect(read(file)).toEqual(original);
  });

  it("finds Cursor's config in the home dir and writes a url entry", async () => {
    const home = join(dir.path, 'home');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    const file = join(home, '.cursor', 'mcp.json');
    writeFileSync(file, JSON.stringify(original));
    const env = { HOME: home, MCPPROXY_URL: server.url };
    const add = await mcpproxy(['connect', 'cursor', '-o', 'json'], { env });
    expect(json(add.stdout)).toMatchObject({ client: 'cursor', path: file, change: 'added', backup: `${file}.bak` });
    expect(read(file).mcpServers?.mcpproxy).toEqual({ url: `${server.url}/mcp` });
    const remove = await mcpproxy(['connect', 'cursor', '--remove'], { env });
    expect(remove.stdout).toContain('removed');
    expect(read(file)).toEqual(original);
  });

  it('creates a VS Code mcp.json under "servers" when there is none', async () => {
    const file = join(dir.path, 'vscode', 'mcp.json');
    const add = await mcpproxy(['connect', 'vscode', '--config-file', file], { env: { MCPPROXY_URL: server.url } });
    expect(add.code).toBe(0);
    expect(read(file)).toEqual({ servers: { mcpproxy: { type: 'http', url: `${server.url}/mcp` } } });
    expect(existsSync(`${file}.bak`)).toBe(false);
    await mcpproxy(['connect', 'vscode', '--config-file', file, '--remove'], { env: { MCPPROXY_URL: server.url } });
    expect(read(file)).toEqual({ servers: {} });
  });

  it('refuses an unknown client and names the known ones', async () => {
    const out = await mcpproxy(['connect', 'notepad']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('claude-desktop, cursor, vscode');
  });
});
