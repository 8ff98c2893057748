import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';
import { ActivityError } from './errors.js';
import { migrate } from './migrations.js';
import { COLUMNS, toRecord } from './rows.js';
import type { ActivityRecord, CallFigures } from './schema.js';

type Db = InstanceType<typeof Database>;
type Statement = ReturnType<Db['prepare']>;

/** Validated filters, times in epoch milliseconds. */
export interface Filters {
  kind?: string | undefined;
  server?: string | undefined;
  tool?: string | undefined;
  status?: string | undefined;
  session?: string | undefined;
  client?: string | undefined;
  q?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

const FILTER_COLUMNS = [
  ['kind', 'kind'],
  ['server', 'server'],
  ['tool', 'tool'],
  ['status', 'status'],
  ['session', 'session'],
  ['client', 'client_name'],
] as const;

/**
 * The words of `q` as one FTS5 phrase, quotes doubled so input is never syntax. Whole words only: a prefix query
 * merges the doclists of every matching term before the first row comes out (10× slower on a common word at
 * 100,000 rows, and growing), while a plain phrase is read lazily in rowid order.
 */
function ftsPhrase(q: string): string {
  return `"${q.replace(/"/g, '""')}"`;
}

/** A position in the keyset order: `time` (epoch ms) then `id`. Full-text reads order by id alone. */
export interface Key {
  time: number;
  id: number;
}

/**
 * The SELECT of a filtered, keyset-ordered read. Column names come from fixed lists; values are bound. With `q`,
 * the full-text index drives the read (FTS5 walks its matches in rowid order and stops at the limit), so a word
 * found in every row costs no more than a rare one; it orders by id. Without it, rows come in `(time, id)` order
 * from the `(filter, time)` index of a filter (SQLite appends the rowid), so `since`/`until` and the cursor are one
 * index range and a page stops at `limit` however far back it starts.
 */
export function selectOf(
  f: Filters,
  after: { op: '<' | '>'; key: Key } | undefined,
  dir: 'ASC' | 'DESC',
): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const fts = f.q !== undefined;
  if (f.q !== undefined) {
    conds.push('activity_fts MATCH ?');
    params.push(ftsPhrase(f.q));
  }
  for (const [key, col] of FILTER_COLUMNS) {
    const v = f[key];
    if (v !== undefined) {
      conds.push(`a.${col} = ?`);
      params.push(v);
    }
  }
  if (f.since !== undefined) {
    conds.push('a.time >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    conds.push('a.time < ?');
    params.push(f.until);
  }
  if (after && fts) {
    conds.push(`activity_fts.rowid ${after.op} ?`);
    params.push(after.key.id);
  } else if (after) {
    // The bare `time` bound is what the planner turns into an index range; the row value settles ties.
    conds.push(`a.time ${after.op}= ?`, `(a.time, a.id) ${after.op} (?, ?)`);
    params.push(after.key.time, after.key.time, after.key.id);
  }
  const from = fts ? 'activity_fts JOIN activity a ON a.id = activity_fts.rowid' : 'activity a';
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const order = fts ? `activity_fts.rowid ${dir}` : `a.time ${dir}, a.id ${dir}`;
  return { sql: `SELECT ${SELECTED} FROM ${from} ${where} ORDER BY ${order} LIMIT ?`, params };
}

const SELECTED = COLUMNS.map((c) => `a.${c}`).join(', ');
/**
 * The query of calls, errors and nearest-rank p50/p95 of tool-call durations in [since, until), per group and, with
 * `bucketMs`, per bucket. SQLite sorts (spilling to disk when large), so memory stays bounded however many calls
 * the window holds; it runs in the writer thread, since a wide window takes a while.
 */
export function figuresQuery(
  groupBy: 'server' | 'tool',
  since: number,
  until: number,
  bucketMs: number | undefined,
): { sql: string; params: unknown[] } {
  const key = groupBy === 'server' ? 'server' : "server || ':' || tool";
  // Bound JS numbers arrive as REAL; the casts keep the bucket index an integer division.
  const bucket = bucketMs === undefined ? '0' : '(time - CAST(? AS INTEGER)) / CAST(? AS INTEGER)';
  const sql = `WITH w AS (
      SELECT ${key} AS g, ${bucket} AS b, coalesce(duration_ms, 0) AS d, status AS s
      FROM activity WHERE kind = 'tool_call' AND time >= ? AND time < ? AND server IS NOT NULL),
    r AS (SELECT g, b, d, s, ROW_NUMBER() OVER (PARTITION BY g, b ORDER BY d) AS rn,
                 COUNT(*) OVER (PARTITION BY g, b) AS n FROM w)
    SELECT g, b, MAX(n), SUM(s <> 'ok'),
           MIN(CASE WHEN rn * 100 >= n * 50 THEN d END), MIN(CASE WHEN rn * 100 >= n * 95 THEN d END)
    FROM r GROUP BY g, b ORDER BY g, b`;
  return { sql, params: bucketMs === undefined ? [since, until] : [since, bucketMs, since, until] };
}

/** Maps rows of {@link figuresQuery}. */
export function figuresOf(rows: unknown[][]): Array<CallFigures & { key: string; bucket: number }> {
  return rows.map((r) => ({
    key: String(r[0]),
    bucket: Number(r[1]),
    calls: Number(r[2]),
    errors: Number(r[3]),
    p50_ms: r[4] === null ? null : Number(r[4]),
    p95_ms: r[5] === null ? null : Number(r[5]),
  }));
}

/** The insert the writer thread prepares. */
export const INSERT_SQL = `INSERT INTO activity (${COLUMNS.slice(1).join(', ')}) VALUES (${COLUMNS.slice(1)
  .map(() => '?')
  .join(', ')})`;

/**
 * The reading side of the log, on the caller's thread: opens and migrates the database, then serves queries. WAL
 * lets it read while the writer thread writes. Prepared statements are cached per SQL text.
 */
export class Store {
  readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  constructor(readonly path: string) {
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      this.db = new Database(path);
      this.db.exec('PRAGMA busy_timeout = 5000');
      // Must come before anything writes the file (even the WAL switch): lets retention hand freed pages back to
      // the file system in small steps. A no-op on an existing database.
      this.db.exec('PRAGMA auto_vacuum = INCREMENTAL');
      // WAL: readers never wait on the writer; NORMAL sync keeps every committed batch through a process crash
      // (only an OS crash or power loss can lose the last ones), at a fraction of FULL's fsyncs.
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = NORMAL');
      migrate(this.db);
    } catch (cause) {
      if (cause instanceof ActivityError) throw cause;
      throw new ActivityError('ACTIVITY_OPEN_FAILED', `cannot open the activity log at ${path}`, { cause });
    }
  }

