// Benchmark of issue #5: GET /api/v1/servers with 1,000 servers under load from a separate process, beside a bare
// node:http server answering the same bytes in the same run; the body must come from the cached serialisation.
// Run with `pnpm bench`; figures land in bench-results/ and BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchRow, writeReport } from '@mcpproxy/bench-kit';
import type { UpstreamConnection, UpstreamConnector, UpstreamTool } from '@mcpproxy/contracts';
import { serve } from '../src/index.js';

const SERVERS = 1_000;
const CONNECTIONS = 32;
const DURATION_MS = 5_000;
const WARMUP_MS = 1_000;
/** While the load runs, one server's row changes this often, so the view moves through new versions. */
const CHANGE_EVERY_MS = 100;

interface Load {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  bytesPerResponse: number;
  statuses: Record<string, number>;
  errors: number;
}

const here = dirname(fileURLToPath(import.meta.url));

function load(url: string): Promise<Load> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'load-client.ts'), url, String(CONNECTIONS), String(DURATION_MS), String(WARMUP_MS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load client exited with ${code}`));
      else resolve(JSON.parse(out) as Load);
    });
  });
}

const tool: UpstreamTool = { name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } };
/** Upstreams that connect at once: the benchmark is about the read path, not about connecting. */
const connector: UpstreamConnector = {
  connect: async (): Promise<UpstreamConnection> => ({
    protocol: 'stdio',
    tools: [tool],
    serverInfo: { name: 'bench', version: '1' },
    listTools: async () => [tool],
    callTool: async () => ({ content: [] }),
    ping: async () => {},
    onClose: () => () => {},
    onToolsChanged: () => () => {},
    stderrTail: () => [],
    close: async () => {},
  }),
};

const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-bench-'));
const name = (i: number) => `server-${String(i).padStart(4, '0')}`;
writeFileSync(
  join(dataDir, 'mcp_config.json'),
  JSON.stringify({
    listen: '127.0.0.1:0',
    mcpServers: Array.from({ length: SERVERS }, (_, i) => ({ name: name(i), command: 'bench', groups: ['bench'] })),
  }),
);

let serialisations = 0;
const stringify = (value: unknown): string => {
  serialisations++;
  return JSON.stringify(value);
};

const running = await serve({
  dataDir,
  logLevel: 'silent',
  processMetrics: false,
  watchConfig: false,
  systemMetricsIntervalMs: 0,
  connector,
  stringify,
});
const { view, bus } = running.services;
await new Promise<void>((resolve) => {
  const done = () => view.snapshot().servers.filter((s) => s.state === 'ready').length === SERVERS;
  if (done()) return resolve();
  const off = view.subscribe(() => {
    if (!done()) return;
    off();
    resolve();
  });
});

const url = `${running.url}/api/v1/servers`;
const first = await fetch(url);
const body = await first.text();
if (body !== view.serializedServers()) throw new Error('GET /api/v1/servers is not the cached serialisation');

// Baseline: a bare node:http server answering the same bytes, in this same process.
const bytes = Buffer.from(body);
const bare = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
});
bare.listen(0, '127.0.0.1');
await once(bare, 'listening');
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/v1/servers`;

// Two alternating rounds each (the machine may be shared): the better round of each side is reported.
const ROUNDS = 2;
const baselines: Load[] = [];
const oursRuns: Load[] = [];
let flip = 0;
let versions = 0;
let serialised = 0;
for (let round = 0; round < ROUNDS; round++) {
  baselines.push(await load(bareUrl));
  // Ours, with the view moving to a new version every 100 ms meanwhile.
  const changer = setInterval(() => {
    const row = view.server(name(flip % SERVERS));
    flip++;
    if (!row) return;
    bus.publish({
      type: 'tools_updated',
      server: row.name,
      data: {
        tool_count: row.tool_count,
        added: [],
        removed: [],
        changed: [],
        summary: { ...row, tool_count: row.tool_count === 1 ? 2 : 1 },
      },
    });
  }, CHANGE_EVERY_MS);
  const versionsBefore = view.snapshot().version;
  const serialisationsBefore = serialisations;
  oursRuns.push(await load(url));
  clearInterval(changer);
  versions += view.snapshot().version - versionsBefore;
  serialised += serialisations - serialisationsBefore;
}
const best = (runs: Load[]): Load => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
const baseline = best(baselines);
const ours = best(oursRuns);
const totalRequests = oursRuns.reduce((n, r) => n + r.requests, 0);

bare.close();
await running.close();
rmSync(dataDir, { recursive: true, force: true });

for (const [label, r] of [
  ...oursRuns.map((r) => ['mcpproxy', r] as const),
  ...baselines.map((r) => ['bare node:http', r] as const),
]) {
  if (r.errors > 0 || Object.keys(r.statuses).some((s) => s !== '200')) {
    throw new Error(`${label}: errors ${r.errors}, statuses ${JSON.stringify(r.statuses)}`);
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const rows: BenchRow[] = [
  {
    name: `GET /api/v1/servers, ${SERVERS.toLocaleString('en')} servers, ${CONNECTIONS} keep-alive connections: throughput`,
    value: Math.round(ours.rps).toLocaleString('en'),
    unit: 'req/s',
    baseline: { name: 'bare node:http, same bytes', value: `${Math.round(baseline.rps).toLocaleString('en')} req/s` },
    ratio: ours.rps / baseline.rps,
  },
  {
    name: `GET /api/v1/servers, ${SERVERS.toLocaleString('en')} servers: p99 latency under that load`,
    value: ours.p99Ms.toFixed(2),
    unit: 'ms',
    baseline: { name: 'bare node:http, same bytes', value: `${baseline.p99Ms.toFixed(2)} ms` },
    ratio: ours.p99Ms / baseline.p99Ms,
  },
  {
    name: 'GET /api/v1/servers: p50 latency under that load',
    value: ours.p50Ms.toFixed(2),
    unit: 'ms',
    baseline: { name: 'bare node:http, same bytes', value: `${baseline.p50Ms.toFixed(2)} ms` },
    ratio: ours.p50Ms / baseline.p50Ms,
  },
  {
    name: `serialisations of the servers JSON during ${totalRequests.toLocaleString('en')} requests`,
    value: serialised,
    unit: `(view versions meanwhile: ${versions})`,
    goal: '≤ one per version (cached serialisation)',
    met: serialised <= versions,
  },
];
writeReport({
  package: '@mcpproxy/server',
  issue: 5,
  rows,
  notes: [
    `Body ${kb(bytes.length)} per response (${SERVERS} ServerSummary rows), served from StateView.serializedServers().`,
    `Load from a separate process: ${CONNECTIONS} keep-alive connections for ${DURATION_MS / 1000} s after a ` +
      `${WARMUP_MS / 1000} s warm-up; the bare node:http baseline answers the same bytes from the same process. ` +
      `${ROUNDS} alternating rounds per side; the round with the higher throughput is reported (rps of all rounds: ` +
      `ours ${oursRuns.map((r) => Math.round(r.rps)).join(', ')}; bare ${baselines.map((r) => Math.round(r.rps)).join(', ')}).`,
    `While the load ran, one server's row changed every ${CHANGE_EVERY_MS} ms (new view versions), so the count of ` +
      'serialisations shows they follow versions, not requests. Ours goes through the whole middleware chain: request ' +
      'id, Host/Origin check, body limit, API key, HTTP metrics, ETag.',
  ],
});
