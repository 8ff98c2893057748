import { type FSWatcher, watch } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseServerConfig, type ServerConfig } from '@mcpproxy/contracts';

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'configsvc-'));
  return { dir, file: join(dir, 'mcp_config.json'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Saves `content` the way most editors do: a new file renamed over the old one (one watch event). */
export async function handEdit(file: string, content: unknown): Promise<void> {
  const temp = join(dirname(file), `editor-${basename(file)}.swp`);
  await writeFile(temp, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  await rename(temp, file);
}

export async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
}

/** A complete, valid stdio server entry. */
export function server(name: string, command = 'node'): ServerConfig {
  const parsed = parseServerConfig({ name, command });
  if (!parsed.ok) throw new Error(`bad test server ${name}`);
  return parsed.value;
}

/**
 * An independent watch on the config's directory. inotify delivers an event to every watch of the directory in
 * the same loop turn, so once this witness has seen an edit, the service's watcher has seen it too.
 */
export function witness(file: string): { seen: () => number; close: () => void } {
  let count = 0;
  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (name === basename(file)) count++;
  });
  return { seen: () => count, close: () => watcher.close() };
}
