import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientError } from '@mcpproxy/client';
import type { ServerSummary } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { CliError, explain } from '../src/cli-error.js';
import { defaultConfigPath, detectClient, importServers, mcpproxyEntry } from '../src/client-configs.js';
import { renderFrame } from '../src/commands/watch.js';
import { resolveTarget, urlOfListen } from '../src/context.js';
import { type Io, renderTable, truncate, useColor } from '../src/output.js';

const io = (over: Partial<Io> = {}): Io => ({
  stdout: { write: () => true },
  stderr: { write: () => true },
  env: {},
  isTTY: false,
  columns: undefined,
  ...over,
});

describe('renderTable', () => {
  const rows = [
    { name: 'github', state: 'ready', note: 'a long note that goes on and on' },
    { name: 'fs', state: 'error', note: 'ENOENT' },
  ];
  const cols = [
    { header: 'NAME', value: (r: (typeof rows)[number]) => r.name },
    { header: 'STATE', value: (r: (typeof rows)[number]) => r.state, color: () => 'red' as const },
    { header: 'NOTE', value: (r: (typeof rows)[number]) => r.note, flex: true },
  ];

  it('aligns columns and cuts the flexible column first to fit the width', () => {
    const wide = renderTable(rows, cols, io());
    expect(wide.split('\n')[1]).toBe('github  ready  a long note that goes on and on');
    const narrow = renderTable(rows, cols, io({ columns: 30 }))
      .trimEnd()
      .split('\n');
    for (const line of narrow) expect([...line].length).toBeLessThanOrEqual(30);
    expect(narrow[1]).toMatch(/^github {2}ready {2}a long note th…$/);
  });

  it('colours only on a TTY without NO_COLOR or TERM=dumb', () => {
    expect(useColor(io({ isTTY: true }))).toBe(true);
    expect(useColor(io({ isTTY: false }))).toBe(false);
    expect(useColor(io({ isTTY: true, env: { NO_COLOR: '1' } }))).toBe(false);
    expect(useColor(io({ isTTY: true, env: { TERM: 'dumb' } }))).toBe(false);
    expect(renderTable(rows, cols, io({ isTTY: true }))).toContain('\x1b[31mready\x1b[0m');
    expect(renderTable(rows, cols, io())).not.toContain('\x1b[');
  });

  it('truncates by characters, not bytes', () => {
    expect(truncate('héllo wörld', 6)).toBe('héllo…');
    expect(truncate('ok', 6)).toBe('ok');
  });
});

