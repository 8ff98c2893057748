import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isPermissionError, ServeError } from './exit-codes.js';

/** The lock a running instance holds on its data dir. */
export interface DataDirLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent; never rejects. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** Name of the lock file inside the data dir. @default 'mcpproxy.lock' */
  fileName?: string | undefined;
}

interface LockContent {
  pid: number;
  hostname: string;
  token: string;
  started_at: string;
}

/** Whether a process is running (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // "pid (comm) S …": the state follows the last ')'. Linux only; elsewhere the kill answer stands.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function parse(text: string): LockContent | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    if (typeof v.pid === 'number' && typeof v.hostname === 'string' && typeof v.token === 'string') {
      return { pid: v.pid, hostname: v.hostname, token: v.token, started_at: String(v.started_at ?? '') };
    }
  } catch {
    // fall through: not a lock we can read
  }
  return undefined;
}

/**
 * Takes the data dir's lock: a file created with `O_EXCL` holding this process's pid. A lock left by a process that
 * is gone (crash, `kill -9`) is taken over; a lock held by a live process — including another server in this same
 * process — is refused, so two instances never write the same config and approvals.
 * @throws {ServeError} `DATA_DIR_LOCKED` (exit 3) when another instance holds it; `PERMISSION_DENIED` (exit 5).
 */
export async function acquireLock(
  dataDir: string,
  { fileName = 'mcpproxy.lock' }: LockOptions = {},
): Promise<DataDirLock> {
  const path = join(dataDir, fileName);
  const mine: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    token: randomBytes(8).toString('hex'),
    started_at: new Date().toISOString(),
  };
  const text = `${JSON.stringify(mine)}\n`;

  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      return lockHandle(path, mine.token);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        if (isPermissionError(error)) {
          throw new ServeError('PERMISSION_DENIED', `cannot create the lock file ${path}: permission denied`, {
            cause: error,
          });
        }
        throw new ServeError('START_FAILED', `cannot create the lock file ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    let current: string;
    try {
      current = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ServeError('DATA_DIR_LOCKED', `the data dir ${dataDir} is locked (${path} is unreadable)`, {
        cause: error,
      });
    }
    const holder = parse(current);
    if (holder === undefined && current.length === 0 && attempt === 0) {
      // Another instance may be between creating the file and writing its pid: look once more.
      continue;
    }
    if (holder && (holder.hostname !== mine.hostname || processAlive(holder.pid))) {
      throw new ServeError(
        'DATA_DIR_LOCKED',
        `the data dir ${dataDir} is in use by another mcpproxy (pid ${holder.pid} on ${holder.hostname}); ` +
          `stop it, or use another data dir`,
      );
    }
    // Stale (its process is gone) or unreadable: take it over, unless someone else just did.
    const again = await readFile(path, 'utf8').catch(() => undefined);
    if (again === current) await unlink(path).catch(() => {});
  }
  throw new ServeError('DATA_DIR_LOCKED', `the data dir ${dataDir} is locked (${path})`);
}

function lockHandle(path: string, token: string): DataDirLock {
  let released: Promise<void> | undefined;
  return {
    path,
    release() {
      released ??= (async () => {
        try {
          const holder = parse(await readFile(path, 'utf8'));
          if (holder?.token === token) await unlink(path);
        } catch {
          // Already gone, or the data dir went away: nothing to release.
        }
      })();
      return released;
    },
  };
}
