import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@mcpproxy/contracts';

/**
 * Temp files sit next to the target so `rename` stays on one filesystem (and so is atomic):
 * `.mcp_config.json.tmp-<pid>-<hex>`. The pid lets the start-up sweep leave a live process's file alone.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

function tempPattern(target: string): RegExp {
  const escaped = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${escaped}\\.tmp-(\\d+)-[0-9a-f]+$`);
}

/**
 * Writes `text` so that `target` holds either its old or its new content at every instant, even across a crash
 * or power loss: temp file (mode 0600) → write → fsync → rename over the target → fsync the directory (so the
 * rename itself is durable). On failure the temp file is removed and the error rethrown; the target is untouched.
 */
export async function writeFileAtomic(target: string, text: string, logger: Logger): Promise<void> {
  const temp = tempPathFor(target);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  // The new content is in place; a failing directory fsync (some filesystems refuse it) only weakens durability
  // across power loss, so it is logged rather than reported as a failed save.
  try {
    const dir = await open(dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    logger.warn('configsvc: fsync of the config directory failed', { dir: dirname(target), error: String(error) });
  }
}

/** Whether a process with this pid is running (EPERM means it exists but is not ours). */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files a crashed save left next to `target`; files of a running process (this one too) stay. */
export async function sweepTempFiles(target: string, logger: Logger): Promise<string[]> {
  const pattern = tempPattern(target);
  const dir = dirname(target);
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const m = pattern.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn('configsvc: could not remove a stray temp file', { file: name, error: String(error) });
      }
    }
  }
  if (removed.length > 0) logger.info('configsvc: removed stray temp files of an interrupted save', { removed });
  return removed;
}
