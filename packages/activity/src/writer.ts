import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ActivityError } from './errors.js';

/** What the writer thread is told at start. SQL travels as data so the thread's program stays self-contained. */
export interface WriterData {
  path: string;
  libsqlPath: string;
  insertSql: string;
  /** Statements the writer's connection runs once it opens (its per-connection settings). */
  pragmas: readonly string[];
}

/**
 * The writer connection's settings. A checkpoint every 4,000 WAL pages (16 MiB at 4 KiB pages) instead of SQLite's
 * 1,000: each batch dirties a leaf of every filter index per distinct key, and a checkpoint copies each page once
 * however often it changed since the last, so a larger interval copies the same hot leaves fewer times. The WAL
 * file keeps its peak size until `close()` empties it. Exported (not from the package) so the bench can measure a
 * same-run baseline without them.
 */
export const WRITER_PRAGMAS: string[] = ['PRAGMA wal_autocheckpoint = 4000'];

/** One request to the writer thread. */
export type WriterRequest =
  | { id: number; t: 'insert'; rows: unknown[][]; commit: boolean }
  | { id: number; t: 'pruneAge'; before: number; batch: number }
  | { id: number; t: 'pruneOldest'; batch: number }
  | { id: number; t: 'analyze' }
  | { id: number; t: 'read'; sql: string; params: unknown[] }
  | { id: number; t: 'close' };

type Reply = { id: number; ok: true; n: number; rows?: unknown[][] } | { id: number; ok: false; error: string };

interface Port {
  on(event: 'message', fn: (m: WriterRequest) => void): void;
  postMessage(m: Reply): void;
  close(): void;
}

/**
 * The writer thread's whole program. It runs from its source text (`Function.prototype.toString`) in an eval'd
 * worker, so it must not refer to anything outside its own body: the driver comes in through `req`, the SQL
 * through `data`. Every write to `activity.db` happens here, off the thread that serves calls.
 */
export function writerMain(req: (id: string) => unknown, data: WriterData, port: Port): void {
  type Stmt = {
    run(params?: unknown[]): { changes: number };
    raw(on: boolean): Stmt;
    all(params?: unknown[]): unknown[][];
  };
  type Db = {
    exec(sql: string): void;
    prepare(sql: string): Stmt;
    close(): void;
  };
  const Database = req(data.libsqlPath) as new (path: string) => Db;
  const db = new Database(data.path);
  db.exec('PRAGMA busy_timeout = 5000');
  db.exec('PRAGMA synchronous = NORMAL');
  for (const p of data.pragmas) db.exec(p);
  const insert = db.prepare(data.insertSql);
  // The transaction batches go into: each is answered when it commits (or fails with it), in order. No named
  // functions in this body: a bundler's keepNames helper (`__name`) would not exist in the eval'd thread.
  let open = false;
  let held: Array<{ id: number; n: number }> = [];
  const pruneAge = db.prepare(
    'DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE time < ? ORDER BY time LIMIT ?)',
  );
  const pruneOldest = db.prepare('DELETE FROM activity WHERE id IN (SELECT id FROM activity ORDER BY id LIMIT ?)');
  // Heavy reads (stats) run here too, off the caller's thread; their SQL comes from a fixed set of shapes.
  const reads = new Map<string, Stmt>();
  port.on('message', (m) => {
    // Inserts go into the open transaction (opening one if none); `commit`, or any other request, ends it first,
    // so reads and retention see committed rows.
    let failure: string | undefined;
    let settle = false;
    if (m.t === 'insert' || open) {
      try {
        if (m.t === 'insert') {
          held.push({ id: m.id, n: m.rows.length });
          if (!open) {
            db.exec('BEGIN');
            open = true;
          }
          for (const r of m.rows) insert.run(r);
        }
        if (m.t !== 'insert' || m.commit) {
          open = false;
          db.exec('COMMIT');
          settle = true;
        }
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
        settle = true;
        open = false;
        try {
          db.exec('ROLLBACK');
        } catch {
          // SQLite already rolled it back
        }
      }
    }
    if (settle) {
      const batches = held;
      held = [];
      for (const b of batches) {
        port.postMessage(
          failure === undefined ? { id: b.id, ok: true, n: b.n } : { id: b.id, ok: false, error: failure },
        );
      }
    }
    if (m.t === 'insert') return;
    try {
      let n = 0;
      if (m.t === 'read') {
        let st = reads.get(m.sql);
        if (!st) {
          st = db.prepare(m.sql).raw(true);
          reads.set(m.sql, st);
        }
        port.postMessage({ id: m.id, ok: true, n: 0, rows: st.all(m.params) });
        return;
      }
      if (m.t === 'pruneAge') {
        n = pruneAge.run([m.before, m.batch]).changes;
      } else if (m.t === 'pruneOldest') {
        n = pruneOldest.run([m.batch]).changes;
        // The file stays as large as its peak unless freed pages go back; a bounded step at a time.
        db.exec('PRAGMA incremental_vacuum(2000)');
      } else if (m.t === 'analyze') {
        // A sampled ANALYZE (a few ms) keeps the planner choosing the more selective index for two filters.
        db.exec('PRAGMA analysis_limit = 1000');
        db.exec('ANALYZE');
      } else if (m.t === 'close') {
        db.exec('PRAGMA optimize');
        // Folds the WAL back into the database and empties it, so a closed log is one file of its real size.
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        db.close();
        port.postMessage({ id: m.id, ok: true, n: 0 });
        port.close();
        return;
      }
      port.postMessage({ id: m.id, ok: true, n });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
}

type Pending = { resolve: (r: { n: number; rows?: unknown[][] }) => void; reject: (e: Error) => void };
type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The main thread's handle on the writer thread: requests are answered in order, as promises. */
export class Writer {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken: Error | undefined;

  constructor(data: Omit<WriterData, 'libsqlPath'>) {
    const libsqlPath = createRequire(import.meta.url).resolve('libsql');
    const source = `const { workerData, parentPort } = require('node:worker_threads');
(${writerMain.toString()})(require, workerData, parentPort);`;
    this.worker = new Worker(source, { eval: true, workerData: { ...data, libsqlPath } satisfies WriterData });
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m);
      else p?.reject(new ActivityError('ACTIVITY_OPEN_FAILED', `activity writer: ${m.error}`));
    });
    const fail = (err: Error) => {
      this.broken ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(err));
    this.worker.on('exit', (code) => fail(new Error(`activity writer thread exited (${code})`)));
  }

  /** Sends a request; resolves to its count, rejects if the thread failed or fails before answering. */
  async request(body: Body<WriterRequest>): Promise<number> {
    return (await this.send(body)).n;
  }

  /** Runs a read in the thread; resolves to raw rows. */
  async read(sql: string, params: unknown[]): Promise<unknown[][]> {
    return (await this.send({ t: 'read', sql, params })).rows ?? [];
  }

  private send(body: Body<WriterRequest>): Promise<{ n: number; rows?: unknown[][] }> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id });
    });
  }

  /** Closes the database in the thread (checkpointing the WAL), then ends the thread. */
  async close(): Promise<void> {
    try {
      await this.request({ t: 'close' });
    } catch {
      // already broken: nothing to checkpoint
    }
    await this.worker.terminate();
  }
}
