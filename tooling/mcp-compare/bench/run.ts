/**
 * `pnpm bench`: `echo` latency and throughput through mcpproxy and two other MCP gateways, all in one run, at
 * concurrency 1 and 16, against server-everything:
 *
 * - direct: the SDK client over Streamable HTTP to server-everything (`streamableHttp` mode): the baseline;
 * - mcpproxy `/mcp` `call_tool` and `/mcp/servers/everything`, in front of that same HTTP upstream;
 * - mcpproxy `/mcp/servers/everything-stdio`, and `mcp-proxy` and `supergateway --stateful`, each in front of
 *   server-everything over stdio (the two peers only front stdio servers).
 *
 * Every server runs in its own process on Node 20; the load comes from this process (SDK clients, one session per
 * target, `concurrency` calls in flight). Around every burst the CPU time of the gateway process and of the upstream
 * process(es) serving it is sampled from /proc (see cpu.ts), so each target gets CPU per call in each process
 * (issue 15: the proxy's should be ≤ 0.5× what the upstream SDK server spends). `MCP_COMPARE_RUNS` (default 3)
 * whole runs are made; every figure is the median over them. `MCP_COMPARE_CPU_PROF=DIR` runs the proxy with
 * `--cpu-prof` into DIR (read it with `bench/profile-top.ts`).
 */

import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { type BenchRow, percentile, writeReport } from '@mcpproxy/bench-kit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EVERYTHING, NODE, ROOT, type Running, start, startProxy } from '../src/processes.js';
import { cmdline, cpuOf, descendants } from './cpu.js';

const require = createRequire(import.meta.url);
const MCP_PROXY = join(dirname(require.resolve('mcp-proxy/package.json')), 'dist', 'bin', 'mcp-proxy.mjs');
const SUPERGATEWAY = join(dirname(require.resolve('supergateway/package.json')), 'dist', 'index.js');
/** A byte forwarder that does no MCP work: what any node:http hop costs (src/floor-proxy.ts). */
const FLOOR = join(ROOT, 'src', 'floor-proxy.ts');

/** Calls per target and concurrency, measured in interleaved rounds so a busy neighbour on the machine hits all targets alike. */
const CALLS = { 1: 1_000, 16: 2_400 } as const;
const ROUNDS = 4;
const WARMUP = 200;
/** Whole runs; each figure is the median over them (the machine is shared, so one run can be unlucky). */
const RUNS = Math.max(1, Number(process.env.MCP_COMPARE_RUNS ?? 3));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

interface Target {
  name: string;
  url: string;
  /** How `echo` is called on this endpoint. */
  call: (client: Client, message: string) => Promise<unknown>;
  /** The gateway's process (none for direct). */
  proxy: number[];
  /** The process(es) of the MCP server that answers, resolved after start-up (a stdio one is the gateway's child). */
  upstream: () => number[];
}

const echo = (client: Client, message: string) => client.callTool({ name: 'echo', arguments: { message } });
const viaCallTool = (client: Client, message: string) =>
  client.callTool({ name: 'call_tool', arguments: { name: 'everything:echo', args: { message } } });
const viaAll = (client: Client, message: string) =>
  client.callTool({ name: 'everything__echo', arguments: { message } });

/**
 * The SDK client hands one AbortSignal to every fetch and undici keeps a listener on it per request until GC; the
 * load generator would slow down as they pile up. Same for every target.
 */
const unlinkedFetch: typeof fetch = async (input, init) => {
  const shared = init?.signal;
  if (!shared || !init?.method || init.method === 'GET') return fetch(input, init);
  const own = new AbortController();
  const relay = () => own.abort(shared.reason);
  shared.addEventListener('abort', relay, { once: true });
  try {
    return await fetch(input, { ...init, signal: own.signal });
  } finally {
    shared.removeEventListener('abort', relay);
  }
};

