import { join } from 'node:path';
import { type Clock, type Logger, silentLogger, systemClock, type TimerHandle } from '@mcpproxy/contracts';
import type { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor.js';
import { type ActivityEntry, type Queued, toRow } from './entry.js';
import { ActivityError } from './errors.js';
import { RingQueue } from './queue.js';
import { Retention } from './retention.js';
import { CSV_COLUMNS, csvRow, type InsertRow } from './rows.js';
import {
  type ActivityExportInput,
  ActivityExportSchema,
  type ActivityPage,
  type ActivityQueryInput,
  ActivityQuerySchema,
  type ActivityRecord,
  type ActivityStats,
  type ActivityStatsInput,
  ActivityStatsQuerySchema,
  MAX_STATS_BUCKETS,
  MAX_STATS_WINDOW_MS,
} from './schema.js';
import { type Filters, figuresOf, figuresQuery, INSERT_SQL, type Key, Store } from './store.js';
import { WRITER_PRAGMAS, Writer } from './writer.js';

/** Counters of the recording path, for `/metrics`. */
export interface ActivityMetrics {
  /** `record()` calls accepted. */
  recorded: number;
  /** Rows committed to the database. */
  written: number;
  /** Records dropped unwritten: queue overflow (oldest first) or a failed batch write. */
  dropped: number;
  /** Batches whose write failed (their records are counted in `dropped`). */
  write_errors: number;
  /** Records waiting in the queue. */
  queued: number;
  /** Rows removed by retention. */
  pruned: number;
}

export interface ActivityLogOptions {
  /** Folder of `activity.db` (the data dir); created if missing. */
  dir: string;
  /** @default systemClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Current secret values (the config's `secretValues()`), scrubbed from every stored text. @default none */
  secrets?: (() => readonly string[]) | undefined;
  /** Keep arguments and result text; `false` keeps sizes only. @default true */
  recordPayloads?: boolean | undefined;
  /** Bytes kept of each of arguments and result. @default 16384 */
  maxPayload?: number | undefined;
  /** Rows older than this are pruned (ms). @default 30 days */
  retention?: number | undefined;
  /** Oldest rows are pruned while the database holds more than this (bytes). @default 256 MiB */
  maxSize?: number | undefined;
  /** Records held in memory before the oldest are dropped. @default 10000 */
  queueSize?: number | undefined;
  /**
   * Records masked and handed to the writer thread at a time; a full batch goes on the next turn, never inside the
   * caller's call. A transaction takes up to 5 batches: it commits when `flushInterval` has passed since its first
   * record, or when its fifth batch arrives. @default 100
   */
  batchSize?: number | undefined;
  /** Longest a record waits before its transaction commits (ms). @default 200 */
  flushInterval?: number | undefined;
  /** Time between retention passes (ms). @default 60000 */
  pruneInterval?: number | undefined;
  /** Rows deleted per retention step, so no step holds the write lock long. @default 1000 */
  pruneBatch?: number | undefined;
  /** Called after each committed batch (for metrics, or to know what is durable). */
  onWrite?: ((info: { rows: number; written: number }) => void) | undefined;
}

/** The activity log. Writes are fire-and-forget; reads are synchronous SQLite queries. */
export interface ActivityLog {
  /** Queues an entry; O(1), never blocks, never throws. A no-op after `close()`. */
  record(entry: ActivityEntry): void;
  /** A page of records, newest first. Throws `ACTIVITY_INVALID_QUERY` / `ACTIVITY_INVALID_CURSOR` with the field. */
  list(query?: ActivityQueryInput): ActivityPage;
  /** One record, or `undefined`. */
  get(id: number): ActivityRecord | undefined;
  /**
   * Tool-call figures over a window, per server or per `server:tool`, in buckets. Computed in the writer thread
   * (a wide window sorts many calls), so it is async; bad input rejects with `ACTIVITY_INVALID_QUERY`.
   */
  stats(query?: ActivityStatsInput): Promise<ActivityStats>;
  /** The matching records, oldest first, as NDJSON or CSV text chunks of one page each. */
  export(query?: ActivityExportInput): AsyncIterable<string>;
  /** Writes everything queued now. */
  flush(): Promise<void>;
  /** Runs retention until nothing is left to prune, then refreshes the query planner's statistics (the background
   * pass does both every `pruneInterval`); returns rows deleted. */
  prune(): Promise<number>;
  metrics(): ActivityMetrics;
  /** Path of the database file. */
  readonly path: string;
  /** Flushes, stops timers and closes the database. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const EXPORT_PAGE = 500;
/**
 * Batches per transaction at most. Each commit writes every page it dirtied (a leaf of each filter index per
 * distinct key, full-text segments), about as much for 30 rows as for 300, so the writer's CPU per record falls as
 * transactions grow; the interval still bounds how long a record waits. Read at `createActivityLog`; exported
 * (not from the package) so the bench can measure a same-run baseline of one batch a transaction.
 */
export const TX_BATCHES = { max: 5 };
/** Batches handed to the writer thread and not yet acknowledged (committed); more than a transaction holds. */
const MAX_IN_FLIGHT = 8;

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ActivityError('ACTIVITY_INVALID_OPTIONS', `${name} must be a positive integer (got ${value})`, {
      field: name,
    });
  }
  return value;
}

