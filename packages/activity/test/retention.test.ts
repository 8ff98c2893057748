import { statSync } from 'node:fs';
import { createFakeClock, silentLogger } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { Retention } from '../src/retention.js';
import { call, openLog, tempDir } from './helpers.js';

const DAY = 86_400_000;

describe('retention', () => {
  it('prunes records older than the retention in the background and keeps newer ones', async () => {
    using tmp = tempDir();
    const { log, clock } = openLog(tmp.dir, { retention: 30 * DAY, pruneInterval: 60_000, pruneBatch: 100 });
    const now = clock.now();
    for (let i = 0; i < 1000; i++) log.record(call({ time: now - 40 * DAY + i, tool: 'old' }));
    for (let i = 0; i < 50; i++) log.record(call({ time: now - DAY + i, tool: 'recent' }));
    await log.flush();
    clock.advance(59_999);
    expect(log.metrics().pruned).toBe(0);
    // The pass deletes one batch per timer turn and reschedules itself at once while batches come back full.
    clock.advance(1); // starts the background pass; prune() joins the pass in progress
    await log.prune();
    expect(log.metrics().pruned).toBe(1000);
    expect(log.list({ limit: 1000 }).records.every((r) => r.tool === 'recent')).toBe(true);
    expect(log.list({ limit: 1000 }).records).toHaveLength(50);
    await log.close();
  });

  it('prunes the oldest records while the database is larger than max_size', async () => {
    using tmp = tempDir();
    const maxSize = 1024 * 1024;
    const { log } = openLog(tmp.dir, { maxSize, pruneBatch: 200 });
    for (let i = 0; i < 4000; i++) log.record(call({ arguments: { i, pad: 'p'.repeat(1000) } }));
    await log.flush();
    const pruned = await log.prune();
    expect(pruned).toBeGreaterThan(0);
    const left = log.list({ limit: 1000 }).records;
    // What is left is the newest, contiguous up to the last id.
    expect(left[0]?.id).toBe(4000);
    const oldest = 4000 - (4000 - pruned) + 1;
    expect(log.list({ limit: 1, since: 0 }).records[0]?.id).toBe(4000);
    expect(log.get(oldest - 1)).toBeUndefined();
    expect(log.get(oldest)).toBeDefined();
    await log.close();
    expect(statSync(`${tmp.dir}/activity.db`).size).toBeLessThanOrEqual(maxSize * 1.2);
  });

  it('deletes at most one batch per step and ends a pass with a statistics refresh', async () => {
    const clock = createFakeClock();
    let old = 250;
    const calls: string[] = [];
    const r = new Retention({
      ops: {
        pruneOlderThan: async (before, batch) => {
          expect(before).toBe(clock.now() - DAY);
          const n = Math.min(batch, old);
          old -= n;
          calls.push(`age ${n}`);
          return n;
        },
        pruneOldest: async () => 0,
        usedBytes: () => 0,
        analyze: async () => {
          calls.push('analyze');
        },
      },
      clock,
      logger: silentLogger,
      retention: DAY,
      maxSize: 1e9,
      pruneBatch: 100,
      pruneInterval: 1000,
    });
    expect(await r.run()).toBe(250);
    expect(calls).toEqual(['age 100', 'age 100', 'age 50', 'analyze']);
    await r.stop();
  });
});