async function connect(url: string, tries = 100): Promise<Client> {
  for (let i = 0; ; i++) {
    const client = new Client({ name: 'bench', version: '1.0.0' }, { capabilities: {} });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: unlinkedFetch }));
      return client;
    } catch (error) {
      await client.close().catch(() => {});
      if (i >= tries) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface Result {
  p50: number;
  p99: number;
  perSec: number;
  /** CPU µs per call in the gateway process, the upstream server process(es) and this (the client) process. */
  proxyUs: number;
  upstreamUs: number;
  clientUs: number;
}

interface Load {
  latencies: number[];
  seconds: number;
  proxyUs: number;
  upstreamUs: number;
  clientUs: number;
}

/** `count` calls with `concurrency` in flight; appends to `load`. */
async function burst(target: Target, client: Client, concurrency: number, count: number, load: Load): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      await target.call(client, `m${i}`);
      load.latencies.push(performance.now() - t0);
    }
  };
  const upstream = target.upstream();
  const proxy0 = cpuOf(target.proxy);
  const up0 = cpuOf(upstream);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  load.seconds += (performance.now() - t0) / 1000;
  const own = process.cpuUsage(client0);
  load.clientUs += own.user + own.system;
  load.proxyUs += cpuOf(target.proxy) - proxy0;
  load.upstreamUs += cpuOf(upstream) - up0;
}

