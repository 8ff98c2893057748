// Client config files with comments and trailing commas (JSONC), as VS Code writes them and people copy them into
// Cursor and Claude Desktop: `config import` reads them, `connect` edits them and keeps every comment, or refuses
// and names the file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
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

/** A workspace .vscode/mcp.json as VS Code's docs show it: inputs, comments of both kinds, trailing commas. */
const VSCODE_MCP = `{
  // 💡 Inputs are prompted on first server start, then stored securely by VS Code.
  "inputs": [
    {
      "type": "promptString",
      "id": "perplexity-key",
      "description": "Perplexity API Key",
      "password": true,
    },
  ],
  "servers": {
    /* Local servers, started by VS Code over stdio */
    "Perplexity": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "server-perplexity-ask"], // pinned in package.json
      "env": {
        "PERPLEXITY_API_KEY": "\${input:perplexity-key}",
      },
    },
    // Remote servers
    "fetch-remote": {
      "type": "http",
      "url": "http://127.0.0.1:9/mcp",
      "headers": { "X-Team": "docs" },
    },
  },
}
`;
const VSCODE_COMMENTS = [
  '// 💡 Inputs are prompted on first server start, then stored securely by VS Code.',
  '/* Local servers, started by VS Code over stdio */',
  '// pinned in package.json',
  '// Remote servers',
];

const parsed = (text: string) =>
  parse(text, [], { allowTrailingComma: true }) as Record<string, Record<string, unknown>>;
const json = (out: string) => JSON.parse(out) as Record<string, unknown>;

