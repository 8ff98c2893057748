// Chaos (issue 16): several real stdio upstreams (server-everything) are SIGKILLed and SIGSTOPped/SIGCONTed over and
// over while calls run through every surface (/mcp call_tool, /mcp/all, /mcp/servers/{name}, REST /tools/call).
// It holds that no call waits past its deadline (call_tool_timeout + a margin: a bound, not a timing), every server
// returns to ready, no upstream process outlives the server's close(), and the heap after GC returns near its
// baseline. Calls made, outcomes by surface and code, and the longest wait are printed and written for BENCHMARKS.md.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { expect, it } from 'vitest';
import { everything, startServer, type TestServer, waitForState } from './helpers.js';

const UPSTREAMS = ['chaos-a', 'chaos-b', 'chaos-c'] as const;
type Upstream = (typeof UPSTREAMS)[number];
/** The deadline of one proxied call (call_tool_timeout). */
const DEADLINE_MS = 1_500;
/** What a call may take beyond its deadline on a loaded 2-core machine: a generous bound, not a timing. */
const MARGIN_MS = 4_000;
/** How long a stopped upstream stays stopped: past deadline + margin, so a call without a deadline is caught. */
const STOP_MS = DEADLINE_MS + MARGIN_MS + 500;
const KILLS = 6;
const STOPS = 3;
/** Heap growth allowed after the run (GC'd both times): bounded buffers fill, nothing may grow per call. */
const HEAP_SLACK_MB = 32;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Every process on the machine started for this run (found by a marker in its environment). */
function upstreamProcesses(marker: string): { pid: number; pgid: number; server: string; state: string }[] {
  const out: { pid: number; pgid: number; server: string; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (!env.includes(`CHAOS_RUN=${marker}`)) continue;
      const server = env.find((e) => e.startsWith('CHAOS_SERVER='))?.slice('CHAOS_SERVER='.length) ?? '?';
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), state: fields[0] ?? '?', pgid: Number(fields[2]), server });
    } catch {
      // Gone between readdir and read, or not ours to read.
    }
  }
  return out;
}

/** Processes in any of `pgids` still alive (zombies count: nobody reaped them). */
function liveInGroups(pgids: ReadonlySet<number>): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pgids.has(Number(fields[2]))) pids.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return pids;
}

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** An error text's leading code (`UPSTREAM_TIMEOUT: …`), or a short class of it. */
function codeOf(text: string): string {
  return (
    /^([A-Z][A-Z_]+):/.exec(text)?.[1] ??
    /\b(UPSTREAM_[A-Z]+|CIRCUIT_OPEN|NOT_FOUND|TOOL_BLOCKED)\b/.exec(text)?.[1] ??
    'tool_error'
  );
}

interface Tally {
  calls: number;
  outcomes: Record<string, number>;
  longestMs: number;
  longest: string;
  overDeadline: string[];
}