  private stmt(sql: string, returnsRows = true): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Rows as arrays: no per-row object with the driver's `_metadata` key to build and strip.
      if (returnsRows) s.raw(true);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Newest-first page after the keyset cursor `before`. Fetches one extra row to know whether more follow. */
  page(f: Filters, limit: number, before: Key | undefined): { records: ActivityRecord[]; more: boolean } {
    const { sql, params } = selectOf(f, before === undefined ? undefined : { op: '<', key: before }, 'DESC');
    const rows = this.stmt(sql).all([...params, limit + 1]) as unknown[][];
    const more = rows.length > limit;
    return { records: rows.slice(0, limit).map(toRecord), more };
  }

  /** Oldest-first rows after `after`, for export. */
  ascending(f: Filters, limit: number, after: Key): ActivityRecord[] {
    const { sql, params } = selectOf(f, { op: '>', key: after }, 'ASC');
    return (this.stmt(sql).all([...params, limit]) as unknown[][]).map(toRecord);
  }

  /** The stored time (epoch ms) of row `id`, to place a version-1 cursor (id only) in the `(time, id)` order. */
  timeOf(id: number): number | undefined {
    const row = this.stmt('SELECT time FROM activity WHERE id = ?').get([id]) as unknown[] | undefined;
    return row ? Number(row[0]) : undefined;
  }

  get(id: number): ActivityRecord | undefined {
    const row = this.stmt(`SELECT ${SELECTED} FROM activity a WHERE a.id = ?`).get([id]) as unknown[] | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Bytes the database holds in live pages (free pages excluded). */
  usedBytes(): number {
    const pages = Number((this.stmt('PRAGMA page_count').get([]) as unknown[])[0]);
    const free = Number((this.stmt('PRAGMA freelist_count').get([]) as unknown[])[0]);
    const size = Number((this.stmt('PRAGMA page_size').get([]) as unknown[])[0]);
    return (pages - free) * size;
  }

  /** Closes the reading connection (the writer thread checkpoints when it closes, last). */
  close(): void {
    this.db.close();
  }
}
