import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, type FakeClock } from '@mcpproxy/contracts';
import { type ActivityLog, type ActivityLogOptions, createActivityLog, type ToolCallEntry } from '../src/index.js';

/** A temp folder removed by the returned disposer. */
export function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcpproxy-activity-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A log on a fake clock in `dir`. */
export function openLog(
  dir: string,
  options: Partial<ActivityLogOptions> = {},
): { log: ActivityLog; clock: FakeClock } {
  const clock = (options.clock as FakeClock | undefined) ?? createFakeClock();
  return { log: createActivityLog({ dir, clock, ...options }), clock };
}

/** A deterministic PRNG (mulberry32) so data sets are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function call(overrides: Partial<ToolCallEntry> = {}): ToolCallEntry {
  return { server: 'github', tool: 'search', surface: 'mcp', status: 'ok', duration_ms: 5, ...overrides };
}
