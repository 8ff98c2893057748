import { homedir, platform } from 'node:os';
import { basename, join } from 'node:path';

/** MCP clients whose config files `config import` reads and `connect` writes. */
export const CLIENTS = ['claude-desktop', 'cursor', 'vscode', 'windsurf'] as const;
/** One of {@link CLIENTS}. */
export type ClientKind = (typeof CLIENTS)[number];

/** Where a client keeps its MCP servers by default, on this platform. */
export function defaultConfigPath(
  client: ClientKind,
  { home = homedir(), os = platform(), appData = process.env.APPDATA } = {},
): string {
  const appSupport = os === 'darwin' ? join(home, 'Library', 'Application Support') : undefined;
  const roaming = appData ?? join(home, 'AppData', 'Roaming');
  const userConfig = os === 'win32' ? roaming : (appSupport ?? join(home, '.config'));
  switch (client) {
    case 'claude-desktop':
      return join(userConfig, 'Claude', 'claude_desktop_config.json');
    case 'cursor':
      return join(home, '.cursor', 'mcp.json');
    case 'vscode':
      return join(userConfig, 'Code', 'User', 'mcp.json');
    case 'windsurf':
      return join(home, '.codeium', 'windsurf', 'mcp_config.json');
  }
}

/** The key under which a client lists its servers. */
export function serversKey(client: ClientKind): 'servers' | 'mcpServers' {
  return client === 'vscode' ? 'servers' : 'mcpServers';
}

/**
 * Which client wrote `config`: VS Code lists `servers`; Windsurf's HTTP entries say `serverUrl`; otherwise the
 * file name tells Claude Desktop, Cursor and Windsurf apart (their entries look alike). `undefined` when the file
 * has neither `mcpServers` nor `servers`.
 */
export function detectClient(config: Record<string, unknown>, path: string): ClientKind | undefined {
  const entries = (key: string) => {
    const value = config[key];
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.values(value as Record<string, unknown>)
      : undefined;
  };
  if (!config.mcpServers && (entries('servers') || settingsServers(config))) return 'vscode';
  const list = entries('mcpServers');
  if (!list) return undefined;
  if (list.some((e) => typeof e === 'object' && e !== null && 'serverUrl' in e)) return 'windsurf';
  const lower = path.toLowerCase();
  if (lower.includes('windsurf') || lower.includes('codeium')) return 'windsurf';
  if (lower.includes('cursor')) return 'cursor';
  if (basename(lower).startsWith('claude') || lower.includes('/claude/')) return 'claude-desktop';
  return 'claude-desktop';
}

/** A server found in a client's config, as an mcpproxy entry (docs/configuration.md), or why it cannot be one. */
export type ImportedServer = { ok: true; entry: Record<string, unknown> } | { ok: false; name: string; reason: string };

const strings = (value: unknown): Record<string, string> | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
};

/**
 * The servers of a VS Code user settings.json (`"mcp": {"servers": {…}}`, where VS Code kept them before mcp.json
 * and still reads them), or `undefined`.
 */
export function settingsServers(config: Record<string, unknown>): Record<string, unknown> | undefined {
  const mcp = config.mcp;
  if (typeof mcp !== 'object' || mcp === null || Array.isArray(mcp)) return undefined;
  const servers = (mcp as Record<string, unknown>).servers;
  return typeof servers === 'object' && servers !== null && !Array.isArray(servers)
    ? (servers as Record<string, unknown>)
    : undefined;
}

/** Converts every server of a client's config into mcpproxy entries, quarantined (they are someone else's list). */
export function importServers(config: Record<string, unknown>, client: ClientKind): ImportedServer[] {
  const list =
    client === 'vscode' && config.servers === undefined ? settingsServers(config) : config[serversKey(client)];
  if (typeof list !== 'object' || list === null || Array.isArray(list)) return [];
  const out: ImportedServer[] = [];
  for (const [name, raw] of Object.entries(list as Record<string, unknown>)) {
    if (typeof raw !== 'object' || raw === null) {
      out.push({ ok: false, name, reason: 'not an object' });
      continue;
    }
    const e = raw as Record<string, unknown>;
    const entry: Record<string, unknown> = { name, quarantined: true };
    const url = typeof e.url === 'string' ? e.url : typeof e.serverUrl === 'string' ? e.serverUrl : undefined;
    if (typeof e.command === 'string') {
      entry.protocol = 'stdio';
      entry.command = e.command;
      if (Array.isArray(e.args)) entry.args = e.args.filter((a): a is string => typeof a === 'string');
      const env = strings(e.env);
      if (env) entry.env = env;
      if (typeof e.cwd === 'string') entry.working_dir = e.cwd;
    } else if (url) {
      // VS Code says which transport; the others leave it to the client, as mcpproxy's `auto` does.
      entry.protocol = e.type === 'sse' ? 'sse' : e.type === 'http' ? 'streamable-http' : 'auto';
      entry.url = url;
      const headers = strings(e.headers);
      if (headers) entry.headers = headers;
    } else {
      out.push({ ok: false, name, reason: 'has neither "command" nor "url"' });
      continue;
    }
    if (e.disabled === true || e.enabled === false) entry.enabled = false;
    out.push({ ok: true, entry });
  }
  return out;
}

/** The entry that points a client at mcpproxy's `/mcp` endpoint. */
export function mcpproxyEntry(client: ClientKind, mcpUrl: string, apiKey: string | undefined): Record<string, unknown> {
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : undefined;
  switch (client) {
    case 'claude-desktop':
      // Claude Desktop starts stdio servers only; mcp-remote bridges stdio to Streamable HTTP. The key travels in env
      // and is expanded by mcp-remote, so it is not split on spaces by the launcher.
      return {
        command: 'npx',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: mcp-remote expands ${MCPPROXY_AUTH} itself
        args: ['-y', 'mcp-remote', mcpUrl, ...(apiKey ? ['--header', 'Authorization:${MCPPROXY_AUTH}'] : [])],
        ...(apiKey ? { env: { MCPPROXY_AUTH: `Bearer ${apiKey}` } } : {}),
      };
    case 'cursor':
      return { url: mcpUrl, ...(headers ? { headers } : {}) };
    case 'vscode':
      return { type: 'http', url: mcpUrl, ...(headers ? { headers } : {}) };
    case 'windsurf':
      return { serverUrl: mcpUrl, ...(headers ? { headers } : {}) };
  }
}
