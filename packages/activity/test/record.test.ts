import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivityRecordSchema, createActivityLog } from '../src/index.js';
import { call, openLog, tempDir } from './helpers.js';

describe('recording', () => {
  it('stores every field of a tool call and reads it back', async () => {
    using tmp = tempDir();
    const { log, clock } = openLog(tmp.dir);
    const time = clock.now() - 1234;
    log.record({
      server: 'github',
      tool: 'create_issue',
      surface: 'mcp_server',
      status: 'error',
      duration_ms: 42.5,
      session: 'sess-1',
      client: { name: 'claude-code', version: '2.1.0' },
      error: { code: 'UPSTREAM_TIMEOUT', message: 'upstream took too long' },
      arguments: { title: 'Bug', body: 'ünïcode ✓' },
      result: 'partial result',
      time,
    });
    await log.flush();
    const [rec] = log.list().records;
    expect(ActivityRecordSchema.parse(rec)).toEqual({
      id: 1,
      time: new Date(time).toISOString(),
      kind: 'tool_call',
      server: 'github',
      tool: 'create_issue',
      surface: 'mcp_server',
      session: 'sess-1',
      client_name: 'claude-code',
      client_version: '2.1.0',
      status: 'error',
      duration_ms: 42.5,
      error_code: 'UPSTREAM_TIMEOUT',
      error_message: 'upstream took too long',
      request_bytes: Buffer.byteLength('{"title":"Bug","body":"ünïcode ✓"}'),
      response_bytes: 14,
      arguments: '{"title":"Bug","body":"ünïcode ✓"}',
      result: 'partial result',
      arguments_truncated: false,
      result_truncated: false,
      action: null,
      actor: null,
      detail: null,
    });
    expect(log.get(1)).toEqual(rec);
    expect(log.get(2)).toBeUndefined();
    await log.close();
  });

  it('stores lifecycle and management actions with who made them', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir);
    log.record({ kind: 'management', action: 'server_added', server: 'fs', actor: 'cli', detail: { groups: ['dev'] } });
    log.record({
      kind: 'lifecycle',
      action: 'state_changed',
      server: 'fs',
      detail: { from: 'connecting', to: 'ready' },
    });
    await log.flush();
    const mgmt = log.list({ kind: 'management' }).records;
    expect(mgmt).toHaveLength(1);
    expect(mgmt[0]).toMatchObject({ action: 'server_added', actor: 'cli', server: 'fs', detail: '{"groups":["dev"]}' });
    expect(log.list({ kind: 'lifecycle' }).records[0]).toMatchObject({
      action: 'state_changed',
      actor: null,
      detail: '{"from":"connecting","to":"ready"}',
    });
    await log.close();
  });

  it('never writes a secret in clear: not in arguments, results, errors or details, nor in any file on disk', async () => {
    using tmp = tempDir();
    const secret = 'ghp_S3CRETvalue0123456789';
    const keyed = 'pa55-word-by-key-only';
    const { log } = openLog(tmp.dir, { secrets: () => [secret] });
    for (let i = 0; i < 50; i++) {
      log.record(
        call({
          arguments: { token: keyed, query: `find ${secret} please`, nested: { password: keyed } },
          result: `echo: ${secret}`,
          error: { message: `401 for ${secret}` },
        }),
      );
    }
    log.record({ kind: 'management', action: 'server_updated', actor: 'api', detail: { env: { GITHUB: secret } } });
    await log.flush();
    const rec = log.list({ limit: 1, kind: 'tool_call' }).records[0];
    expect(rec?.arguments).toBe('{"token":"***","query":"find *** please","nested":{"password":"***"}}');
    expect(rec?.result).toBe('echo: ***');
    expect(rec?.error_message).toBe('401 for ***');
    // Read every byte SQLite wrote (db and WAL) before and after a checkpoint.
    const grep = () =>
      readdirSync(tmp.dir)
        .map((f) => readFileSync(join(tmp.dir, f)))
        .some((b) => b.includes(secret) || b.includes(keyed));
    expect(grep()).toBe(false);
    await log.close();
    expect(grep()).toBe(false);
  });

  it('truncates a 10 MB result to max_payload, marks it, and keeps its full size', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir, { maxPayload: 16 * 1024 });
    const big = 'é'.repeat(5 * 1024 * 1024); // 10 MiB in UTF-8, two bytes a character
    log.record(call({ result: big, arguments: { data: 'x'.repeat(100_000) } }));
    await log.flush();
    const rec = log.get(1);
    expect(rec?.response_bytes).toBe(10 * 1024 * 1024);
    expect(rec?.result_truncated).toBe(true);
    expect(rec?.arguments_truncated).toBe(true);
    expect(Buffer.byteLength(rec?.result ?? '')).toBe(16 * 1024);
    expect(rec?.result).toBe('é'.repeat(8 * 1024));
    expect(Buffer.byteLength(rec?.arguments ?? '')).toBeLessThanOrEqual(16 * 1024);
    await log.close();
    const bytes = readdirSync(tmp.dir).reduce((n, f) => n + readFileSync(join(tmp.dir, f)).length, 0);
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it('never splits a multi-byte character at the cut', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir, { maxPayload: 10 });
    log.record(call({ result: '€€€€€' })); // 15 bytes: three whole euros fit in 10
    await log.flush();
    expect(log.get(1)?.result).toBe('€€€');
    await log.close();
  });

  it('keeps sizes only when record_payloads is false', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir, { recordPayloads: false });
    log.record(call({ arguments: { a: 'hello' }, result: 'world!' }));
    await log.flush();
    expect(log.get(1)).toMatchObject({ arguments: null, result: null, request_bytes: 13, response_bytes: 6 });
    await log.close();
  });

  it('writes nothing until the flush interval, then one batch, on the injected clock', async () => {
    using tmp = tempDir();
    const writes: number[] = [];
    let wrote: () => void = () => {};
    const { log, clock } = openLog(tmp.dir, {
      flushInterval: 100,
      onWrite: ({ rows }) => {
        writes.push(rows);
        wrote();
      },
    });
    for (let i = 0; i < 3; i++) log.record(call());
    clock.advance(99);
    expect(log.metrics()).toMatchObject({ recorded: 3, written: 0, queued: 3 });
    const written = new Promise<void>((resolve) => {
      wrote = resolve;
    });
    clock.advance(1);
    expect(log.metrics().queued).toBe(0); // taken off the queue by the timer, committed by the writer thread
    await written;
    expect(writes).toEqual([3]);
    expect(log.metrics()).toMatchObject({ written: 3, queued: 0 });
    await log.close();
  });

  it('commits a full transaction (5 batches) without waiting for the interval, and the rest when it ends', async () => {
    using tmp = tempDir();
    const writes: number[] = [];
    let expectRows = 0;
    let done: () => void = () => {};
    const { log, clock } = openLog(tmp.dir, {
      batchSize: 10,
      flushInterval: 10_000,
      onWrite: ({ rows, written }) => {
        writes.push(rows);
        if (written === expectRows) done();
      },
    });
    const until = (rows: number) => {
      expectRows = rows;
      return new Promise<void>((resolve) => {
        done = resolve;
      });
    };
    for (let i = 0; i < 65; i++) log.record(call({ arguments: { i } }));
    const fifty = until(50);
    clock.advance(0);
    await fifty;
    expect(writes).toEqual([10, 10, 10, 10, 10]);
    expect(log.list({ limit: 1000 }).records).toHaveLength(50);
    // The sixth batch is in the next transaction, handed over but not committed: not visible, not acknowledged.
    expect(log.metrics()).toMatchObject({ written: 50, queued: 5 });
    await Promise.resolve();
    expect(log.list({ limit: 1000 }).records).toHaveLength(50);
    const all = until(65);
    clock.advance(10_000);
    await all;
    expect(writes).toEqual([10, 10, 10, 10, 10, 10, 5]);
    const ids = log.list({ limit: 1000 }).records.map((r) => JSON.parse(r.arguments ?? '{}').i);
    expect(ids).toEqual(Array.from({ length: 65 }, (_, k) => 64 - k));
    await log.close();
  });

  it('commits what the open transaction holds before a read in the writer thread (stats) or retention', async () => {
    using tmp = tempDir();
    const { log, clock } = openLog(tmp.dir, { batchSize: 10, flushInterval: 10_000 });
    for (let i = 0; i < 20; i++) log.record(call({ time: clock.now() }));
    clock.advance(0); // two full batches go to the thread, into a transaction that waits for the interval
    const stats = await log.stats({ groupBy: 'server', window: '1h', until: clock.now() + 1 });
    expect(stats.groups.map((g) => g.calls)).toEqual([20]);
    expect(log.list({ limit: 100 }).records).toHaveLength(20);
    expect(log.metrics()).toMatchObject({ written: 20, queued: 0 });
    await log.close();
  });

  it('drops the oldest unwritten records when the queue is full, counts them, and never blocks', async () => {
    using tmp = tempDir();
    const { log } = openLog(tmp.dir, { queueSize: 100, batchSize: 1000, flushInterval: 60_000 });
    for (let i = 0; i < 250; i++) log.record(call({ arguments: { i } }));
    expect(log.metrics()).toMatchObject({ recorded: 250, dropped: 150, queued: 100 });
    await log.flush();
    const kept = log.list({ limit: 1000 }).records.map((r) => JSON.parse(r.arguments ?? '{}').i);
    expect(kept).toEqual(Array.from({ length: 100 }, (_, k) => 249 - k));
    await log.close();
  });

  it('keeps a record across close and reopen', async () => {
    using tmp = tempDir();
    const first = openLog(tmp.dir);
    first.log.record(call({ tool: 'persisted' }));
    await first.log.close();
    const second = openLog(tmp.dir);
    expect(second.log.list().records.map((r) => r.tool)).toEqual(['persisted']);
    await second.log.close();
  });

  it('close() flushes, clears every timer, is idempotent, and refuses reads after', async () => {
    using tmp = tempDir();
    const { log, clock } = openLog(tmp.dir);
    log.record(call());
    expect(clock.pending()).toBeGreaterThan(0);
    await log.close();
    await log.close();
    expect(clock.pending()).toBe(0);
    expect(log.metrics().written).toBe(1);
    log.record(call()); // a no-op, not a throw: the call path never fails because of the log
    expect(log.metrics().recorded).toBe(1);
    expect(() => log.list()).toThrowError(expect.objectContaining({ code: 'ACTIVITY_CLOSED' }));
  });

  it('ends its writer thread on close() on the real clock', async () => {
    using tmp = tempDir();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const log = createActivityLog({ dir: tmp.dir });
    log.record(call());
    expect(process.getActiveResourcesInfo()).toContain('MessagePort');
    await log.close();
    const after = process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    expect(after).toBeLessThanOrEqual(before);
  });

  it('supports await using', async () => {
    using tmp = tempDir();
    {
      await using handle = openLog(tmp.dir).log;
      handle.record(call());
    }
    await using again = openLog(tmp.dir).log;
    expect(again.list().records).toHaveLength(1);
  });

  it('refuses bad options with the option named', () => {
    using tmp = tempDir();
    expect(() => openLog(tmp.dir, { queueSize: 0 })).toThrowError(
      expect.objectContaining({ code: 'ACTIVITY_INVALID_OPTIONS', field: 'queueSize' }),
    );
  });
});
