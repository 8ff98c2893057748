import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ApprovalsStore } from '@mcpproxy/actor';
import {
  type Clock,
  type Logger,
  type PinnedTool,
  silentLogger,
  systemClock,
  type TimerHandle,
} from '@mcpproxy/contracts';
import { z } from 'zod';
import { isPermissionError, ServeError } from './exit-codes.js';

/** A persistent {@link ApprovalsStore}: reads from memory, writes behind to one JSON file. */
export interface FileApprovalsStore extends ApprovalsStore {
  /** The file it persists to. */
  readonly path: string;
  /** The approved definition kept for `tool`; `undefined` when none is (a hashes-only file, or past the size cap). */
  definition(server: string, tool: string): PinnedTool | undefined;
  /**
   * The hash of `tool` a person approved despite a blocking scanner finding (the override kept with the approval,
   * so a rescan after a restart does not hold it again); `undefined` when none.
   */
  override(server: string, tool: string): string | undefined;
  /** Records that a person approved this definition of `tool` despite a blocking finding. */
  setOverride(server: string, tool: string, hash: string): void;
  /** Resolves once every change made so far is on disk; rejects if the write failed. */
  flush(): Promise<void>;
  /** Flushes, then stops writing (later changes stay in memory). Never rejects; a failed write is logged. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ApprovalsStoreOptions {
  /** The JSON file, e.g. `<dataDir>/approvals.json`. Created on the first write. */
  path: string;
  /** Quiet period after a change before it is written, so a burst of listings is one write. @default 25 */
  debounceMs?: number | undefined;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /**
   * The largest approved definition kept, in bytes of its JSON; a larger one keeps its hash only (its review after a
   * restart has no "before"). @default 65536
   */
  maxDefinitionBytes?: number | undefined;
}

/** The default cap on one kept approved definition: 64 KiB of JSON. */
export const MAX_DEFINITION_BYTES = 64 * 1024;

const DefinitionSchema = z.object({
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
});

/** An approved definition as kept: the hash it was approved under, and the hashed fields (the name is its key). */
interface KeptDefinition {
  hash: string;
  tool: PinnedTool;
}

const FileSchema = z.object({
  version: z.literal(1),
  servers: z.record(z.string(), z.record(z.string(), z.string())),
  /** Per server, tool → the hash a person approved despite the tool scanner's blocking findings. */
  overrides: z.record(z.string(), z.record(z.string(), z.string())).optional(),
  /**
   * Per server, tool → the approved definition with the hash it was approved under, for the review of a tool that
   * changed. Optional, so a file without it (hashes only) still loads, and an older mcpproxy reads this one.
   */
  definitions: z
    .record(z.string(), z.record(z.string(), z.object({ hash: z.string(), definition: DefinitionSchema })))
    .optional(),
});

/** The JSON bytes of a definition's hashed fields (the size the cap applies to). */
function definitionBytes(tool: PinnedTool): number {
  const { description, inputSchema, outputSchema } = tool;
  return Buffer.byteLength(JSON.stringify({ description, inputSchema, outputSchema }), 'utf8');
}

/** Only the hashed fields of a tool: never its annotations, title or anything else an upstream sent. */
function pinnedFields(name: string, tool: Omit<PinnedTool, 'name'>): PinnedTool {
  const copy: PinnedTool = { name, inputSchema: tool.inputSchema };
  if (tool.description !== undefined) copy.description = tool.description;
  if (tool.outputSchema !== undefined) copy.outputSchema = tool.outputSchema;
  return copy;
}

