/**
 * Where approved tool hashes live, per server: tool name → approved hash. The actor reads it on every listing
 * and writes it on the baseline listing and on approval. Synchronous so a listing is judged in one step; a
 * persistent store keeps an in-memory copy and writes behind.
 */
export interface ApprovalsStore {
  /** The approved hashes of a server; `undefined` when it has no baseline yet. */
  get(server: string): ReadonlyMap<string, string> | undefined;
  /** Replaces the approved hashes of a server. */
  set(server: string, hashes: ReadonlyMap<string, string>): void;
  /** Forgets a server, so its next listing becomes a new baseline. */
  delete(server: string): void;
}

/** An {@link ApprovalsStore} in memory: the default, lost on restart. */
export function createMemoryApprovals(): ApprovalsStore {
  const byServer = new Map<string, ReadonlyMap<string, string>>();
  return {
    get: (server) => byServer.get(server),
    set: (server, hashes) => {
      byServer.set(server, new Map(hashes));
    },
    delete: (server) => {
      byServer.delete(server);
    },
  };
}