async function measureAll(targets: Target[], concurrency: 1 | 16): Promise<Map<string, Result>> {
  const clients = await Promise.all(targets.map((t) => connect(t.url)));
  try {
    for (const [i, t] of targets.entries()) {
      const client = clients[i] as Client;
      const check = (await t.call(client, 'hello')) as { content?: { text?: string }[] };
      if (check.content?.[0]?.text !== 'Echo: hello') {
        throw new Error(`${t.name}: unexpected echo ${JSON.stringify(check).slice(0, 200)}`);
      }
      for (let w = 0; w < WARMUP; w++) await t.call(client, `w${w}`);
    }
    const loads = targets.map((): Load => ({ latencies: [], seconds: 0, proxyUs: 0, upstreamUs: 0, clientUs: 0 }));
    const per = Math.ceil(CALLS[concurrency] / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of targets.entries()) {
        await burst(t, clients[i] as Client, concurrency, per, loads[i] as Load);
      }
    }
    const out = new Map<string, Result>();
    for (const [i, t] of targets.entries()) {
      const { latencies, seconds, proxyUs, upstreamUs, clientUs } = loads[i] as Load;
      const n = latencies.length;
      out.set(t.name, {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        perSec: n / seconds,
        proxyUs: proxyUs / n,
        upstreamUs: upstreamUs / n,
        clientUs: clientUs / n,
      });
    }
    return out;
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

async function main(): Promise<void> {
  const procs: Running[] = [];
  const started = performance.now();
  try {
    const upPort = await freePort();
    procs.push(
      await start(NODE, [EVERYTHING, 'streamableHttp'], /listening on port \d+/, {
        env: { ...process.env, PORT: String(upPort) },
      }),
    );
    const upstream = `http://127.0.0.1:${upPort}/mcp`;
    const stdioEntry = { protocol: 'stdio', command: NODE, args: [EVERYTHING, 'stdio'], quarantined: false };
    const profDir = process.env.MCP_COMPARE_CPU_PROF;
    const proxy = await startProxy(
      {
        mcpServers: [
          { name: 'everything', protocol: 'streamable-http', url: upstream, quarantined: false },
          { name: 'everything-stdio', ...stdioEntry },
        ],
      },
      profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
    );
    procs.push(proxy);
    const mpPort = await freePort();
    procs.push(
      await start(
        NODE,
        [
          MCP_PROXY,
          '--port',
          String(mpPort),
          '--host',
          '127.0.0.1',
          '--server',
          'stream',
          '--',
          NODE,
          EVERYTHING,
          'stdio',
        ],
        /./,
      ),
    );
    const sgPort = await freePort();
    procs.push(
      await start(
        NODE,
        [
          SUPERGATEWAY,
          '--stdio',
          `${NODE} ${EVERYTHING} stdio`,
          '--outputTransport',
          'streamableHttp',
          '--stateful',
          '--port',
          String(sgPort),
          '--logLevel',
          'info',
        ],
        /./,
      ),
    );

    const floorProc = await start(NODE, ['--import', 'tsx', FLOOR, `http://127.0.0.1:${upPort}`], /listening on (\d+)/);
    procs.push(floorProc);

    const pid = (r: Running) => r.child.pid as number;
    const [upProc, proxyProc, mpProc, sgProc] = procs as [Running, Running, Running, Running];
    // A gateway's stdio upstream is its descendant running server-everything (supergateway starts it through a shell,
    // whose CPU is counted too; it is idle).
    const stdioOf = (gateway: Running) => () =>
      descendants(pid(gateway)).filter((p) => cmdline(p).includes(EVERYTHING));
    const httpUp = () => [pid(upProc)];
    const proxyPid = [pid(proxyProc)];
    const targets: Target[] = [
      { name: 'direct (Streamable HTTP)', url: upstream, call: echo, proxy: [], upstream: httpUp },
      {
        name: 'mcpproxy /mcp call_tool',
        url: `${proxy.url}/mcp`,
        call: viaCallTool,
        proxy: proxyPid,
        upstream: httpUp,
      },
      { name: 'mcpproxy /mcp/all', url: `${proxy.url}/mcp/all`, call: viaAll, proxy: proxyPid, upstream: httpUp },
      {
        name: 'mcpproxy /mcp/servers/everything',
        url: `${proxy.url}/mcp/servers/everything`,
        call: echo,
        proxy: proxyPid,
        upstream: httpUp,
      },
      {
        name: 'mcpproxy /mcp/servers (stdio upstream)',
        url: `${proxy.url}/mcp/servers/everything-stdio`,
        call: echo,
        proxy: proxyPid,
        upstream: stdioOf(proxyProc),
      },
      {
        name: 'mcp-proxy (stdio upstream)',
        url: `http://127.0.0.1:${mpPort}/mcp`,
        call: echo,
        proxy: [pid(mpProc)],
        upstream: stdioOf(mpProc),
      },
      {
        name: 'supergateway --stateful (stdio upstream)',
        url: `http://127.0.0.1:${sgPort}/mcp`,
        call: echo,
        proxy: [pid(sgProc)],
        upstream: stdioOf(sgProc),
      },
      {
        name: 'floor: raw node:http forwarder',
        url: `http://127.0.0.1:${floorProc.match[1]}/mcp`,
        call: echo,
        proxy: [pid(floorProc)],
        upstream: httpUp,
      },
    ];
    const HTTP_PATHS = new Set([1, 2, 3]);
    const STDIO_OURS = 4;
    const PEERS = [5, 6];

    const perRun: Map<string, Result>[] = [];
    for (let run = 0; run < RUNS; run++) {
      const results = new Map<string, Result>();
      for (const concurrency of [1, 16] as const) {
        const measured = await measureAll(targets, concurrency);
        for (const t of targets) results.set(`${t.name}@${concurrency}`, measured.get(t.name) as Result);
      }
      perRun.push(results);
      process.stdout.write(`run ${run + 1}/${RUNS} done\n`);
    }
    const median = (xs: number[]) => percentile(xs, 50);
    const results = new Map<string, Result>();
    for (const key of perRun[0]?.keys() ?? []) {
      const all = perRun.map((r) => r.get(key) as Result);
      const m = (f: keyof Result) => median(all.map((r) => r[f]));
      results.set(key, {
        p50: m('p50'),
        p99: m('p99'),
        perSec: m('perSec'),
        proxyUs: m('proxyUs'),
        upstreamUs: m('upstreamUs'),
        clientUs: m('clientUs'),
      });
    }

    const rows: BenchRow[] = [];
    const ms = (v: number) => `${v.toFixed(3)}`;
    const us = (v: number) => `${v.toFixed(0)}`;
    for (const concurrency of [1, 16] as const) {
      const base = results.get(`${targets[0]?.name}@${concurrency}`) as Result;
      const peers = PEERS.map((i) => results.get(`${targets[i]?.name}@${concurrency}`) as Result);
      const bestPeerP50 = Math.min(...peers.map((p) => p.p50));
      const bestPeerRate = Math.max(...peers.map((p) => p.perSec));
      for (const [i, t] of targets.entries()) {
        const r = results.get(`${t.name}@${concurrency}`) as Result;
        // Same upstream as the direct call (the HTTP one): the latency and throughput goals. Same upstream as the
        // peers (stdio): the peer goals. Every mcpproxy path: the CPU goal.
        const sameAsDirect = HTTP_PATHS.has(i);
        const sameAsPeers = i === STDIO_OURS;
        const ours = sameAsDirect || sameAsPeers;
        const p50Ratio = r.p50 / base.p50;
        const rateRatio = r.perSec / base.perSec;
        const cpuRatio = r.proxyUs / r.upstreamUs;
        process.stdout.write(
          `c=${String(concurrency).padEnd(2)} ${t.name.padEnd(42)} p50 ${ms(r.p50)} ms (${p50Ratio.toFixed(2)}×)  ` +
            `p99 ${ms(r.p99)} ms  ${r.perSec.toFixed(0)} calls/s (${rateRatio.toFixed(2)}×)  ` +
            `cpu/call proxy ${us(r.proxyUs)} µs, upstream ${us(r.upstreamUs)} µs` +
            `${i > 0 ? ` (proxy/upstream ${cpuRatio.toFixed(2)}×)` : ''}, client ${us(r.clientUs)} µs\n`,
        );
        rows.push({
          name: `${t.name}, c=${concurrency}: p50`,
          value: ms(r.p50),
          unit: 'ms',
          ...(i > 0 ? { baseline: { name: 'direct', value: ms(base.p50) }, ratio: p50Ratio } : {}),
          ...(sameAsDirect && concurrency === 1 ? { goal: 'p50 ≤ 1.3× direct', met: p50Ratio <= 1.3 } : {}),
          ...(sameAsPeers
            ? { goal: `p50 below both peers (best ${ms(bestPeerP50)} ms)`, met: r.p50 < bestPeerP50 }
            : {}),
        });
        rows.push({ name: `${t.name}, c=${concurrency}: p99`, value: ms(r.p99), unit: 'ms' });
        rows.push({
          name: `${t.name}, c=${concurrency}: throughput`,
          value: r.perSec.toFixed(0),
          unit: 'calls/s',
          // Ratio as direct / ours, so that lower is better like every other row.
          ...(i > 0
            ? { baseline: { name: 'direct', value: base.perSec.toFixed(0) }, ratio: base.perSec / r.perSec }
            : {}),
          ...(sameAsDirect && concurrency === 16
            ? { goal: `≥ 0.8× direct calls/s (ours ${rateRatio.toFixed(2)}×)`, met: rateRatio >= 0.8 }
            : {}),
          ...(sameAsPeers
            ? { goal: `calls/s above both peers (best ${bestPeerRate.toFixed(0)})`, met: r.perSec > bestPeerRate }
            : {}),
        });
        if (i === 0) {
          rows.push({
            name: `${t.name}, c=${concurrency}: upstream CPU per call`,
            value: us(r.upstreamUs),
            unit: 'µs',
          });
          continue;
        }
        rows.push({
          name: `${t.name}, c=${concurrency}: gateway CPU per call`,
          value: us(r.proxyUs),
          unit: 'µs',
          baseline: { name: 'its upstream', value: us(r.upstreamUs) },
          ratio: cpuRatio,
          ...(ours ? { goal: '≤ 0.5× the upstream', met: cpuRatio <= 0.5 } : {}),
        });
        if (sameAsPeers) {
          // CPU per call is the peer comparison that background load does not blur (wall-clock figures are noisy).
          const bestPeerUs = Math.min(...peers.map((p) => p.proxyUs));
          rows.push({
            name: `${t.name}, c=${concurrency}: gateway CPU per call against the peers`,
            value: us(r.proxyUs),
            unit: 'µs',
            baseline: { name: 'cheaper peer', value: us(bestPeerUs) },
            ratio: r.proxyUs / bestPeerUs,
            goal: 'below both peers',
            met: r.proxyUs < bestPeerUs,
          });
        }
      }
    }
    writeReport({
      package: '@mcpproxy/mcp-compare',
      issue: 6,
      rows,
      notes: [
        `echo via the SDK Client over Streamable HTTP, one session per target, ${WARMUP} warm-up calls, then ${CALLS[1]} calls at c=1 and ${CALLS[16]} at c=16 in ${ROUNDS} interleaved rounds (targets take turns, so background load on the machine hits all alike); every server in its own Node 20 process on a 2-core machine. Every figure is the median of ${RUNS} whole runs.`,
        'direct, /mcp call_tool, /mcp/all and /mcp/servers/everything share one server-everything (streamableHttp); mcp-proxy and supergateway only front stdio servers, so they and "mcpproxy /mcp/servers (stdio upstream)" each front server-everything over stdio.',
        "CPU per call (issue 15): utime+stime from /proc/PID/stat of the gateway process and of the upstream process(es) answering it (for a stdio upstream, the gateway's server-everything child), sampled around each burst and divided by its calls. The goal is gateway ≤ 0.5× upstream. Throughput ratios are direct / ours (lower is better); the goal is ours ≥ 0.8× direct. The machine is shared with other work: CPU-time ratios are steady, wall-clock figures are noisy.",
        '"floor: raw node:http forwarder" (src/floor-proxy.ts) forwards the HTTP upstream\'s bytes over a keep-alive agent and parses nothing: what any Node gateway pays for the hop itself, before doing any MCP work. It has no goal; it shows how far below the upstream a node:http hop can go on this machine.',
        `whole run ${((performance.now() - started) / 1000).toFixed(0)} s`,
      ],
    });
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
}

await main();
