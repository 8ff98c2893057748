import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { build } from 'tsup';
import { beforeAll, describe, expect, it } from 'vitest';
import { prng, tempDir } from './helpers.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
// Bundled once into the package's node_modules (so `libsql` resolves) and run with plain node: starting tsx for
// each of the 40 children costs seconds apiece on a loaded machine.
const OUT = join(PKG, 'node_modules', '.cache', 'activity-crash-child');
const CHILD = join(OUT, 'crash-child.js');

beforeAll(async () => {
  await build({
    entry: [SOURCE],
    outDir: OUT,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    silent: true,
    config: false,
    // As tsx does: the writer thread runs from its function's source, so a keepNames helper inside it would break it.
    keepNames: true,
  });
}, 60_000);
const RUNS = 40;
const BATCH = 50;
/** Batches the writer thread may hold (log.ts MAX_IN_FLIGHT): committed there before the main thread hears. */
const IN_FLIGHT = 8;

/** Starts a recorder, SIGKILLs it once it has acknowledged `acks` batches, and returns the last acknowledged count. */
function recordThenKill(dir: string, run: number, acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(run)], {
      cwd: PKG,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let seen = 0;
    let acked = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`run ${run}: no ${acks} acknowledgements within 30 s; stderr: ${err}`));
    }, 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const lines = out.split('\n');
      out = lines.pop() ?? '';
      for (const line of lines) {
        const m = /^W (\d+)$/.exec(line);
        if (!m) continue;
        acked = Number(m[1]);
        if (++seen === acks) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    // 'close' comes after stdout is drained, so every acknowledgement written before the kill is counted.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && seen >= acks) resolve(acked);
      else reject(new Error(`run ${run}: child ended by itself (${signal}); stderr: ${err}`));
    });
  });
}

describe('crash safety', () => {
  it(`survives ${RUNS} SIGKILLs under sustained recording: opens, passes integrity_check, loses only unacknowledged rows`, async () => {
    using tmp = tempDir();
    const rand = prng(40);
    let total = 0;
    for (let run = 1; run <= RUNS; run++) {
      const acked = await recordThenKill(tmp.dir, run, 1 + Math.floor(rand() * 6));
      const db = new Database(join(tmp.dir, 'activity.db'));
      try {
        expect(db.prepare('PRAGMA integrity_check').raw(true).all()).toEqual([['ok']]);
        const seqs = (
          db
            .prepare("SELECT json_extract(arguments, '$.seq') FROM activity WHERE tool = ? ORDER BY id")
            .raw(true)
            .all([`run${run}`]) as number[][]
        ).map((r) => r[0]);
        // Every acknowledged row is there, in order, without gaps; past the last ack, at most the batches the writer
        // thread held (committed, answer not yet printed).
        expect(seqs.length).toBeGreaterThanOrEqual(acked);
        expect(seqs.length).toBeLessThanOrEqual(acked + IN_FLIGHT * BATCH);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        total += seqs.length;
        expect(db.prepare('SELECT count(*) FROM activity').raw(true).get()).toEqual([total]);
      } finally {
        db.close();
      }
    }
  }, 300_000);
});
