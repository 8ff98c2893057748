import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { createActivityLog, migrate, SCHEMA_VERSION, schemaVersion } from '../src/index.js';
import { type Filters, selectOf } from '../src/store.js';
import { call, openLog, tempDir } from './helpers.js';

describe('schema migrations', () => {
  it('creates a new database at the latest version, in WAL mode', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir);
    await log.close();
    const db = new Database(join(tmp.dir, 'activity.db'));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.prepare('PRAGMA journal_mode').raw(true).get()).toEqual(['wal']);
    db.close();
  });

  it('migrates a version-1 database: old rows stay and become searchable', async () => {
    using tmp = tempDir();
    const db = new Database(join(tmp.dir, 'activity.db'));
    migrate(db, 1);
    expect(schemaVersion(db)).toBe(1);
    db.prepare(
      "INSERT INTO activity (time, kind, server, tool, status, duration_ms, arguments, truncated) VALUES (?, 'tool_call', 'old', 'legacy_tool', 'ok', 3, ?, 0)",
    ).run([Date.UTC(2026, 0, 1), '{"note":"from the first schema"}']);
    db.close();

    const { log } = openLog(tmp.dir, { retention: 3650 * 86_400_000 });
    expect(log.list({ server: 'old' }).records.map((r) => r.tool)).toEqual(['legacy_tool']);
    expect(log.list({ q: 'first schema' }).records).toHaveLength(1);
    log.record({ server: 'new', tool: 't', surface: 'cli', status: 'ok', duration_ms: 1 });
    await log.close();

    const again = new Database(join(tmp.dir, 'activity.db'));
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
    expect(again.prepare('SELECT max(id) FROM activity').raw(true).get()).toEqual([2]);
    expect(again.prepare('PRAGMA integrity_check').raw(true).get()).toEqual(['ok']);
    again.close();
  });

  it('migrates a version-2 database to (filter, time) indexes: rows, order and an issued version-1 cursor hold', async () => {
    using tmp = tempDir();
    const db = new Database(join(tmp.dir, 'activity.db'));
    migrate(db, 2);
    const insert = db.prepare(
      "INSERT INTO activity (time, kind, server, status, truncated) VALUES (?, 'tool_call', 'old', ?, 0)",
    );
    // Ids 1..6; id 4 carries the earliest time, so (time, id) order differs from id order.
    for (const [time, status] of [
      [10, 'ok'],
      [20, 'error'],
      [30, 'ok'],
      [5, 'error'],
      [40, 'error'],
      [50, 'ok'],
    ]) {
      insert.run([time, status]);
    }
    db.close();

    const { log } = openLog(tmp.dir, { retention: 3650 * 86_400_000, clock: undefined });
    const ids = (q: Parameters<typeof log.list>[0]) => log.list(q).records.map((r) => r.id);
    expect(ids({ server: 'old' })).toEqual([6, 5, 3, 2, 1, 4]);
    expect(ids({ status: 'error', until: 40 })).toEqual([2, 4]);
    const first = log.list({ server: 'old', limit: 2 });
    expect(ids({ server: 'old', cursor: first.next_cursor as string })).toEqual([3, 2, 1, 4]);
    // A cursor issued by the previous version names only the id; it resumes after that row's time.
    const v1 = Buffer.from('a1.3').toString('base64url');
    expect(ids({ server: 'old', cursor: v1 })).toEqual([2, 1, 4]);
    expect(log.list({ cursor: Buffer.from('a1.99').toString('base64url') })).toEqual({
      records: [],
      next_cursor: null,
    });
    await log.close();

    const again = new Database(join(tmp.dir, 'activity.db'));
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
    const indexes = again.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'activity'");
    expect((indexes.raw(true).all() as string[][]).flat().sort()).toEqual([
      'activity_client_time',
      'activity_server_status_time',
      'activity_server_time',
      'activity_session_time',
      'activity_status_time',
      'activity_time',
      'activity_tool_time',
    ]);
    expect(again.prepare('PRAGMA integrity_check').raw(true).get()).toEqual(['ok']);
    again.close();
  });

  it('migrates a version-3 database to FTS automerge 8: old rows stay searchable, new rows join them', async () => {
    using tmp = tempDir();
    const db = new Database(join(tmp.dir, 'activity.db'));
    migrate(db, 3);
    const automerge = (d: InstanceType<typeof Database>) =>
      d.prepare("SELECT v FROM activity_fts_config WHERE k = 'automerge'").raw(true).get() as unknown[] | undefined;
    expect(automerge(db)).toBeUndefined(); // FTS5's default, 4
    const insert = db.prepare(
      "INSERT INTO activity (time, kind, server, tool, status, arguments, truncated) VALUES (?, 'tool_call', 'old', 'grep', 'ok', ?, 0)",
    );
    for (let i = 1; i <= 40; i++) insert.run([i, `{"pattern":"needle ${i % 2 === 0 ? 'even' : 'odd'}"}`]);
    db.close();

    const { log } = openLog(tmp.dir, { retention: 3650 * 86_400_000, clock: undefined, batchSize: 3 });
    for (let i = 0; i < 30; i++) log.record(call({ server: 'new', arguments: { pattern: `needle ${i}` } }));
    await log.flush();
    expect(log.list({ q: 'needle even', limit: 1000 }).records).toHaveLength(20);
    expect(log.list({ q: 'needle', limit: 1000 }).records).toHaveLength(70);
    expect(log.list({ q: 'needle 7', limit: 1000 }).records.map((r) => r.server)).toEqual(['new']);
    await log.close();

    const again = new Database(join(tmp.dir, 'activity.db'));
    expect(schemaVersion(again)).toBe(SCHEMA_VERSION);
    expect(automerge(again)).toEqual([8]);
    again.prepare("INSERT INTO activity_fts(activity_fts, rank) VALUES ('integrity-check', 0)").run([]); // throws if not
    again.close();
  });

  it('checkpoints the WAL every 4,000 pages, not every 1,000, and empties it on close', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir, { clock: undefined, batchSize: 500 });
    const wal = join(tmp.dir, 'activity.db-wal');
    // About 2,000 pages of new rows: with SQLite's default the WAL would restart from its start near 1,000.
    for (let i = 0; i < 2000; i++) log.record(call({ result: `${i} ${'x'.repeat(3000)}` }));
    await log.flush();
    expect(statSync(wal).size).toBeGreaterThan(1500 * 4096);
    await log.close();
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
  });

  it('reads every filter shape through an index in (time, id) order, never a scan or a sort', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir);
    await log.close();
    const db = new Database(join(tmp.dir, 'activity.db'));
    const shapes: Filters[] = [
      {},
      { server: 's' },
      { server: 's', status: 'error' },
      { tool: 't', since: 1 },
      { session: 'x', client: 'c' },
      { status: 'timeout', until: 1 },
      { since: 1, until: 2 },
      { q: 'w', server: 's' },
    ];
    for (const f of shapes) {
      for (const [after, dir] of [
        [undefined, 'DESC'],
        [{ op: '<', key: { time: 5, id: 5 } }, 'DESC'],
        [{ op: '>', key: { time: 5, id: 5 } }, 'ASC'],
      ] as const) {
        const { sql, params } = selectOf(f, after, dir);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all([...params, 51]) as Array<{ detail: string }>)
          .map((p) => p.detail)
          .join(' | ');
        const label = `${JSON.stringify(f)} ${after?.op ?? ''} ${dir}: ${plan}`;
        expect(plan, label).not.toMatch(/TEMP B-TREE|SCAN a\b(?! USING INDEX activity_time)/);
        if (f.q === undefined) expect(plan, label).toMatch(/USING INDEX activity_\w*time/);
        else expect(plan, label).toMatch(/VIRTUAL TABLE INDEX/);
        if (after && f.q === undefined) expect(plan, label).toMatch(/time[<>]/);
      }
    }
    db.close();
  });

  it('refuses a database from a newer version instead of writing it', () => {
    using tmp = tempDir();
    const db = new Database(join(tmp.dir, 'activity.db'));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => createActivityLog({ dir: tmp.dir })).toThrowError(
      expect.objectContaining({ code: 'ACTIVITY_OPEN_FAILED' }),
    );
  });

  it('says so when the path cannot hold a database', () => {
    using tmp = tempDir();
    expect(() => createActivityLog({ dir: join(tmp.dir, 'activity.db', '\0bad') })).toThrowError(
      expect.objectContaining({ code: 'ACTIVITY_OPEN_FAILED' }),
    );
  });
});
