import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { afterAll, describe, expect, it } from 'vitest';
import { everything, tempDir, writeConfig } from './helpers.js';

// Crash safety of the activity log at the server level: a serving mcpproxy (its own process, with a real upstream)
// is SIGKILLed while calls stream through it; each time the database opens, passes `PRAGMA integrity_check`, and
// still holds every record the previous rounds committed. `ACTIVITY_CRASH_ROUNDS` raises the count (40 in a long run).

const HERE = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ACTIVITY_CRASH_ROUNDS ?? 10);

function startChild(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  // Its own process group, so the kill takes the upstream (server-everything) down with it.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'fixtures', 'activity-serve-main.ts'), dataDir],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 30 s')), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URL (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening`));
    });
  });
}

function killGroup(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  });
}

async function waitReady(url: string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/servers/everything`).catch(() => undefined);
    const body = res?.ok ? ((await res.json()) as { summary: { state: string } }) : undefined;
    if (body?.summary.state === 'ready') return;
    if (Date.now() > until) throw new Error('everything not ready in 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function inspect(path: string): { integrity: string; rows: number } {
  const db = new Database(path);
  try {
    const integrity = (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
    const rows = (db.prepare("SELECT count(*) AS n FROM activity WHERE kind = 'tool_call'").get() as { n: number }).n;
    return { integrity, rows };
  } finally {
    db.close();
  }
}

describe('activity log: SIGKILL of the server during sustained calls', () => {
  const dir = tempDir('mcpproxy-activity-crash-');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) await killGroup(c);
    dir.cleanup();
  });

  it(
    `opens, passes integrity_check and keeps every committed record, ${ROUNDS} kills in a row`,
    async () => {
      writeConfig(join(dir.path, 'mcp_config.json'), {
        listen: '127.0.0.1:0',
        mcpServers: [everything('everything', { quarantined: false })],
      });
      let before = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { child, url } = await startChild(dir.path);
        children.push(child);
        await waitReady(url);
        // Four callers in a loop; the kill lands after a varying number of answered calls, mid-stream.
        let answered = 0;
        let stop = false;
        const target = 20 + ((round * 37) % 80);
        const callers = Array.from({ length: 4 }, async () => {
          while (!stop) {
            const res = await fetch(`${url}/api/v1/tools/call`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'everything:echo', arguments: { message: `round ${round}` } }),
            }).catch(() => undefined);
            if (!res) return;
            await res.text().catch(() => '');
            answered++;
          }
        });
        await new Promise<void>((done) => {
          const check = setInterval(() => {
            if (answered >= target) {
              clearInterval(check);
              done();
            }
          }, 5);
        });
        await killGroup(child);
        stop = true;
        await Promise.all(callers);

        const { integrity, rows } = inspect(join(dir.path, 'activity.db'));
        expect(integrity, `round ${round}`).toBe('ok');
        expect(rows, `round ${round}: committed records kept`).toBeGreaterThanOrEqual(before);
        before = rows;
      }
      // After the kills the log still records, and a graceful stop loses nothing: every answered call of the last
      // run is in the database. (How many records each killed run committed depends on timing, so that is not asserted.)
      const { child, url } = await startChild(dir.path);
      children.push(child);
      await waitReady(url);
      const CALLS = 20;
      for (let i = 0; i < CALLS; i++) {
        const res = await fetch(`${url}/api/v1/tools/call`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'everything:echo', arguments: { message: `last ${i}` } }),
        });
        expect(res.status).toBe(200);
        await res.text();
      }
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      const last = inspect(join(dir.path, 'activity.db'));
      expect(last.integrity).toBe('ok');
      expect(last.rows).toBeGreaterThanOrEqual(before + CALLS);
    },
    60_000 + ROUNDS * 15_000,
  );
});
