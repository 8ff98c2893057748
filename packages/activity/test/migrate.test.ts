import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { createActivityLog, migrate, SCHEMA_VERSION, schemaVersion } from '../src/index.js';
import { openLog, tempDir } from './helpers.js';

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
