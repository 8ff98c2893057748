/**
 * The tool scanner wired into the gateway (docs/security.md): every tool definition is
 * scanned by `@mcpproxy/scanner` at its first listing (through the actors' assessor hook, so a poisoned tool never
 * becomes part of a baseline) and whenever its pinning hash changes (on `tools_updated` / `connection_established`),
 * and every server is scanned again when tool names change elsewhere (shadowing depends on the other servers).
 * A hard finding under `security.block_on: "hard"` holds the tool `pending` until a person approves it; that
 * approval is the override, kept beside the approved hash so a restart does not hold the tool again.
 */
import type { ServerActor, ToolAssessor } from '@mcpproxy/actor';
import type {
  Clock,
  Config,
  Logger,
  ScanFinding,
  SecurityFinding,
  SecurityFindingsResponse,
  TimerHandle,
  ToolInfo,
  ToolScanResult,
  UpstreamTool,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { ManagementError } from '@mcpproxy/management';
import { createScanContext, type ScanContext, scanTool } from '@mcpproxy/scanner';

/** Where a person's overrides of blocking findings are kept (the approvals file). */
export interface OverrideStore {
  override(server: string, tool: string): string | undefined;
  setOverride(server: string, tool: string, hash: string): void;
}

/** The actors the service reads tools from and holds tools on. */
export interface ActorSource {
  actors(): readonly ServerActor[];
  getActor(name: string): ServerActor | undefined;
}

export interface ToolScanServiceOptions {
  /** `security.scanner` and `security.block_on` are read on every scan, so a reload takes effect. */
  config: { snapshot(): Config };
  bus: Pick<EventBus, 'subscribe'>;
  overrides: OverrideStore;
  /** @default systemClock-like timers from the caller; the rescan after name changes waits `rescanDelayMs` on it. */
  clock: Clock;
  logger: Logger;
  /** Quiet period after tool names change before every server is scanned again. @default 200 */
  rescanDelayMs?: number | undefined;
  /** Longest a rescan waits for changes to stop. @default 2000 */
  maxRescanWaitMs?: number | undefined;
}

/** Counts for `/metrics`. */
export interface ScanStats {
  /** Findings of current tool definitions, by `tier` and `check`. */
  findings: { tier: string; check: string; count: number }[];
  /** Tools with a blocking verdict that no person overrode. */
  blocked: number;
  /** Tool definitions scanned since start. */
  scanned: number;
}

/** The gateway's tool scanner. */
export interface ToolScanService {
  /** The actors' assessor: judges the tools of a first listing before they become a baseline. */
  readonly assess: ToolAssessor;
  /** Gives the service the supervisor (made after it, since the supervisor takes `assess`). */
  attach(actors: ActorSource): void;
  /** The tools with the verdict and findings of their current definition. */
  annotate(tools: readonly ToolInfo[]): ToolInfo[];
  /** Every current tool definition with findings or a coverage gap, across servers (`GET /security/findings`). */
  findings(): SecurityFindingsResponse;
  /**
   * Scans every tool of `server` again against a fresh context of all servers, holds approved tools that now block
   * (unless a person overrode that definition), and answers every tool's result. `NOT_FOUND` for an unknown server.
   */
  rescan(server: string): Promise<SecurityFindingsResponse>;
  stats(): ScanStats;
  close(): void;
}

interface Cached {
  hash: string;
  result: ToolScanResult;
  /** The context generation it was scanned against. */
  generation: number;
}

const asTool = (t: ToolInfo): UpstreamTool => {
  const tool: UpstreamTool = { name: t.name, inputSchema: t.inputSchema };
  if (t.description !== undefined) tool.description = t.description;
  if (t.outputSchema !== undefined) tool.outputSchema = t.outputSchema;
  return tool;
};

/** Creates the scan service; see the module comment. */
export function createToolScanService({
  config,
  bus,
  overrides,
  clock,
  logger,
  rescanDelayMs = 200,
  maxRescanWaitMs = 2_000,
}: ToolScanServiceOptions): ToolScanService {
  let source: ActorSource | undefined;
  const cache = new Map<string, Map<string, Cached>>();
  let context: ScanContext | undefined;
  let generation = 0;
  let scanned = 0;
  let rescanTimer: TimerHandle | undefined;
  let closed = false;

  const settings = () => config.snapshot().security;
  const enabled = () => settings().scanner;

  const currentContext = (): ScanContext => {
    context ??= createScanContext(
      (source?.actors() ?? []).map((a) => ({ server: a.name, tools: a.tools().map(asTool) })),
    );
    return context;
  };
  const invalidate = () => {
    context = undefined;
    generation++;
  };

  const scan = (server: string, tool: UpstreamTool, hash: string, ctx: ScanContext): Cached => {
    const result = scanTool(tool, { server, context: ctx, blockOn: settings().block_on });
    scanned++;
    const entry: Cached = { hash, result, generation };
    let tools = cache.get(server);
    if (!tools) {
      tools = new Map();
      cache.set(server, tools);
    }
    tools.set(tool.name, entry);
    return entry;
  };

  const overridden = (server: string, tool: string, hash: string) => overrides.override(server, tool) === hash;
  const blocks = (server: string, c: Cached) =>
    c.result.verdict === 'block' && !overridden(server, c.result.tool, c.hash);

  const assess: ToolAssessor = (tool, { server, hash }) => {
    if (closed || !enabled()) return 'allow';
    try {
      const c = scan(server, tool, hash, currentContext());
      return blocks(server, c) ? { verdict: 'block', findings: c.result.findings } : 'allow';
    } catch (error) {
      // The scanner never throws by contract; if it did, the tool is not trusted on its own.
      logger.error('tool scanner failed; holding the tool for a person', {
        server,
        tool: tool.name,
        error: String(error),
      });
      return { verdict: 'block', findings: [] };
    }
  };

  /**
   * Scans tools of `actor` — `new`: definitions not in the cache; `stale`: also those scanned against an older
   * context; `all`: every one — and holds the approved ones that now block. Answers the current entries.
   */
  const scanActor = async (
    actor: ServerActor,
    mode: 'new' | 'stale' | 'all',
  ): Promise<{ info: ToolInfo; cached: Cached }[]> => {
    const out: { info: ToolInfo; cached: Cached }[] = [];
    if (!enabled()) return out;
    const known = cache.get(actor.name);
    const hold = new Map<string, readonly ScanFinding[]>();
    const listed = new Set<string>();
    for (const info of actor.tools()) {
      listed.add(info.name);
      let c = known?.get(info.name);
      if (mode === 'all' || !c || c.hash !== info.hash || (mode === 'stale' && c.generation !== generation)) {
        c = scan(actor.name, asTool(info), info.hash, currentContext());
      }
      if (info.approval === 'approved' && blocks(actor.name, c)) hold.set(info.name, c.result.findings);
      out.push({ info, cached: c });
    }
    for (const name of [...(cache.get(actor.name)?.keys() ?? [])])
      if (!listed.has(name)) cache.get(actor.name)?.delete(name);
    if (hold.size > 0) {
      const held = await actor.holdTools(hold);
      if (held.length > 0) logger.warn('tool scanner held approved tools', { server: actor.name, tools: held });
    }
    return out;
  };

  const rescanAll = () => {
    rescanTimer = undefined;
    firstScheduled = undefined;
    if (closed || !source || !enabled()) return;
    for (const actor of source.actors()) {
      scanActor(actor, 'stale').catch((error: unknown) =>
        logger.warn('tool rescan failed', { server: actor.name, error: String(error) }),
      );
    }
  };
  // A trailing debounce (a burst of servers connecting at start-up is one rescan), bounded so a steady trickle of
  // changes still gets a rescan every `maxRescanWaitMs`.
  let firstScheduled: number | undefined;
  const scheduleRescanAll = () => {
    if (closed) return;
    const now = clock.now();
    firstScheduled ??= now;
    if (rescanTimer !== undefined && now - firstScheduled >= maxRescanWaitMs) return;
    clock.clearTimeout(rescanTimer);
    rescanTimer = clock.setTimeout(rescanAll, rescanDelayMs);
  };

  /** Each server's tool names at its last listing, to tell a re-listing that changed names from one that did not. */
  const namesOf = new Map<string, string>();

  const onListing = (server: string | undefined) => {
    if (closed || !source || !server || !enabled()) return;
    const actor = source.getActor(server);
    if (!actor) return;
    const names = actor
      .tools()
      .map((t) => t.name)
      .sort()
      .join('\u0000');
    if (namesOf.get(server) !== names) {
      namesOf.set(server, names);
      // Other servers' tools may now shadow (or stop shadowing) these names: scan them again, once things settle.
      invalidate();
      scheduleRescanAll();
    }
    scanActor(actor, 'new').catch((error: unknown) =>
      logger.warn('tool scan failed', { server, error: String(error) }),
    );
  };

  // Turning the scanner on, or changing `block_on`, judges every tool again (an approved tool may now be held).
  let lastSettings = JSON.stringify(settings());
  const onReload = () => {
    const now = JSON.stringify(settings());
    if (now === lastSettings) return;
    lastSettings = now;
    cache.clear();
    invalidate();
    if (enabled()) scheduleRescanAll();
  };

  const offs = [
    bus.subscribe('config_reloaded', onReload),
    bus.subscribe('tools_updated', (e) => onListing(e.server)),
    bus.subscribe('connection_established', (e) => onListing(e.server)),
    bus.subscribe('server_config_changed', (e) => {
      if (e.data.change !== 'removed' || !e.server) return;
      cache.delete(e.server);
      namesOf.delete(e.server);
      invalidate();
      scheduleRescanAll();
    }),
    // A person approved a tool the scanner blocks: that approval is the override of its findings, kept with it.
    bus.subscribe('tool_quarantine_changed', (e) => {
      if (e.data.reason !== 'approval' || !e.server) return;
      const c = cache.get(e.server)?.get(e.data.tool);
      const info = source
        ?.getActor(e.server)
        ?.tools()
        .find((t) => t.name === e.data.tool);
      if (c && info && c.hash === info.hash && c.result.verdict === 'block') {
        overrides.setOverride(e.server, e.data.tool, c.hash);
        logger.warn('a person approved a tool despite blocking findings', {
          server: e.server,
          tool: e.data.tool,
          checks: [...new Set(c.result.findings.map((f) => f.check))],
        });
      }
    }),
  ];

  const finding = (server: string, info: ToolInfo | undefined, c: Cached): SecurityFinding => ({
    ...c.result,
    server,
    hash: c.hash,
    ...(info ? { approval: info.approval } : {}),
    overridden: c.result.verdict === 'block' && overridden(server, c.result.tool, c.hash),
  });

  const response = (results: SecurityFinding[]): SecurityFindingsResponse => {
    const counts = { block: 0, review: 0, clean: 0 };
    for (const r of results) counts[r.verdict]++;
    const s = settings();
    return { scanner: s.scanner, block_on: s.block_on, counts, results };
  };

  /** The cached entry for a tool's current definition, scanning it now when missing (a read never shows stale). */
  const current = (server: string, info: ToolInfo): Cached | undefined => {
    const c = cache.get(server)?.get(info.name);
    if (c && c.hash === info.hash) return c;
    if (!enabled()) return undefined;
    return scan(server, asTool(info), info.hash, currentContext());
  };

  return {
    assess,
    attach(actors) {
      source = actors;
    },
    annotate(tools) {
      if (!enabled()) return [...tools];
      return tools.map((t) => {
        const c = current(t.server, t);
        if (!c) return t;
        return {
          ...t,
          verdict: c.result.verdict,
          findings: c.result.findings,
          overridden: c.result.verdict === 'block' && overridden(t.server, t.name, c.hash),
        };
      });
    },
    findings() {
      const results: SecurityFinding[] = [];
      if (enabled()) {
        for (const actor of source?.actors() ?? []) {
          for (const info of actor.tools()) {
            const c = current(actor.name, info);
            // A coverage gap is "scanned less", not clean: it is listed too.
            if (c && (c.result.findings.length > 0 || c.result.coverage.length > 0)) {
              results.push(finding(actor.name, info, c));
            }
          }
        }
      }
      return response(results);
    },
    async rescan(server) {
      const actor = source?.getActor(server);
      if (!actor) throw new ManagementError('NOT_FOUND', `server ${JSON.stringify(server)} is not configured`);
      invalidate();
      const entries = await scanActor(actor, 'all');
      // The approval state after any hold.
      const after = new Map(actor.tools().map((t) => [t.name, t]));
      return response(entries.map(({ info, cached }) => finding(server, after.get(info.name) ?? info, cached)));
    },
    stats() {
      const byKey = new Map<string, { tier: string; check: string; count: number }>();
      let blocked = 0;
      for (const actor of source?.actors() ?? []) {
        const tools = cache.get(actor.name);
        if (!tools) continue;
        for (const info of actor.tools()) {
          const c = tools.get(info.name);
          if (!c || c.hash !== info.hash) continue;
          if (blocks(actor.name, c)) blocked++;
          for (const f of c.result.findings) {
            const key = `${f.tier}\u0000${f.check}`;
            const row = byKey.get(key) ?? { tier: f.tier, check: f.check, count: 0 };
            row.count++;
            byKey.set(key, row);
          }
        }
      }
      return { findings: [...byKey.values()], blocked, scanned };
    },
    close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(rescanTimer);
      rescanTimer = undefined;
      for (const off of offs) off();
    },
  };
}
