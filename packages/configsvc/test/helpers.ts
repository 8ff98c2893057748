import { type FSWatcher, watch } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type BusEvent, parseServerConfig, type ServerConfig } from '@mcpproxy/contracts';
import type { EventStream } from '@mcpproxy/events';

/** A fresh directory under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'configsvc-'));
  return { dir, file: join(dir, 'mcp_config.json'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `check` until it returns a truthy value; fails after `timeout` ms. Waits for a condition, never a pace. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeout = 5_000, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The next event of a bus stream, or a failure after `timeout` ms. */
export async function nextEvent(stream: EventStream, timeout = 5_000): Promise<BusEvent> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const event = await Promise.race([
      stream.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeout} ms`)), timeout);
      }),
    ]);
    if (!event) throw new Error('stream closed');
    return event;
  } finally {
    clearTimeout(timer);
  }
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