describe('resolveTarget', () => {
  it('takes the flag, else MCPPROXY_URL, else listen of the config file (MCPPROXY_LISTEN over it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpproxy-units-'));
    try {
      const file = join(dir, 'mcp_config.json');
      writeFileSync(file, JSON.stringify({ listen: '0.0.0.0:9100', api_key: 'from-file' }));
      const flags = { config: file, output: 'table' as const };
      expect(resolveTarget({ ...flags, url: 'http://a:1' }, { MCPPROXY_URL: 'http://b:2' })).toMatchObject({
        url: 'http://a:1',
        apiKey: 'from-file',
      });
      expect(resolveTarget(flags, { MCPPROXY_URL: 'http://b:2', MCPPROXY_API_KEY: 'env' })).toMatchObject({
        url: 'http://b:2',
        apiKey: 'env',
      });
      expect(resolveTarget(flags, {})).toMatchObject({ url: 'http://127.0.0.1:9100', urlSource: file });
      expect(resolveTarget(flags, { MCPPROXY_LISTEN: '127.0.0.1:9200' }).url).toBe('http://127.0.0.1:9200');
      expect(resolveTarget({ output: 'table' }, { MCPPROXY_DATA: join(dir, 'none') }).url).toBe(
        'http://127.0.0.1:8080',
      );
      writeFileSync(file, JSON.stringify({ listen: '' }));
      expect(() => resolveTarget(flags, {})).toThrow(/serves no HTTP API/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns listen into a URL (wildcards become loopback, IPv6 in brackets)', () => {
    expect(urlOfListen('127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(urlOfListen(':8080')).toBe('http://127.0.0.1:8080');
    expect(urlOfListen('[::1]:8080')).toBe('http://[::1]:8080');
  });
});

describe('explain', () => {
  it('maps errors to the exit codes of docs/cli.md with a next step', () => {
    expect(explain(new ClientError('UNREACHABLE', 'x'), 'http://h:1')).toMatchObject({
      exitCode: 1,
      message: 'cannot reach mcpproxy at http://h:1',
    });
    expect(explain(new ClientError('UNREACHABLE', 'x')).hint).toContain('mcpproxy serve');
    expect(explain(new ClientError('UNAUTHORIZED', 'x', { status: 401 })).exitCode).toBe(5);
    expect(explain(new ClientError('READ_ONLY', 'x', { status: 403 })).exitCode).toBe(5);
    expect(explain(new ClientError('INVALID_CONFIG', 'x', { status: 422 })).exitCode).toBe(4);
    expect(explain(new CliError('CONFIG_INVALID', 'x')).exitCode).toBe(4);
    expect(explain(new CliError('PERMISSION_DENIED', 'x')).exitCode).toBe(5);
    const issues = explain(
      new ClientError('BAD_REQUEST', 'x', { status: 400, issues: [{ path: 'name', rule: 'regex', message: 'bad' }] }),
    );
    expect(issues.details).toEqual(['name: bad [regex]']);
  });
});

describe('client configs', () => {
  it('detects VS Code, Windsurf, Cursor and Claude Desktop files', () => {
    expect(detectClient({ servers: { a: { type: 'http', url: 'http://x' } } }, '/p/.vscode/mcp.json')).toBe('vscode');
    expect(detectClient({ mcpServers: { a: { serverUrl: 'http://x' } } }, '/tmp/x.json')).toBe('windsurf');
    expect(detectClient({ mcpServers: {} }, '/home/u/.codeium/windsurf/mcp_config.json')).toBe('windsurf');
    expect(detectClient({ mcpServers: {} }, '/home/u/.cursor/mcp.json')).toBe('cursor');
    expect(detectClient({ mcpServers: {} }, '/x/claude_desktop_config.json')).toBe('claude-desktop');
    expect(
      detectClient({ mcp: { servers: { t: { command: 'uvx' } } } }, '/home/u/.config/Code/User/settings.json'),
    ).toBe('vscode');
    expect(detectClient({ other: 1 }, '/x.json')).toBeUndefined();
  });

  it('imports VS Code and Windsurf entries with their transport, quarantined', () => {
    // VS Code's own ${input:…} placeholders are kept as written.
    const token = ['Bearer $', '{input:tok}'].join('');
    const vscode = importServers(
      {
        servers: {
          gh: { type: 'http', url: 'https://api.example/mcp', headers: { Authorization: token } },
          old: { type: 'sse', url: 'https://sse.example/sse' },
          fs: { type: 'stdio', command: 'npx', args: ['-y', 'fs'], env: { A: '1' }, cwd: '/w' },
        },
        inputs: [],
      },
      'vscode',
    );
    expect(vscode).toEqual([
      {
        ok: true,
        entry: {
          name: 'gh',
          quarantined: true,
          protocol: 'streamable-http',
          url: 'https://api.example/mcp',
          headers: { Authorization: token },
        },
      },
      { ok: true, entry: { name: 'old', quarantined: true, protocol: 'sse', url: 'https://sse.example/sse' } },
      {
        ok: true,
        entry: {
          name: 'fs',
          quarantined: true,
          protocol: 'stdio',
          command: 'npx',
          args: ['-y', 'fs'],
          env: { A: '1' },
          working_dir: '/w',
        },
      },
    ]);
    const windsurf = importServers(
      { mcpServers: { w: { serverUrl: 'https://w.example/mcp', disabled: true } } },
      'windsurf',
    );
    expect(windsurf).toEqual([
      {
        ok: true,
        entry: { name: 'w', quarantined: true, protocol: 'auto', url: 'https://w.example/mcp', enabled: false },
      },
    ]);
  });

  it("writes each client's own entry shape, and knows where each keeps its file", () => {
    expect(mcpproxyEntry('vscode', 'http://h/mcp', 'k')).toEqual({
      type: 'http',
      url: 'http://h/mcp',
      headers: { Authorization: 'Bearer k' },
    });
    expect(mcpproxyEntry('windsurf', 'http://h/mcp', undefined)).toEqual({ serverUrl: 'http://h/mcp' });
    expect(mcpproxyEntry('claude-desktop', 'http://h/mcp', undefined)).toEqual({
      command: 'npx',
      args: ['-y', 'mcp-remote', 'http://h/mcp'],
    });
    expect(defaultConfigPath('claude-desktop', { home: '/h', os: 'darwin' })).toBe(
      '/h/Library/Application Support/Claude/claude_desktop_config.json',
    );
    expect(defaultConfigPath('claude-desktop', { home: '/h', os: 'linux' })).toBe(
      '/h/.config/Claude/claude_desktop_config.json',
    );
    expect(defaultConfigPath('vscode', { home: '/h', os: 'linux' })).toBe('/h/.config/Code/User/mcp.json');
    expect(defaultConfigPath('cursor', { home: '/h', os: 'linux' })).toBe('/h/.cursor/mcp.json');
  });
});

describe('watch frames', () => {
  it('stops the table at the bottom of the terminal and says how many rows are not shown', () => {
    const servers: ServerSummary[] = Array.from({ length: 40 }, (_, i) => ({
      name: `s${String(i).padStart(2, '0')}`,
      protocol: 'stdio',
      enabled: true,
      quarantined: false,
      groups: [],
      state: 'ready',
      circuit: 'closed',
      tool_count: 1,
      retry_count: 0,
      next_retry_at: null,
      connected_at: null,
      last_error: null,
      auto_disabled: null,
      pending_tools: 0,
      changed_tools: 0,
    }));
    const connection = { status: 'live' as const, epoch: 'e', seq: 1, attempts: 0, retryAt: null, lastError: null };
    const frame = renderFrame('http://h:1', connection, servers, io(), { rows: 20 });
    expect(frame.trimEnd().split('\n').length).toBeLessThanOrEqual(20);
    expect(frame).toContain('… 27 more');
    expect(renderFrame('http://h:1', connection, servers.slice(0, 3), io(), { rows: 20 })).not.toContain('more');
  });
});
