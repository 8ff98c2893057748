import type { PinnedTool } from '@mcpproxy/contracts';

/**
 * Where approved tool hashes live, per server: tool name → approved hash. The actor reads it on every listing
 * and writes it on the baseline listing and on approval. Synchronous so a listing is judged in one step; a
 * persistent store keeps an in-memory copy and writes behind.
 *
 * A store may also keep the approved definitions (what the hash covers: name, description, input and output
 * schema), so a tool that is `changed` after a restart can still be reviewed against what was approved. Both
 * definition members are optional: a store without them keeps hashes only, and a changed tool's review then has
 * no "before" unless the actor saw the approved definition itself.
 */
export interface ApprovalsStore {
  /** The approved hashes of a server; `undefined` when it has no baseline yet. */
  get(server: string): ReadonlyMap<string, string> | undefined;
  /**
   * Replaces the approved hashes of a server. `definitions` (tool name → the definition whose hash is in `hashes`)
   * are kept beside their hashes by a store that keeps definitions; a kept definition whose tool is no longer in
   * `hashes`, or is there with another hash, is dropped, the others stay. A store may decline a definition (e.g.
   * past a size cap): it then keeps the hash only.
   */
  set(server: string, hashes: ReadonlyMap<string, string>, definitions?: ReadonlyMap<string, PinnedTool>): void;
  /** Forgets a server, so its next listing becomes a new baseline. */
  delete(server: string): void;
  /**
   * The approved definition kept for `tool` (the one whose hash is its approved hash), or `undefined` when none is
   * kept. Absent on a store that keeps hashes only. The caller checks it against the approved hash before use.
   */
  definition?(server: string, tool: string): PinnedTool | undefined;
}

/** An {@link ApprovalsStore} in memory: the default, lost on restart. Keeps approved definitions too. */
export function createMemoryApprovals(): ApprovalsStore {
  const byServer = new Map<string, ReadonlyMap<string, string>>();
  const defsByServer = new Map<string, Map<string, { hash: string; tool: PinnedTool }>>();
  return {
    get: (server) => byServer.get(server),
    set: (server, hashes, definitions) => {
      byServer.set(server, new Map(hashes));
      const defs = defsByServer.get(server) ?? new Map<string, { hash: string; tool: PinnedTool }>();
      for (const [name, kept] of defs) if (hashes.get(name) !== kept.hash) defs.delete(name);
      for (const [name, tool] of definitions ?? []) {
        const hash = hashes.get(name);
        if (hash !== undefined) defs.set(name, { hash, tool: copyDefinition(tool) });
      }
      if (defs.size > 0) defsByServer.set(server, defs);
      else defsByServer.delete(server);
    },
    delete: (server) => {
      byServer.delete(server);
      defsByServer.delete(server);
    },
    definition: (server, tool) => defsByServer.get(server)?.get(tool)?.tool,
  };
}

/** Only the pinned fields of a tool (never its annotations, title or anything else the upstream sent). */
function copyDefinition(tool: PinnedTool): PinnedTool {
  const copy: PinnedTool = { name: tool.name, inputSchema: tool.inputSchema };
  if (tool.description !== undefined) copy.description = tool.description;
  if (tool.outputSchema !== undefined) copy.outputSchema = tool.outputSchema;
  return copy;
}
