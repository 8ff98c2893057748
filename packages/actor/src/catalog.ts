import type {
  PinnedTool,
  ScanFinding,
  ServerConfig,
  ToolApprovalState,
  ToolInfo,
  UpstreamTool,
} from '@mcpproxy/contracts';
import type { ApprovalsStore } from './approvals.js';
import { ActorError } from './errors.js';
import { toolHash } from './hash.js';

/**
 * What an assessor says of a tool about to be trusted without a person: `allow` lets it in, `block` holds it
 * `pending` (like a new tool) until a person approves it. The tool scanner plugs in here.
 */
export type ToolVerdict = 'allow' | 'block';

/**
 * Judges a tool the catalog would otherwise approve on its own (a tool of the first listing, which becomes the
 * baseline). Synchronous, like the listing it is part of. Tools a person approved (pinned hashes) are not asked.
 */
export type ToolAssessor = (tool: UpstreamTool, context: { server: string; hash: string }) => ToolAssessment;

/** A verdict, with the findings behind a `block` (carried on the `tool_quarantine_changed` event it causes). */
export type ToolAssessment = ToolVerdict | { verdict: ToolVerdict; findings?: readonly ScanFinding[] | undefined };

/** Why a tool's approval state changed: its pin (new or changed definition), the scanner, or a person. */
export type ApprovalReason = 'pin' | 'scan' | 'approval';

/** One tool whose approval state changed. */
export interface ApprovalChange {
  tool: string;
  from: ToolApprovalState | null;
  to: ToolApprovalState;
  reason: ApprovalReason;
  /** With `reason: 'scan'`: the findings that hold the tool. */
  findings?: readonly ScanFinding[] | undefined;
}

/** What a listing changed against the previous one. */
export interface ListingChanges {
  added: string[];
  removed: string[];
  changed: string[];
  approvals: ApprovalChange[];
}

export interface ToolCatalogOptions {
  /** The server's name (the key in `approvals`). */
  server: string;
  /** Approved hashes, shared with other actors. */
  approvals: ApprovalsStore;
  /** Judges tools that would be approved without a person. @default every tool allowed */
  assess?: ToolAssessor | undefined;
}

interface ToolEntry {
  tool: UpstreamTool;
  hash: string;
  approval: ToolApprovalState;
  approvedHash: string | undefined;
  /** For a changed tool: the approved definition, when this actor listed it or the approvals store kept it. */
  approvedTool: PinnedTool | undefined;
  /** The scanner's findings that hold this tool `pending` (until a person approves it). */
  flagged?: readonly ScanFinding[] | undefined;
}

const allowAll: ToolAssessor = () => 'allow';

/**
 * One server's tools: the last listing with each tool's pinned hash and approval state, the
 * `enabled_tools` / `disabled_tools` filters, and the callable set (approved and allowed). Pure bookkeeping: the
 * actor lists, publishes and calls.
 */
export class ToolCatalog {
  private entries = new Map<string, ToolEntry>();
  private listed = false;
  private allow: ReadonlySet<string> | undefined;
  private deny: ReadonlySet<string> | undefined;
  private pendingCount = 0;
  private changedCount = 0;
  private toolsCache: readonly ToolInfo[] | undefined;
  private callableCache: readonly UpstreamTool[] | undefined;
  private readonly server: string;
  private readonly approvals: ApprovalsStore;
  private readonly assess: ToolAssessor;

  constructor({ server, approvals, assess = allowAll }: ToolCatalogOptions) {
    this.server = server;
    this.approvals = approvals;
    this.assess = assess;
  }

  /** Tools of the last listing. */
  get size(): number {
    return this.entries.size;
  }

  /** Tools waiting for a first approval. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Tools whose definition changed since it was approved. */
  get changed(): number {
    return this.changedCount;
  }

  /** Whether the last listing has `name`. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The approval state of a listed tool. */
  approval(name: string): ToolApprovalState | undefined {
    return this.entries.get(name)?.approval;
  }

  /** Takes the config's tool filters. */
  setFilters(server: Pick<ServerConfig, 'enabled_tools' | 'disabled_tools'>): void {
    this.allow = server.enabled_tools ? new Set(server.enabled_tools) : undefined;
    this.deny = server.disabled_tools ? new Set(server.disabled_tools) : undefined;
    this.callableCache = undefined;
  }