describe('mcpproxy config import of JSONC client files', () => {
  it('adds the servers of a VS Code mcp.json with // and /* */ comments and trailing commas', async () => {
    mkdirSync(join(dir.path, 'project', '.vscode'), { recursive: true });
    const file = join(dir.path, 'project', '.vscode', 'mcp.json');
    writeFileSync(file, VSCODE_MCP);
    const out = await mcpproxy(['config', 'import', file, '-o', 'json'], { env: { MCPPROXY_URL: server.url } });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toMatchObject({
      client: 'vscode',
      results: [
        { name: 'Perplexity', result: 'added' },
        { name: 'fetch-remote', result: 'added' },
      ],
    });
    const servers = server.running.services.config.snapshot().mcpServers;
    expect(servers.find((s) => s.name === 'Perplexity')).toMatchObject({
      protocol: 'stdio',
      command: 'npx',
      args: ['-y', 'server-perplexity-ask'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own input reference, kept as written
      env: { PERPLEXITY_API_KEY: '${input:perplexity-key}' },
      quarantined: true,
    });
    expect(servers.find((s) => s.name === 'fetch-remote')).toMatchObject({
      protocol: 'streamable-http',
      url: 'http://127.0.0.1:9/mcp',
      headers: { 'X-Team': 'docs' },
      quarantined: true,
    });
    expect(readFileSync(file, 'utf8')).toBe(VSCODE_MCP); // import only reads
  });

  it('adds the servers of a VS Code user settings.json ("mcp": {"servers": …}) among other settings and comments', async () => {
    const file = join(dir.path, 'Code', 'User', 'settings.json');
    mkdirSync(join(dir.path, 'Code', 'User'), { recursive: true });
    writeFileSync(
      file,
      [
        '{',
        '  "editor.fontSize": 14,',
        '  // "editor.formatOnSave": true,',
        '  "files.exclude": { "**/.git": true, },',
        '  /* MCP servers, from before mcp.json existed */',
        '  "mcp": {',
        '    "servers": {',
        '      "time": { "command": "uvx", "args": ["mcp-server-time", "--local-timezone=Europe/Paris"] }, // handy',
        '    },',
        '  },',
        '}',
        '',
      ].join('\n'),
    );
    const out = await mcpproxy(['config', 'import', file, '--dry-run', '-o', 'json']);
    expect(out.code).toBe(0);
    expect(json(out.stdout)).toEqual({
      client: 'vscode',
      dry_run: true,
      results: [{ name: 'time', result: 'would add', detail: 'uvx mcp-server-time --local-timezone=Europe/Paris' }],
    });
  });

  it('reads a Claude Desktop file with comments, saved by Notepad (byte-order mark, CRLF), in a dry run', async () => {
    const file = join(dir.path, 'claude_desktop_config.json');
    writeFileSync(
      file,
      '\uFEFF{\r\n  "mcpServers": {\r\n    // notes for me\r\n    "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory",], },\r\n  },\r\n}\r\n',
    );
    const out = await mcpproxy(['config', 'import', file, '--dry-run']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^memory\s+would add\s+npx -y @modelcontextprotocol\/server-memory/m);
    expect(out.stdout).toContain('claude-desktop: would add 1');
  });

  it('says which line and column of a broken file is wrong, and exits 4', async () => {
    const file = join(dir.path, 'broken-mcp.json');
    writeFileSync(file, '{\n  // a comment is fine\n  "servers": {\n    "a": { "command": "x" }\n  \n');
    const out = await mcpproxy(['config', 'import', file, '--dry-run']);
    expect(out.code).toBe(4);
    expect(out.stderr).toContain(file);
    expect(out.stderr).toMatch(/CloseBraceExpected at line \d+, column \d+/);
  });
});

describe('mcpproxy connect into JSONC client files', () => {
  it('adds its entry to a commented VS Code mcp.json, keeps every comment, and takes it out again', async () => {
    const file = join(dir.path, 'vscode-user', 'mcp.json');
    mkdirSync(join(dir.path, 'vscode-user'), { recursive: true });
    writeFileSync(file, VSCODE_MCP);
    const env = { MCPPROXY_URL: server.url, MCPPROXY_API_KEY: 'k2' };

    const add = await mcpproxy(['connect', 'vscode', '--config-file', file, '-o', 'json'], { env });
    expect(add.stderr).toBe('');
    expect(json(add.stdout)).toMatchObject({ change: 'added', backup: `${file}.bak` });
    const written = readFileSync(file, 'utf8');
    for (const comment of VSCODE_COMMENTS) expect(written).toContain(comment);
    const value = parsed(written);
    expect(value.servers?.mcpproxy).toEqual({
      type: 'http',
      url: `${server.url}/mcp`,
      headers: { Authorization: 'Bearer k2' },
    });
    const original = parsed(VSCODE_MCP);
    expect(value.servers?.Perplexity).toEqual(original.servers?.Perplexity);
    expect(value.inputs).toEqual(original.inputs);
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(VSCODE_MCP); // the backup is the file as it was, byte for byte

    const remove = await mcpproxy(['connect', 'vscode', '--config-file', file, '--remove'], { env });
    expect(remove.code).toBe(0);
    const after = readFileSync(file, 'utf8');
    for (const comment of VSCODE_COMMENTS) expect(after).toContain(comment);
    expect(parsed(after)).toEqual(original);
  });

  it('edits a commented Cursor mcp.json in place: only the lines of its entry change', async () => {
    const home = join(dir.path, 'home-jsonc');
    mkdirSync(join(home, '.cursor'), { recursive: true });
    const file = join(home, '.cursor', 'mcp.json');
    const text = [
      '{',
      '  /* Cursor: global MCP servers */',
      '  "mcpServers": {',
      '    "github": {',
      '      "command": "npx", // the official one',
      '      "args": ["-y", "@modelcontextprotocol/server-github"],',
      '    },',
      '  },',
      '}',
      '',
    ].join('\n');
    writeFileSync(file, text);
    const env = { HOME: home, MCPPROXY_URL: server.url };
    const add = await mcpproxy(['connect', 'cursor'], { env });
    expect(add.code).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(written.startsWith(text.split('\n').slice(0, 6).join('\n'))).toBe(true); // untouched up to the change
    expect(written).toContain('"command": "npx", // the official one');
    expect(parsed(written).mcpServers?.mcpproxy).toEqual({ url: `${server.url}/mcp` });

    const again = await mcpproxy(['connect', 'cursor', '-o', 'json'], { env });
    expect(json(again.stdout)).toMatchObject({ change: 'unchanged' });
    expect(readFileSync(file, 'utf8')).toBe(written);
  });

  it('keeps the byte-order mark and CRLF line ends of a Claude Desktop file saved by Notepad', async () => {
    const file = join(dir.path, 'win', 'claude_desktop_config.json');
    mkdirSync(join(dir.path, 'win'), { recursive: true });
    const text = '\uFEFF{\r\n  // mine\r\n  "mcpServers": {\r\n    "memory": { "command": "npx" },\r\n  },\r\n}\r\n';
    writeFileSync(file, text);
    const add = await mcpproxy(['connect', 'claude-desktop', '--config-file', file], {
      env: { MCPPROXY_URL: server.url },
    });
    expect(add.code).toBe(0);
    const written = readFileSync(file, 'utf8');
    expect(written.charCodeAt(0)).toBe(0xfeff);
    expect(written.replace(/\r\n/g, '')).not.toContain('\n'); // every line end is still CRLF
    expect(written).toContain('// mine');
    expect(parsed(written.slice(1)).mcpServers?.mcpproxy).toMatchObject({ command: 'npx' });
  });

  it('refuses to write into a VS Code settings.json, which keeps its servers under "mcp.servers"', async () => {
    const file = join(dir.path, 'settings-only', 'settings.json');
    mkdirSync(join(dir.path, 'settings-only'), { recursive: true });
    const text = '{\n  // mine\n  "mcp": { "servers": { "time": { "command": "uvx" } } },\n}\n';
    writeFileSync(file, text);
    const out = await mcpproxy(['connect', 'vscode', '--config-file', file], { env: { MCPPROXY_URL: server.url } });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`${file} is a VS Code settings.json`);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('refuses to replace a non-object "servers" that holds comments, names the file, and writes nothing', async () => {
    const file = join(dir.path, 'odd', 'mcp.json');
    mkdirSync(join(dir.path, 'odd'), { recursive: true });
    const text = '{\n  "servers": [\n    // moved to the team file\n  ],\n}\n';
    writeFileSync(file, text);
    const out = await mcpproxy(['connect', 'vscode', '--config-file', file], { env: { MCPPROXY_URL: server.url } });
    expect(out.code).toBe(4);
    expect(out.stderr).toContain(file);
    expect(out.stderr).toContain('would drop the comments');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });
});
