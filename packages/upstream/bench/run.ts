// Issue 15 item 1, outbound half: what a call through a Streamable HTTP upstream costs the proxy's process on the
// client side — the SDK's transport (fetch, web streams, zod per message; used when a fetch is injected) beside the
// lean POST path (node:http, string SSE parser), both under the SDK Client's request(), and the lean path under the
// connection's own request path (what createConnector() gives) — against one real server-everything, same run,
// interleaved rounds.
// Client CPU per call is process.cpuUsage() of this process around each burst (the load is this process's own
// connector, as in the proxy); the upstream's is utime+stime of its /proc/PID/stat. Run with `pnpm bench`.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type BenchRow, percentile, writeReport } from '@mcpproxy/bench-kit';
import { parseServerConfig, type ServerConfig, silentLogger, systemClock } from '@mcpproxy/contracts';
import { everythingEntry, freePort } from '@mcpproxy/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SdkConnection } from '../src/connection.js';
import { type Connection, createConnector } from '../src/index.js';
import { openUpstream } from '../src/transport.js';
import { requestPathRows } from './request-path.js';

const ROUNDS = Number(process.env.UPSTREAM_BENCH_ROUNDS ?? 5);
const WARMUP = 200;
const SERIAL = 600; // calls at concurrency 1 per round and target
const CONCURRENCY = 16;
const PARALLEL = 1_600; // calls at concurrency 16 per round and target

const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
function cpuOfPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * TICK_US;
}
const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const median = (xs: number[]) => percentile(xs, 50);

async function startEverything(): Promise<{ url: string; pid: number; stop: () => void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [everythingEntry, 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`port ${port}`)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server-everything exited with ${code}: ${out}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { url: `http://127.0.0.1:${port}/mcp`, pid: child.pid as number, stop: () => child.kill('SIGKILL') };
}

interface Sample {
  cpuSerial: number; // client µs per call, c=1
  upSerial: number; // upstream µs per call, c=1
  p50: number; // ms, c=1
  cpuParallel: number; // client µs per call, c=16
  upParallel: number;
  callsPerSec: number; // c=16
}

async function burst(connection: Connection, pid: number, calls: number, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = ownCpu();
  const up0 = cpuOfPid(pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++;
        const start = performance.now();
        await connection.callTool('echo', { message: 'bench' });
        latencies.push(performance.now() - start);
      }
    }),
  );
  const wall = performance.now() - t0;
  return {
    cpu: (ownCpu() - cpu0) / calls,
    up: (cpuOfPid(pid) - up0) / calls,
    p50: median(latencies),
    callsPerSec: (calls / wall) * 1000,
  };
}

/** A connection as the connector builds it, with the SDK Client's request() under callTool (the path before). */
async function sdkRequestConnection(server: ServerConfig, fetch?: typeof globalThis.fetch): Promise<Connection> {
  const opened = openUpstream(server, 'streamable-http', { fetch });
  const connection = new SdkConnection({
    name: server.name,
    protocol: 'streamable-http',
    client: new Client({ name: 'mcpproxy', version: '0.1.0' }, { capabilities: {} }),
    transport: opened.transport,
    opened,
    url: new URL(server.url as string),
    clock: systemClock,
    logger: silentLogger,
    callTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    ownRequests: false,
  });
  await connection.initialize(30_000, undefined);
  return connection;
}

const everything = await startEverything();
const parsed = parseServerConfig({ name: 'everything', protocol: 'streamable-http', url: everything.url });
if (!parsed.ok) throw new Error('bad config');
const targets = {
  // An injected fetch keeps every request on the SDK's own transport (what the proxy used first).
  sdk: await sdkRequestConnection(parsed.value, (input, init) => globalThis.fetch(input, init)),
  // The lean POST path under the SDK Client's request() (the previous session's state).
  lean: await sdkRequestConnection(parsed.value),
  // The lean POST path under the connection's own request path: what createConnector() now gives.
  own: await createConnector().connect(parsed.value),
};
type Target = keyof typeof targets;
if (!(targets.own as SdkConnection).ownRequests) throw new Error('the own request path is not in use');
const samples: Record<Target, Sample[]> = { sdk: [], lean: [], own: [] };
for (const connection of Object.values(targets)) await burst(connection, everything.pid, WARMUP, 4);
const names: Target[] = ['sdk', 'lean', 'own'];
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so no target always runs first (or right after the same one).
  const order = names.map((_, i) => names[(i + round) % names.length] as Target);
  if (round % 2 === 1) order.reverse();
  for (const name of order) {
    const serial = await burst(targets[name], everything.pid, SERIAL, 1);
    const parallel = await burst(targets[name], everything.pid, PARALLEL, CONCURRENCY);
    samples[name].push({
      cpuSerial: serial.cpu,
      upSerial: serial.up,
      p50: serial.p50,
      cpuParallel: parallel.cpu,
      upParallel: parallel.up,
      callsPerSec: parallel.callsPerSec,
    });
  }
}
// The own path saves a few percent of the client's CPU per call, less than slow drift of a shared machine moves a
// whole round: so lean and own also run short bursts back to back, and each pair gives one ratio.
const PAIRS = 40;
const pairRatios: Record<'serial' | 'parallel', number[]> = { serial: [], parallel: [] };
for (let pair = 0; pair < PAIRS; pair++) {
  for (const [kind, calls, concurrency] of [
    ['serial', 150, 1],
    ['parallel', 300, CONCURRENCY],
  ] as const) {
    const first = pair % 2 === 0 ? 'lean' : 'own';
    const a = await burst(targets[first], everything.pid, calls, concurrency);
    const b = await burst(targets[first === 'lean' ? 'own' : 'lean'], everything.pid, calls, concurrency);
    pairRatios[kind].push(first === 'own' ? a.cpu / b.cpu : b.cpu / a.cpu);
  }
}
for (const connection of Object.values(targets)) await connection.close();
everything.stop();

