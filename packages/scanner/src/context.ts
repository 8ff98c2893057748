// A read-only view of every server's tools, indexed once so that each tool's shadowing check is a few map lookups
// (10,000 tools must scan in well under a second).
import type { UpstreamTool } from '@mcpproxy/contracts';

/** One server's tool list, as the scan context takes it. */
export interface ServerTools {
  readonly server: string;
  readonly tools: readonly UpstreamTool[];
}

/** What the context remembers of one tool of one server. */
export interface ContextTool {
  readonly server: string;
  readonly name: string;
  readonly description: string;
  /** Lower-case words of the description (3+ letters). */
  readonly words: ReadonlySet<string>;
  readonly params: readonly string[];
}

/** Every server's tools, by tool name. Build it with {@link createScanContext}. */
export interface ScanContext {
  /** Tools of every server named `name` (any server, including the one being scanned). */
  byName(name: string): readonly ContextTool[];
  /** Whether some server has a tool of this name. */
  has(name: string): boolean;
  /** Number of tools indexed. */
  readonly size: number;
}

const MAX_TOOLS = 100_000;

/** Servers with at least one indexed tool, per context this module built (a caller's own ScanContext has none). */
const serversOf = new WeakMap<ScanContext, ReadonlySet<string>>();

/**
 * Whether `context` may hold a tool of a server other than `server`. False only for a context built by
 * {@link createScanContext} whose every tool is `server`'s own: then no name in a tool's text can be another
 * server's, and the shadowing check skips its name scan.
 */
export function hasOtherServers(context: ScanContext, server: string | undefined): boolean {
  const servers = serversOf.get(context);
  if (servers === undefined) return true;
  return servers.size > 1 || (servers.size === 1 && (server === undefined || !servers.has(server)));
}

const MAX_DESCRIPTION = 4096;

/** Lower-case words of 3+ letters: the unit of description similarity. */
export function wordsOf(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.toLowerCase().matchAll(/[a-z][a-z0-9]{2,}/g)) out.add(m[0]);
  return out;
}

/**
 * Indexes the tools of every server. Accepts `[{server, tools}]` or a `Map` of server name to tools; malformed
 * entries (a tool without a string name) are skipped, and at most 100,000 tools are kept.
 */
export function createScanContext(
  servers: Iterable<ServerTools> | ReadonlyMap<string, readonly UpstreamTool[]>,
): ScanContext {
  const index = new Map<string, ContextTool[]>();
  const owners = new Set<string>();
  let size = 0;
  const entries: Iterable<ServerTools> =
    servers instanceof Map
      ? [...(servers as ReadonlyMap<string, readonly UpstreamTool[]>)].map(([server, tools]) => ({ server, tools }))
      : (servers as Iterable<ServerTools>);
  outer: for (const { server, tools } of entries) {
    if (typeof server !== 'string' || !Array.isArray(tools)) continue;
    for (const tool of tools as readonly unknown[]) {
      if (size >= MAX_TOOLS) break outer;
      if (typeof tool !== 'object' || tool === null) continue;
      const t = tool as Record<string, unknown>;
      if (typeof t.name !== 'string') continue;
      const description = typeof t.description === 'string' ? t.description.slice(0, MAX_DESCRIPTION) : '';
      const schema = t.inputSchema as { properties?: unknown } | undefined;
      const props =
        schema && typeof schema.properties === 'object' && schema.properties !== null ? schema.properties : {};
      const entry: ContextTool = {
        server,
        name: t.name,
        description,
        words: wordsOf(description),
        params: Object.keys(props).slice(0, 200),
      };
      const list = index.get(t.name);
      if (list) list.push(entry);
      else index.set(t.name, [entry]);
      owners.add(server);
      size++;
    }
  }
  const context: ScanContext = {
    byName: (name) => index.get(name) ?? [],
    has: (name) => index.has(name),
    size,
  };
  serversOf.set(context, owners);
  return context;
}