function invalid(error: z.ZodError): ActivityError {
  const issue = error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : (issue as { keys?: string[] } | undefined)?.keys?.[0];
  return new ActivityError('ACTIVITY_INVALID_QUERY', `${field ?? 'query'}: ${issue?.message ?? 'invalid'}`, {
    field,
  });
}

/** Opens (creating or migrating) `activity.db` in `dir` and starts the batch writer and retention. */
export function createActivityLog(options: ActivityLogOptions): ActivityLog {
  const {
    dir,
    clock = systemClock,
    logger = silentLogger,
    secrets = () => [],
    recordPayloads = true,
    maxPayload = 16 * 1024,
    retention = 30 * 86_400_000,
    maxSize = 256 * 1024 * 1024,
    queueSize = 10_000,
    batchSize = 100,
    flushInterval = 200,
    pruneInterval = 60_000,
    pruneBatch = 1000,
    onWrite,
  } = options;
  for (const [k, v] of Object.entries({ maxPayload, retention, maxSize, queueSize, batchSize, pruneBatch })) {
    positive(k, v);
  }
  positive('flushInterval', flushInterval);
  positive('pruneInterval', pruneInterval);

  const path = join(dir, 'activity.db');
  const store = new Store(path);
  const queue = new RingQueue<Queued>(queueSize);
  const counters = { recorded: 0, written: 0, dropped: 0, write_errors: 0 };
  /** Ends the open transaction `flushInterval` after its first record. */
  let flushTimer: TimerHandle | undefined;
  /** Hands full batches over on the next turn. */
  let batchTimer: TimerHandle | undefined;
  /** Batches sent into the transaction the writer thread holds open (0: none open). */
  let txBatches = 0;
  /** The interval passed (or a flush asked) while the thread had no room: the next answer sends the commit. */
  let commitDue = false;
  const txMax = TX_BATCHES.max;
  let closed = false;
  let closing: Promise<void> | undefined;

  const writer = new Writer({ path, insertSql: INSERT_SQL, pragmas: [...WRITER_PRAGMAS] });
  let inFlight = 0;
  /** Resolvers waiting for the next answer from the writer thread (flush waits on these). */
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  };

  /**
   * Masks and serialises one batch here and hands it to the writer thread, into the transaction it holds open;
   * `commit` ends that transaction. Each batch is acknowledged when its transaction commits. At most MAX_IN_FLIGHT
   * batches are in the thread's hands; the rest wait in the ring queue, so memory stays bounded and overflow drops
   * the oldest. A failed write drops its transaction's batches (counted) rather than retrying into a broken disk.
   */
  const sendBatch = (commit: boolean): void => {
    const items = queue.take(batchSize);
    let rows: InsertRow[] = [];
    try {
      const secretList = secrets().filter((x) => x.length > 0);
      rows = items.map((it) => toRow(it, secretList, { maxPayload, recordPayloads }));
    } catch (cause) {
      failed(items.length, cause);
      rows = [];
    }
    if (rows.length === 0 && !(commit && txBatches > 0)) return; // nothing to insert and nothing open to commit
    inFlight++;
    txBatches = commit ? 0 : txBatches + 1;
    writer.request({ t: 'insert', rows, commit }).then(
      (n) => {
        inFlight--;
        counters.written += n;
        try {
          if (n > 0) onWrite?.({ rows: n, written: counters.written });
        } catch (cause) {
          logger.warn('activity: onWrite threw', { error: String(cause) });
        }
        afterWrite();
      },
      (cause) => {
        inFlight--;
        if (rows.length > 0) failed(rows.length, cause);
        afterWrite();
      },
    );
  };
  const failed = (n: number, cause: unknown): void => {
    counters.dropped += n;
    counters.write_errors++;
    logger.error('activity: batch write failed; records dropped', { rows: n, error: String(cause) });
  };
  const afterWrite = (): void => {
    wake();
    if (commitDue) commitAll();
    else pump();
  };
  /** Sends full batches while the thread has room; the one that fills a transaction commits it. */
  const pump = (): void => {
    while (queue.size >= batchSize && inFlight < MAX_IN_FLIGHT) sendBatch(txBatches + 1 >= txMax);
  };
  /** Sends everything queued and commits it (the interval passed, or a flush); an answer resumes it if full. */
  const commitAll = (): void => {
    commitDue = true;
    while (inFlight < MAX_IN_FLIGHT) {
      if (queue.size === 0 && txBatches === 0) break;
      const last = queue.size <= batchSize;
      sendBatch(last || txBatches + 1 >= txMax);
      if (last) break;
    }
    if (queue.size === 0 && txBatches === 0) commitDue = false;
  };

  const scheduleCommit = (): void => {
    if (flushTimer !== undefined || closing !== undefined) return;
    flushTimer = clock.setTimeout(() => {
      flushTimer = undefined;
      commitAll();
    }, flushInterval);
  };

  const retentionRunner = new Retention({
    ops: {
      pruneOlderThan: (before, batch) => writer.request({ t: 'pruneAge', before, batch }),
      pruneOldest: (batch) => writer.request({ t: 'pruneOldest', batch }),
      usedBytes: () => store.usedBytes(),
      analyze: async () => {
        await writer.request({ t: 'analyze' });
      },
    },
    clock,
    logger,
    retention,
    maxSize,
    pruneBatch,
    pruneInterval,
  });
  retentionRunner.start();

  const ensureOpen = (): void => {
    if (closed) throw new ActivityError('ACTIVITY_CLOSED', 'the activity log is closed');
  };

  const filtersOf = (q: Filters): Filters => q;

  const log: ActivityLog = {
    path,
    record(entry) {
      if (closing !== undefined) return;
      counters.recorded++;
      if (queue.push({ entry, time: entry.time ?? clock.now() })) counters.dropped++;
      scheduleCommit();
      if (queue.size >= batchSize && batchTimer === undefined) {
        // A full batch goes out on the next turn, never inside the caller's call.
        batchTimer = clock.setTimeout(() => {
          batchTimer = undefined;
          pump();
        }, 0);
      }
    },
    list(query = {}) {
      ensureOpen();
      const parsed = ActivityQuerySchema.safeParse(query);
      if (!parsed.success) throw invalid(parsed.error);
      const { limit, cursor, ...filters } = parsed.data;
      const key = cursor === undefined ? undefined : decodeCursor(cursor);
      // A version-1 cursor names a row; its row gone (pruned, so everything older is too) means nothing follows.
      const time = key === undefined ? undefined : (key.time ?? store.timeOf(key.id));
      if (key !== undefined && time === undefined) return { records: [], next_cursor: null };
      const before = key === undefined || time === undefined ? undefined : { time, id: key.id };
      const { records, more } = store.page(filtersOf(filters), limit, before);
      const last = records[records.length - 1];
      return { records, next_cursor: more && last ? encodeCursor(Date.parse(last.time), last.id) : null };
    },
    get(id) {
      ensureOpen();
      if (!Number.isSafeInteger(id) || id <= 0) {
        throw new ActivityError('ACTIVITY_INVALID_QUERY', 'id: must be a positive integer', { field: 'id' });
      }
      return store.get(id);
    },
    async stats(query = {}) {
      ensureOpen();
      const parsed = ActivityStatsQuerySchema.safeParse(query);
      if (!parsed.success) throw invalid(parsed.error);
      const { groupBy, window } = parsed.data;
      const bucket = parsed.data.bucket ?? Math.max(1, Math.ceil(window / 12));
      if (window > MAX_STATS_WINDOW_MS) {
        throw new ActivityError('ACTIVITY_INVALID_QUERY', 'window: at most 31 days', { field: 'window' });
      }
      if (bucket > window || Math.ceil(window / bucket) > MAX_STATS_BUCKETS) {
        throw new ActivityError(
          'ACTIVITY_INVALID_QUERY',
          `bucket: must be at most the window and give at most ${MAX_STATS_BUCKETS} buckets`,
          { field: 'bucket' },
        );
      }
      const until = parsed.data.until ?? clock.now();
      const since = until - window;
      const run = async (b: number | undefined) => {
        const { sql, params } = figuresQuery(groupBy, since, until, b);
        return figuresOf(await writer.read(sql, params));
      };
      const [totals, perBucket] = await Promise.all([run(undefined), run(bucket)]);
      const groups: ActivityStats['groups'] = totals.map(({ key, bucket: _b, ...fig }) => ({
        key,
        ...fig,
        buckets: [],
      }));
      const byKey = new Map(groups.map((g) => [g.key, g]));
      for (const { key, bucket: b, ...fig } of perBucket) {
        byKey.get(key)?.buckets.push({ start: new Date(since + b * bucket).toISOString(), ...fig });
      }
      return {
        group_by: groupBy,
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        window_ms: window,
        bucket_ms: bucket,
        groups,
      };
    },
    export(query = {}) {
      ensureOpen();
      const parsed = ActivityExportSchema.safeParse(query);
      if (!parsed.success) throw invalid(parsed.error);
      const { format, ...filters } = parsed.data;
      return exportChunks(store, filters, format, () => closed);
    },
    async flush() {
      while (queue.size > 0 || inFlight > 0 || txBatches > 0) {
        const answered = new Promise<void>((resolve) => waiters.push(resolve));
        commitAll();
        if (inFlight > 0) await answered;
      }
    },
    async prune() {
      ensureOpen();
      return retentionRunner.run();
    },
    metrics() {
      return { ...counters, queued: queue.size, pruned: retentionRunner.pruned };
    },
    close() {
      closing ??= (async () => {
        await log.flush();
        closed = true;
        if (flushTimer !== undefined) clock.clearTimeout(flushTimer);
        if (batchTimer !== undefined) clock.clearTimeout(batchTimer);
        flushTimer = undefined;
        batchTimer = undefined;
        await retentionRunner.stop();
        store.close();
        await writer.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return log.close();
    },
  };
  return log;
}

async function* exportChunks(
  store: Store,
  filters: Filters,
  format: 'ndjson' | 'csv',
  isClosed: () => boolean,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after: Key = { time: -1, id: 0 };
  for (;;) {
    if (isClosed()) throw new ActivityError('ACTIVITY_CLOSED', 'the activity log closed during an export');
    const page = store.ascending(filters, EXPORT_PAGE, after);
    if (page.length === 0) return;
    yield page.map((r) => (format === 'csv' ? csvRow(r) : `${JSON.stringify(r)}\n`)).join('');
    const last = page[page.length - 1] as ActivityRecord;
    after = { time: Date.parse(last.time), id: last.id };
    if (page.length < EXPORT_PAGE) return;
    // One page per macrotask turn: a large export never holds the event loop for long.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