const m = (name: Target, key: keyof Sample) => median(samples[name].map((s) => s[key]));
const us = (v: number) => `${v.toFixed(0)} µs`;
const rows: BenchRow[] = [];
for (const [label, cpu, up] of [
  ['c=1', 'cpuSerial', 'upSerial'],
  [`c=${CONCURRENCY}`, 'cpuParallel', 'upParallel'],
] as const) {
  rows.push({
    name: `client CPU per echo call, ${label}, lean POST path`,
    value: us(m('lean', cpu)),
    unit: 'CPU/call',
    baseline: { name: 'SDK transport (fetch)', value: us(m('sdk', cpu)) },
    ratio: m('lean', cpu) / m('sdk', cpu),
  });
  rows.push({
    name: `client CPU per echo call, ${label}, lean POST path + own request path`,
    value: us(m('own', cpu)),
    unit: 'CPU/call',
    baseline: { name: "lean POST path + SDK Client's request()", value: us(m('lean', cpu)) },
    ratio: m('own', cpu) / m('lean', cpu),
  });
  rows.push({
    name: `client CPU per call ÷ upstream CPU per call, ${label}, lean`,
    value: (m('lean', cpu) / m('lean', up)).toFixed(2),
    unit: '×',
    baseline: { name: 'SDK transport', value: (m('sdk', cpu) / m('sdk', up)).toFixed(2) },
  });
  rows.push({
    name: `client CPU per call ÷ upstream CPU per call, ${label}, lean + own request path`,
    value: (m('own', cpu) / m('own', up)).toFixed(2),
    unit: '×',
    baseline: { name: "lean + SDK Client's request()", value: (m('lean', cpu) / m('lean', up)).toFixed(2) },
  });
}
rows.push({
  name: 'p50 echo latency, c=1, lean',
  value: `${m('lean', 'p50').toFixed(3)} ms`,
  unit: 'p50',
  baseline: { name: 'SDK transport', value: `${m('sdk', 'p50').toFixed(3)} ms` },
  ratio: m('lean', 'p50') / m('sdk', 'p50'),
});
rows.push({
  name: 'p50 echo latency, c=1, lean + own request path',
  value: `${m('own', 'p50').toFixed(3)} ms`,
  unit: 'p50',
  baseline: { name: "lean + SDK Client's request()", value: `${m('lean', 'p50').toFixed(3)} ms` },
  ratio: m('own', 'p50') / m('lean', 'p50'),
});
rows.push({
  name: `throughput, c=${CONCURRENCY}, lean`,
  value: m('lean', 'callsPerSec').toFixed(0),
  unit: 'calls/s',
  baseline: { name: 'SDK transport', value: m('sdk', 'callsPerSec').toFixed(0) },
  ratio: m('lean', 'callsPerSec') / m('sdk', 'callsPerSec'),
});
rows.push({
  name: `throughput, c=${CONCURRENCY}, lean + own request path`,
  value: m('own', 'callsPerSec').toFixed(0),
  unit: 'calls/s',
  baseline: { name: "lean + SDK Client's request()", value: m('lean', 'callsPerSec').toFixed(0) },
  ratio: m('own', 'callsPerSec') / m('lean', 'callsPerSec'),
});
for (const [kind, label] of [
  ['serial', 'c=1'],
  ['parallel', `c=${CONCURRENCY}`],
] as const) {
  rows.push({
    name: `client CPU per echo call, ${label}, own ÷ lean, median of ${PAIRS} back-to-back burst pairs`,
    value: median(pairRatios[kind]).toFixed(3),
    unit: '×',
    baseline: { name: "lean + SDK Client's request()", value: '1' },
    ratio: median(pairRatios[kind]),
  });
}
rows.push(...(await requestPathRows(ROUNDS)));
writeReport({
  package: '@mcpproxy/upstream',
  issue: 15,
  rows,
  notes: [
    'server-everything streamableHttp (answers each POST as SSE), one connection per target (createConnector, or its parts with ownRequests: false), echo; ' +
      `${ROUNDS} interleaved rounds of ${SERIAL} calls at c=1 and ${PARALLEL} at c=${CONCURRENCY}; medians of rounds.`,
    'Client CPU = process.cpuUsage() of the bench process (the connector, SDK Client and transport); upstream CPU = ' +
      "/proc/PID/stat of server-everything. Ratios are lean ÷ SDK and own ÷ lean (lower is better, except throughput's).",
    "Targets: sdk = SDK transport (fetch) + SDK Client's request(); lean = lean POST path + SDK Client's request(); " +
      'own = lean POST path + the connection’s own request path (createConnector() default).',
    'Request path alone: callTool over the SDK in-memory transport, an in-process responder answering in a microtask ' +
      '(no socket, no JSON, no upstream process); 10,000 calls at c=1 and 20,000 at c=16 per round, own vs SDK request().',
    `upstream µs/call c=1: sdk ${us(m('sdk', 'upSerial'))}, lean ${us(m('lean', 'upSerial'))}, own ${us(m('own', 'upSerial'))}.`,
  ],
});
