import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everything, type LiveServer, mcpproxy, startServer, untilRow } from './cli-run.js';
import { MAIN } from './helpers.js';

let server: LiveServer;
let env: Record<string, string>;
const children: ChildProcess[] = [];
beforeAll(async () => {
  server = await startServer({ mcpServers: [everything('everything', { quarantined: false })] });
  env = { MCPPROXY_URL: server.url };
  await untilRow(server, 'everything', (r) => r.state === 'ready');
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server?.close();
});

describe('mcpproxy activity (issue 14)', () => {
  it('lists the calls the CLI made, recorded with surface "cli", as JSON and as a table', async () => {
    const call = await mcpproxy(['call', 'everything:echo', '--args', '{"message":"hello from the cli"}'], { env });
    expect(call.code).toBe(0);
    await server.running.services.activity.log?.flush();

    const out = await mcpproxy(['activity', 'list', '--server', 'everything', '--tool', 'echo', '-o', 'json'], { env });
    expect(out.code).toBe(0);
    const page = JSON.parse(out.stdout) as { records: { id: number; surface: string; arguments: string }[] };
    expect(page.records).toHaveLength(1);
    expect(page.records[0]).toMatchObject({ surface: 'cli', arguments: '{"message":"hello from the cli"}' });

    const table = await mcpproxy(['activity', 'list', '--kind', 'tool_call'], { env: { ...env, COLUMNS: '200' } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+TIME\s+KIND\s+WHAT\s+STATUS/);
    expect(table.stdout).toMatch(/everything:echo\s+ok\s+\d+\s+cli/);

    const show = await mcpproxy(['activity', 'show', String(page.records[0]?.id), '-o', 'json'], { env });
    expect(JSON.parse(show.stdout).id).toBe(page.records[0]?.id);

    const bad = await mcpproxy(['activity', 'list', '--status', 'great'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/status/);
  });

  it('stats and export read the same records', async () => {
    const stats = await mcpproxy(['activity', 'stats', '--by', 'tool', '-o', 'json'], { env });
    expect(stats.code).toBe(0);
    const body = JSON.parse(stats.stdout) as { groups: { key: string; calls: number }[] };
    expect(body.groups.find((g) => g.key === 'everything:echo')?.calls).toBeGreaterThanOrEqual(1);
    const csv = await mcpproxy(['activity', 'export', '--format', 'csv', '--kind', 'tool_call'], { env });
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^id,time,kind/);
    expect(csv.stdout).toContain('hello from the cli');
  });

  it('tail prints a call made after it started, as NDJSON, and ends on SIGINT', async () => {
    // A first call, committed before tail starts: tail shows it (-n 1), which says tail has read where "new" begins.
    // Without that signal the second call could be recorded before tail's first read and never count as new.
    const before = await mcpproxy(['call', 'everything:get-sum', '--args', '{"a":1,"b":1}'], { env });
    expect(before.code).toBe(0);
    await server.running.services.activity.log?.flush();

    const child = spawn(process.execPath, [MAIN, 'activity', 'tail', '-n', '1', '--tool', 'get-sum', '-o', 'json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      let nl = stdout.indexOf('\n');
      while (nl >= 0) {
        lines.push(stdout.slice(0, nl));
        stdout = stdout.slice(nl + 1);
        nl = stdout.indexOf('\n');
      }
      for (const w of waiters.splice(0)) w();
    });
    const line = (n: number) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no tail line ${n} in 15 s: ${lines.join('\n')}`)), 15_000);
        const check = () => {
          const got = lines[n];
          if (got === undefined) waiters.push(check);
          else {
            clearTimeout(timer);
            resolve(got);
          }
        };
        check();
      });
    type Row = { id: number; tool: string; surface: string; status: string; arguments: string };
    const first = JSON.parse(await line(0)) as Row;
    expect(first).toMatchObject({ tool: 'get-sum', arguments: '{"a":1,"b":1}' });

    const call = await mcpproxy(['call', 'everything:get-sum', '--args', '{"a":2,"b":3}'], { env });
    expect(call.code).toBe(0);
    const record = JSON.parse(await line(1)) as Row;
    expect(record).toMatchObject({ tool: 'get-sum', surface: 'cli', status: 'ok', arguments: '{"a":2,"b":3}' });
    expect(record.id).toBeGreaterThan(first.id);
    const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
