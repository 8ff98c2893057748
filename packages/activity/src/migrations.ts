import type Database from 'libsql';
import { ActivityError } from './errors.js';

type Db = InstanceType<typeof Database>;

/**
 * The schema, as an append-only list: migration `i` takes `PRAGMA user_version` from `i` to `i + 1`. Never edit a
 * shipped step; add one. Each runs in its own transaction with the version bump, so a crash mid-migration leaves
 * the previous version whole.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the table. `AUTOINCREMENT` so ids are never reused after retention empties the table: cursors stay valid.
  `CREATE TABLE activity (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     kind TEXT NOT NULL,
     server TEXT, tool TEXT, surface TEXT, session TEXT, client_name TEXT, client_version TEXT,
     status TEXT, duration_ms REAL, error_code TEXT, error_message TEXT,
     request_bytes INTEGER, response_bytes INTEGER,
     arguments TEXT, result TEXT, truncated INTEGER NOT NULL DEFAULT 0,
     action TEXT, actor TEXT, detail TEXT
   );
   CREATE INDEX activity_time ON activity(time);`,
  // 2: indexes for the filters (each ends in id so a filtered page walks the index newest-first and stops at
  // `limit`; server + status, the dashboard's "errors of this server", gets its own), and full-text search over tool, error and payloads. The FTS table is contentless (the text lives
  // once, in `activity`) with contentless_delete so retention can remove rows from it; triggers keep it in step.
  `CREATE INDEX activity_server ON activity(server, id);
   CREATE INDEX activity_server_status ON activity(server, status, id);
   CREATE INDEX activity_tool ON activity(tool, id);
   CREATE INDEX activity_status ON activity(status, id);
   CREATE INDEX activity_session ON activity(session, id);
   CREATE INDEX activity_client ON activity(client_name, id);
   CREATE VIRTUAL TABLE activity_fts USING fts5(tool, error, payload, content='', contentless_delete=1);
   CREATE TRIGGER activity_fts_insert AFTER INSERT ON activity BEGIN
     INSERT INTO activity_fts(rowid, tool, error, payload)
       VALUES (new.id, new.tool, coalesce(new.error_code, '') || ' ' || coalesce(new.error_message, ''),
               coalesce(new.arguments, '') || ' ' || coalesce(new.result, '') || ' ' || coalesce(new.detail, ''));
   END;
   CREATE TRIGGER activity_fts_delete AFTER DELETE ON activity BEGIN
     DELETE FROM activity_fts WHERE rowid = old.id;
   END;
   INSERT INTO activity_fts(rowid, tool, error, payload)
     SELECT id, tool, coalesce(error_code, '') || ' ' || coalesce(error_message, ''),
            coalesce(arguments, '') || ' ' || coalesce(result, '') || ' ' || coalesce(detail, '')
     FROM activity;`,
  // 3: reads order by (time, id), so each filter's index is (filter, time) (SQLite appends the rowid, the id): a
  // `since`/`until` bound and the cursor become one range of it, where the (filter, id) indexes made a filtered page
  // with `until` far back walk every newer row of the filter. The plain time index already had this shape.
  `DROP INDEX activity_server;
   DROP INDEX activity_server_status;
   DROP INDEX activity_tool;
   DROP INDEX activity_status;
   DROP INDEX activity_session;
   DROP INDEX activity_client;
   CREATE INDEX activity_server_time ON activity(server, time);
   CREATE INDEX activity_server_status_time ON activity(server, status, time);
   CREATE INDEX activity_tool_time ON activity(tool, time);
   CREATE INDEX activity_status_time ON activity(status, time);
   CREATE INDEX activity_session_time ON activity(session, time);
   CREATE INDEX activity_client_time ON activity(client_name, time);`,
  // 4: FTS5 merges segments once 8 of a level exist instead of 4: each batch writes a small segment, and merging
  // every 4 rewrote each indexed word about log4(rows / batch) times; every 8 cuts the writer thread's CPU per
  // record (see the README's benchmarks) for at most twice the segments a `q` read walks per level. A setting
  // stored in the FTS table, so existing databases get it too.
  `INSERT INTO activity_fts(activity_fts, rank) VALUES ('automerge', 8);`,
];

/** The version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Reads `PRAGMA user_version`. */
export function schemaVersion(db: Db): number {
  const row = db.prepare('PRAGMA user_version').raw(true).get() as unknown[] | undefined;
  return Number(row?.[0] ?? 0);
}

/**
 * Brings `db` to version `to` (default: the latest). Returns the version found. A database newer than this code
 * is refused rather than written with an older idea of the schema.
 */
export function migrate(db: Db, to: number = SCHEMA_VERSION): number {
  const found = schemaVersion(db);
  if (found > SCHEMA_VERSION) {
    throw new ActivityError(
      'ACTIVITY_OPEN_FAILED',
      `activity.db has schema version ${found}, newer than this mcpproxy understands (${SCHEMA_VERSION}); upgrade mcpproxy`,
    );
  }
  for (let v = found; v < Math.min(to, SCHEMA_VERSION); v++) {
    const step = MIGRATIONS[v] as string;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(step);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (cause) {
      db.exec('ROLLBACK');
      throw new ActivityError('ACTIVITY_OPEN_FAILED', `activity.db migration to version ${v + 1} failed`, { cause });
    }
  }
  return found;
}