function sameHashes(a: ReadonlyMap<string, string> | undefined, b: ReadonlyMap<string, string>): boolean {
  if (a === undefined || a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}

/**
 * Opens (or starts) the approvals file: the approved tool hashes of every server, so a tool whose definition changed
 * while the proxy was down is still caught as `changed` (a rug pull across a restart). Reads are synchronous from
 * memory; each change is written behind atomically (temp file, fsync, rename, fsync of the directory), so the file
 * is always either the old or the new content. The approved definitions are kept beside their hashes (each up to
 * `maxDefinitionBytes`; a larger one keeps its hash only), so a tool that changed across a restart can be reviewed
 * against what was approved. A file without them (hashes only) loads as before.
 * @throws {ServeError} `START_FAILED` when the file exists but is not a valid approvals file (deleting it re-baselines
 *   every server), `PERMISSION_DENIED` when it cannot be read.
 */
export async function openApprovalsStore({
  path,
  debounceMs = 25,
  clock = systemClock,
  logger = silentLogger,
  maxDefinitionBytes = MAX_DEFINITION_BYTES,
}: ApprovalsStoreOptions): Promise<FileApprovalsStore> {
  const byServer = new Map<string, ReadonlyMap<string, string>>();
  const overrides = new Map<string, Map<string, string>>();
  const definitions = new Map<string, Map<string, KeptDefinition>>();
  /** Definitions found too large (server, tool, hash), so a listing offering one again neither measures nor logs. */
  const tooLarge = new Set<string>();
  /** Keeps `tool` approved under `hash` unless it is past the cap; answers whether anything changed. */
  const keep = (server: string, name: string, hash: string, tool: PinnedTool): boolean => {
    const kept = definitions.get(server)?.get(name);
    if (kept?.hash === hash) return false;
    const key = `${server}\0${name}\0${hash}`;
    if (tooLarge.has(key)) return false;
    const bytes = definitionBytes(tool);
    if (bytes > maxDefinitionBytes) {
      if (tooLarge.size >= 10_000) tooLarge.clear();
      tooLarge.add(key);
      logger.warn('approvals: definition too large to keep; only its hash is kept', {
        server,
        tool: name,
        bytes,
        max_bytes: maxDefinitionBytes,
      });
      return false;
    }
    let tools = definitions.get(server);
    if (!tools) {
      tools = new Map();
      definitions.set(server, tools);
    }
    tools.set(name, { hash, tool: pinnedFields(name, tool) });
    return true;
  };
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (isPermissionError(error)) {
        throw new ServeError('PERMISSION_DENIED', `cannot read ${path}: permission denied`, { cause: error });
      }
      throw new ServeError('START_FAILED', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (text !== undefined) {
    let parsed: z.infer<typeof FileSchema>;
    try {
      parsed = FileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new ServeError(
        'START_FAILED',
        `${path} is not a valid approvals file; fix it, or delete it to re-baseline the tools of every server`,
        { cause: error },
      );
    }
    for (const [server, tools] of Object.entries(parsed.servers)) byServer.set(server, new Map(Object.entries(tools)));
    for (const [server, tools] of Object.entries(parsed.overrides ?? {})) {
      overrides.set(server, new Map(Object.entries(tools)));
    }
    // Only definitions of a current pin are kept (an edited file may hold others; they are dropped on the next write).
    for (const [server, tools] of Object.entries(parsed.definitions ?? {})) {
      for (const [name, { hash, definition }] of Object.entries(tools)) {
        if (byServer.get(server)?.get(name) === hash) keep(server, name, hash, pinnedFields(name, definition));
      }
    }
  }

  let timer: TimerHandle | undefined;
  let dirty = false;
  let writing: Promise<void> | undefined;
  let lastError: unknown;
  let closed = false;
  let closing: Promise<void> | undefined;

  const serialise = (): string => {
    const servers: Record<string, Record<string, string>> = {};
    for (const name of [...byServer.keys()].sort()) {
      servers[name] = Object.fromEntries([...(byServer.get(name) ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    const sortedOf = (m: ReadonlyMap<string, string>) =>
      Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
    const file: Record<string, unknown> = { version: 1, servers };
    if (definitions.size > 0) {
      file.definitions = Object.fromEntries(
        [...definitions.keys()].sort().map((name) => [
          name,
          Object.fromEntries(
            [...(definitions.get(name) ?? [])]
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([tool, { hash, tool: def }]) => {
                const { name: _name, ...definition } = def;
                return [tool, { hash, definition }];
              }),
          ),
        ]),
      );
    }
    // Written only once there is one, so a proxy that never overrode a finding keeps the file it always had.
    if (overrides.size > 0) {
      file.overrides = Object.fromEntries(
        [...overrides.keys()].sort().map((name) => [name, sortedOf(overrides.get(name) ?? new Map())]),
      );
    }
    return `${JSON.stringify(file, null, 2)}\n`;
  };

  const writeOnce = async (): Promise<void> => {
    dirty = false;
    const content = serialise();
    const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, path);
      const dir = await open(dirname(path), 'r');
      try {
        await dir.sync();
      } catch {
        // Some filesystems refuse fsync on a directory; the rename is still atomic.
      } finally {
        await dir.close();
      }
      lastError = undefined;
    } catch (error) {
      dirty = true;
      lastError = error;
      logger.error('approvals: write failed', { path, error: String(error) });
      await unlink(temp).catch(() => {});
      throw error;
    }
  };

  /** Writes until nothing is dirty; one write at a time. */
  const drain = (): Promise<void> => {
    writing ??= (async () => {
      try {
        while (dirty) await writeOnce();
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  };

  const schedule = (): void => {
    dirty = true;
    if (closed || timer !== undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      drain().catch(() => {});
    }, debounceMs);
  };

  const flush = async (): Promise<void> => {
    clock.clearTimeout(timer);
    timer = undefined;
    if (writing) await writing.catch(() => {});
    if (dirty) await drain();
    else if (lastError !== undefined) throw lastError;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      try {
        await flush();
      } catch (error) {
        logger.error('approvals: last write failed on close', { path, error: String(error) });
      }
    })();
    return closing;
  };

  return {
    path,
    get: (server) => byServer.get(server),
    set(server, hashes, defs) {
      let changed = !sameHashes(byServer.get(server), hashes);
      byServer.set(server, new Map(hashes));
      const tools = definitions.get(server);
      for (const [name, kept] of tools ?? []) {
        if (hashes.get(name) === kept.hash) continue;
        tools?.delete(name);
        changed = true;
      }
      for (const [name, tool] of defs ?? []) {
        const hash = hashes.get(name);
        if (hash !== undefined && keep(server, name, hash, tool)) changed = true;
      }
      if (definitions.get(server)?.size === 0) definitions.delete(server);
      // A listing that changes nothing (the same pins, no new definition to keep) writes nothing.
      if (changed) schedule();
    },
    delete(server) {
      const had = byServer.delete(server);
      if (definitions.delete(server) || had) schedule();
    },
    definition: (server, tool) => definitions.get(server)?.get(tool)?.tool,
    override: (server, tool) => overrides.get(server)?.get(tool),
    setOverride(server, tool, hash) {
      let tools = overrides.get(server);
      if (!tools) {
        tools = new Map();
        overrides.set(server, tools);
      }
      if (tools.get(tool) === hash) return;
      tools.set(tool, hash);
      schedule();
    },
    flush,
    close,
    [Symbol.asyncDispose]: close,
  };
}