it('survives upstreams killed and stopped under calls on every surface: deadlines hold, servers recover, nothing leaks', async () => {
  const marker = randomUUID();
  const server: TestServer = await startServer({
    env: process.env,
    watchConfig: false,
    systemMetricsIntervalMs: 0,
    config: {
      call_tool_timeout: DEADLINE_MS,
      retry: { initial_delay: '100ms', max_delay: '500ms', max_retries: 1000 },
      circuit_breaker: { failure_threshold: 3, reset_timeout: '300ms' },
      mcpServers: UPSTREAMS.map((name) =>
        everything(name, { quarantined: false, env: { CHAOS_RUN: marker, CHAOS_SERVER: name } }),
      ),
    },
  });
  const groups = new Set<number>();
  const tally: Tally = { calls: 0, outcomes: {}, longestMs: 0, longest: '', overDeadline: [] };
  const bound = DEADLINE_MS + MARGIN_MS;
  let closed = false;
  try {
    await Promise.all(UPSTREAMS.map((name) => waitForState(server.view, name, 'ready', 30_000)));

    /** Times one call and files its outcome; a call past the bound is a failure of the run. */
    const timed = async (surface: string, call: () => Promise<string>): Promise<void> => {
      const t0 = performance.now();
      let outcome: string;
      try {
        outcome = await call();
      } catch (error) {
        outcome =
          error instanceof McpError
            ? `jsonrpc ${error.code}`
            : `transport ${(error as Error).name}: ${(error as Error).message.slice(0, 60)}`;
      }
      const ms = performance.now() - t0;
      tally.calls++;
      const key = `${surface} ${outcome}`;
      tally.outcomes[key] = (tally.outcomes[key] ?? 0) + 1;
      if (ms > tally.longestMs) {
        tally.longestMs = ms;
        tally.longest = key;
      }
      if (ms > bound) tally.overDeadline.push(`${key} waited ${Math.round(ms)} ms`);
    };

    const pick = (i: number): Upstream => UPSTREAMS[i % UPSTREAMS.length] as Upstream;
    const args = (i: number) => (i % 5 === 0 ? { duration: 0.5, steps: 1 } : { message: `chaos ${i}` });
    const tool = (i: number) => (i % 5 === 0 ? 'trigger-long-running-operation' : 'echo');
    const resultCode = (r: unknown) => {
      const res = r as { isError?: boolean; content?: { type: string; text?: string }[] };
      return res.isError ? codeOf(res.content?.find((c) => c.type === 'text')?.text ?? '') : 'ok';
    };

    /** An SDK client on `path`; `reconnect` replaces a session the server dropped. */
    const mcpClient = async (path: string) => {
      const client = new Client({ name: 'chaos', version: '1.0.0' }, { capabilities: {} });
      await client.connect(new StreamableHTTPClientTransport(new URL(server.url + path)));
      return client;
    };

    let running = true;
    const loops: Promise<void>[] = [];
    // REST /api/v1/tools/call.
    loops.push(
      (async () => {
        for (let i = 0; running; i++) {
          const name = `${pick(i)}:${tool(i)}`;
          await timed('rest', async () => {
            const res = await fetch(`${server.url}/api/v1/tools/call`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ name, arguments: args(i) }),
              signal: AbortSignal.timeout(bound + 10_000),
            });
            const body = (await res.json()) as { code?: string };
            return res.status === 200 ? resultCode(body) : String(body.code ?? res.status);
          });
        }
      })(),
    );
    // /mcp call_tool and /mcp/all: one session each for the whole run.
    for (const [surface, path] of [
      ['/mcp', '/mcp'],
      ['/mcp/all', '/mcp/all'],
    ] as const) {
      loops.push(
        (async () => {
          const client = await mcpClient(path);
          try {
            for (let i = 0; running; i++) {
              const params =
                surface === '/mcp'
                  ? { name: 'call_tool', arguments: { name: `${pick(i + 1)}:${tool(i)}`, args: args(i) } }
                  : { name: `${pick(i + 2)}__${tool(i)}`, arguments: args(i) };
              await timed(surface, async () =>
                resultCode(await client.callTool(params, undefined, { timeout: bound + 10_000 })),
              );
            }
          } finally {
            await client.close();
          }
        })(),
      );
    }
    // /mcp/servers/{name}: one session per upstream, renewed when the server drops it (its upstream died).
    for (const name of UPSTREAMS) {
      loops.push(
        (async () => {
          let client: Client | undefined;
          for (let i = 0; running; i++) {
            if (!client) {
              await waitForState(server.view, name, 'ready', 30_000);
              client = await mcpClient(`/mcp/servers/${name}`).catch(() => undefined);
              if (!client) continue;
            }
            const c = client;
            let lost = false;
            await timed(`/mcp/servers`, async () => {
              try {
                return resultCode(
                  await c.callTool({ name: tool(i), arguments: args(i) }, undefined, { timeout: bound + 10_000 }),
                );
              } catch (error) {
                lost = !(error instanceof McpError) || error.code === -32001;
                throw error;
              }
            });
            if (lost) {
              await c.close().catch(() => {});
              client = undefined;
            }
          }
          await client?.close().catch(() => {});
        })(),
      );
    }

    // Warm up, then the baseline heap: every surface has made calls, so lazy set-up is behind us.
    await Promise.all(UPSTREAMS.map((name) => waitForState(server.view, name, 'ready', 30_000)));
    const warm = tally.calls + 40;
    await waitUntil(() => tally.calls >= warm, 30_000, 'warm-up calls');
    const heapBaseline = heapAfterGc();

    // The faults: kills and stops in turn, each on one upstream's whole process set (its own and session links).
    let kills = 0;
    let stops = 0;
    // Processes of one upstream at a time: its own, plus any session links (issue 16 defect 3: one per initialize).
    let mostProcesses = 0;
    for (let round = 0; kills < KILLS || stops < STOPS; round++) {
      const name = UPSTREAMS[round % UPSTREAMS.length] as Upstream;
      await waitForState(server.view, name, 'ready', 30_000);
      const procs = upstreamProcesses(marker).filter((p) => p.server === name && p.state !== 'Z');
      for (const p of upstreamProcesses(marker)) groups.add(p.pgid);
      expect(procs.length).toBeGreaterThan(0);
      mostProcesses = Math.max(mostProcesses, procs.length);
      const stop = stops < STOPS && (round % 3 === 2 || kills >= KILLS);
      if (stop) {
        stops++;
        for (const p of procs) process.kill(p.pid, 'SIGSTOP');
        // The fault lasts past every deadline: calls to it must give up on their own, not wait for SIGCONT.
        await new Promise((resolve) => setTimeout(resolve, STOP_MS));
        for (const p of procs) process.kill(p.pid, 'SIGCONT');
      } else {
        kills++;
        for (const p of procs) process.kill(p.pid, 'SIGKILL');
        await waitForState(server.view, name, ['error', 'connecting', 'idle'], 10_000).catch(() => {});
      }
    }

    // Every server comes back; then the callers stop and their sessions end.
    await Promise.all(UPSTREAMS.map((name) => waitForState(server.view, name, 'ready', 30_000)));
    const allReady = UPSTREAMS.every((name) => server.view.server(name)?.state === 'ready');
    running = false;
    await Promise.all(loops);
    const heapAfter = heapAfterGc();
    for (const p of upstreamProcesses(marker)) groups.add(p.pgid);

    closed = true;
    await server.close();
    // close() ends every process group it started; give the kernel a bounded moment to reap them.
    await waitUntil(() => liveInGroups(groups).length === 0, 10_000, 'upstream processes to exit').catch(() => {});
    const orphans = liveInGroups(groups);

    const report = {
      kind: 'chaos',
      issue: 16,
      date: new Date().toISOString(),
      upstreams: UPSTREAMS.length,
      kills,
      stops,
      calls: tally.calls,
      outcomes: tally.outcomes,
      longestWaitMs: Math.round(tally.longestMs),
      longestCall: tally.longest,
      deadlineMs: DEADLINE_MS,
      marginMs: MARGIN_MS,
      allReady,
      orphans: orphans.length,
      mostProcessesPerUpstream: mostProcesses,
      heapBaselineMb: Math.round(heapBaseline / 2 ** 20),
      heapAfterMb: Math.round(heapAfter / 2 ** 20),
    };
    console.log(`chaos: ${JSON.stringify(report, null, 2)}`);
    const dir = join(repoRoot, 'bench-results', 'fuzz');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'chaos.json'), `${JSON.stringify(report, null, 2)}\n`);

    expect(tally.overDeadline, 'calls that waited past deadline + margin').toEqual([]);
    expect(allReady).toBe(true);
    expect(orphans, 'upstream processes alive after close()').toEqual([]);
    // A session that declares no client capabilities shares the server's connection: sessions renewed after every
    // fault must not pile processes up.
    expect(mostProcesses).toBeLessThanOrEqual(2);
    expect(report.heapAfterMb - report.heapBaselineMb).toBeLessThan(HEAP_SLACK_MB);
    // Every surface made calls, and calls succeeded between the faults.
    for (const surface of ['rest', '/mcp', '/mcp/all', '/mcp/servers']) {
      expect(Object.keys(tally.outcomes).some((k) => k.startsWith(`${surface} ok`))).toBe(true);
    }
  } finally {
    if (!closed) await server.close();
  }
}, 120_000);

/** Re-checks `check` on every turn of the event loop's timers until it holds; rejects after `ms`. */
async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