  /** The scanner's findings that hold a listed tool `pending`; `undefined` when none do. */
  flagged(name: string): readonly ScanFinding[] | undefined {
    return this.entries.get(name)?.flagged;
  }

  /** Whether the filters let `tool` through. */
  allowed(tool: string): boolean {
    if (this.allow) return this.allow.has(tool);
    if (this.deny) return !this.deny.has(tool);
    return true;
  }

  /** Every tool of the last listing as `ToolInfo`. Frozen; the same array until it changes. */
  tools(): readonly ToolInfo[] {
    if (this.toolsCache) return this.toolsCache;
    const list: ToolInfo[] = [];
    for (const e of this.entries.values()) list.push(Object.freeze(toInfo(this.server, e)));
    this.toolsCache = Object.freeze(list);
    return this.toolsCache;
  }

  /** Approved tools that pass the filters. Frozen; the same array until it changes. */
  callable(): readonly UpstreamTool[] {
    if (this.callableCache) return this.callableCache;
    const list: UpstreamTool[] = [];
    for (const e of this.entries.values()) {
      if (e.approval === 'approved' && this.allowed(e.tool.name)) list.push(e.tool);
    }
    this.callableCache = Object.freeze(list);
    return this.callableCache;
  }

  /**
   * Takes a new listing: pins each tool's hash against the stored approvals (the first listing of a server with
   * none stored becomes its baseline, less what the assessor blocks), and answers what changed.
   */
  applyListing(tools: readonly UpstreamTool[]): ListingChanges {
    const stored = this.approvals.get(this.server);
    const baseline = stored === undefined ? new Map<string, string>() : undefined;
    const prev = this.entries;
    const next = new Map<string, ToolEntry>();
    const added: string[] = [];
    const changed: string[] = [];
    const approvals: ApprovalChange[] = [];
    const keeps = typeof this.approvals.definition === 'function';
    // Approved definitions to keep beside their hashes: the baseline's, and approved tools the store has none of.
    const definitions = new Map<string, PinnedTool>();
    for (const tool of tools) {
      const hash = toolHash(tool);
      let approval: ToolApprovalState = 'approved';
      let approvedHash: string | undefined;
      let approvedTool: PinnedTool | undefined;
      let flagged: readonly ScanFinding[] | undefined;
      const before = prev.get(tool.name);
      if (baseline) {
        const assessed = this.assess(tool, { server: this.server, hash });
        const verdict = typeof assessed === 'string' ? assessed : assessed.verdict;
        if (verdict === 'allow') {
          baseline.set(tool.name, hash);
          definitions.set(tool.name, tool);
        } else {
          approval = 'pending';
          flagged = typeof assessed === 'string' ? [] : (assessed.findings ?? []);
        }
      } else {
        const pinned = stored?.get(tool.name);
        if (pinned === undefined) approval = 'pending';
        else if (pinned !== hash) {
          approval = 'changed';
          approvedHash = pinned;
          // The approved definition: the previous listing, or what this actor remembered then, or what the store
          // kept (after a restart) if it still hashes to the pin.
          approvedTool =
            before?.hash === pinned
              ? before.tool
              : before?.approvedHash === pinned
                ? before.approvedTool
                : this.keptDefinition(tool.name, pinned);
        } else if (keeps && this.approvals.definition?.(this.server, tool.name) === undefined) {
          definitions.set(tool.name, tool);
        }
      }
      // A tool the scanner held keeps its findings while its definition and state stay the same.
      if (!flagged && before?.flagged && before.hash === hash && approval === 'pending') flagged = before.flagged;
      next.set(tool.name, { tool, hash, approval, approvedHash, approvedTool, flagged });
      if (!before) {
        if (this.listed) added.push(tool.name);
      } else if (before.hash !== hash) changed.push(tool.name);
      const from = before?.approval ?? null;
      if (from !== approval && !(from === null && approval === 'approved')) {
        approvals.push(
          flagged
            ? { tool: tool.name, from, to: approval, reason: 'scan', findings: flagged }
            : { tool: tool.name, from, to: approval, reason: 'pin' },
        );
      }
    }
    const removed = [...prev.keys()].filter((n) => !next.has(n));
    if (baseline) this.approvals.set(this.server, baseline, definitions);
    else if (stored && definitions.size > 0) this.approvals.set(this.server, stored, definitions);
    this.entries = next;
    this.listed = true;
    this.recount();
    return { added, removed, changed, approvals };
  }

  /**
   * Approves the current hashes of `names` (every pending and changed tool when omitted) and answers the tools
   * whose state changed. Throws `TOOL_NOT_FOUND`, approving nothing, when a name is not listed.
   */
  approve(names?: readonly string[]): ApprovalChange[] {
    if (names) {
      const missing = names.filter((n) => !this.entries.has(n));
      if (missing.length > 0) {
        throw new ActorError('TOOL_NOT_FOUND', `server "${this.server}" does not list tool(s): ${missing.join(', ')}`);
      }
    }
    const targets =
      names ?? [...this.entries.values()].filter((e) => e.approval !== 'approved').map((e) => e.tool.name);
    const stored = new Map(this.approvals.get(this.server) ?? []);
    const definitions = new Map<string, PinnedTool>();
    const changes: ApprovalChange[] = [];
    for (const n of targets) {
      const e = this.entries.get(n);
      if (!e) continue;
      stored.set(n, e.hash);
      definitions.set(n, e.tool);
      if (e.approval !== 'approved') {
        changes.push({ tool: n, from: e.approval, to: 'approved', reason: 'approval' });
        e.approval = 'approved';
        e.approvedHash = undefined;
        e.approvedTool = undefined;
        e.flagged = undefined;
      }
    }
    this.approvals.set(this.server, stored, definitions);
    if (changes.length > 0) this.recount();
    return changes;
  }

  /**
   * Holds approved tools `pending` on the scanner's word (a rescan found what blocks them): their approved hashes
   * are dropped, so only a person's approval lets them back. Tools not listed or not approved are skipped.
   */
  hold(findings: ReadonlyMap<string, readonly ScanFinding[]>): ApprovalChange[] {
    const stored = new Map(this.approvals.get(this.server) ?? []);
    const changes: ApprovalChange[] = [];
    for (const [n, f] of findings) {
      const e = this.entries.get(n);
      if (!e || e.approval !== 'approved') continue;
      stored.delete(n);
      e.approval = 'pending';
      e.flagged = f;
      changes.push({ tool: n, from: 'approved', to: 'pending', reason: 'scan', findings: f });
    }
    if (changes.length === 0) return changes;
    this.approvals.set(this.server, stored);
    this.recount();
    return changes;
  }

  /** Forgets the listing and the approved hashes: the next listing is a new baseline (a person approved the server). */
  forget(): void {
    this.approvals.delete(this.server);
    this.entries = new Map();
    this.listed = false;
    this.recount();
  }

  /** The definition the store kept for `name`, if it hashes to `pinned` (a hand-edited file cannot fake a "before"). */
  private keptDefinition(name: string, pinned: string): PinnedTool | undefined {
    const kept = this.approvals.definition?.(this.server, name);
    return kept && kept.name === name && toolHash(kept) === pinned ? kept : undefined;
  }

  private recount(): void {
    let pending = 0;
    let changed = 0;
    for (const e of this.entries.values()) {
      if (e.approval === 'pending') pending++;
      else if (e.approval === 'changed') changed++;
    }
    this.pendingCount = pending;
    this.changedCount = changed;
    this.toolsCache = undefined;
    this.callableCache = undefined;
  }
}

function toInfo(server: string, e: ToolEntry): ToolInfo {
  const info: ToolInfo = {
    server,
    name: e.tool.name,
    inputSchema: e.tool.inputSchema,
    hash: e.hash,
    approval: e.approval,
  };
  if (e.tool.description !== undefined) info.description = e.tool.description;
  if (e.tool.outputSchema !== undefined) info.outputSchema = e.tool.outputSchema;
  if (e.approvedHash !== undefined) info.approved_hash = e.approvedHash;
  if (e.approvedTool !== undefined) {
    const { description, inputSchema, outputSchema } = e.approvedTool;
    info.approved_definition = { inputSchema };
    if (description !== undefined) info.approved_definition.description = description;
    if (outputSchema !== undefined) info.approved_definition.outputSchema = outputSchema;
  }
  return info;
}
