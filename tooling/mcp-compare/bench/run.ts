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
 * target, `concurrency` calls in flight).
 */

import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { type BenchRow, percentile, writeReport } from '@mcpproxy/bench-kit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { EVERYTHING, NODE, type Running, start, startProxy } from '../src/processes.js';

const require = createRequire(import.meta.url);
const MCP_PROXY = join(dirname(require.resolve('mcp-proxy/package.json')), 'dist', 'bin', 'mcp-proxy.mjs');
const SUPERGATEWAY = join(dirname(require.resolve('supergateway/package.json')), 'dist', 'index.js');

/** Calls per target and concurrency, measured in interleaved rounds so a busy neighbour on the machine hits all targets alike. */
const CALLS = { 1: 1_000, 16: 2_400 } as const;
const ROUNDS = 4;
const WARMUP = 200;

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
}

const echo = (client: Client, message: string) => client.callTool({ name: 'echo', arguments: { message } });
const viaCallTool = (client: Client, message: string) =>
  client.callTool({ name: 'call_tool', arguments: { name: 'everything:echo', args: { message } } });

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
}

interface Load {
  latencies: number[];
  seconds: number;
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
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  load.seconds += (performance.now() - t0) / 1000;
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
    const loads = targets.map((): Load => ({ latencies: [], seconds: 0 }));
    const per = Math.ceil(CALLS[concurrency] / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of targets.entries()) {
        await burst(t, clients[i] as Client, concurrency, per, loads[i] as Load);
      }
    }
    const out = new Map<string, Result>();
    for (const [i, t] of targets.entries()) {
      const { latencies, seconds } = loads[i] as Load;
      out.set(t.name, {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        perSec: latencies.length / seconds,
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
    const proxy = await startProxy({
      mcpServers: [
        { name: 'everything', protocol: 'streamable-http', url: upstream, quarantined: false },
        { name: 'everything-stdio', ...stdioEntry },
      ],
    });
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

    const targets: Target[] = [
      { name: 'direct (Streamable HTTP)', url: upstream, call: echo },
      { name: 'mcpproxy /mcp call_tool', url: `${proxy.url}/mcp`, call: viaCallTool },
      { name: 'mcpproxy /mcp/servers/everything', url: `${proxy.url}/mcp/servers/everything`, call: echo },
      { name: 'mcpproxy /mcp/servers (stdio upstream)', url: `${proxy.url}/mcp/servers/everything-stdio`, call: echo },
      { name: 'mcp-proxy (stdio upstream)', url: `http://127.0.0.1:${mpPort}/mcp`, call: echo },
      { name: 'supergateway --stateful (stdio upstream)', url: `http://127.0.0.1:${sgPort}/mcp`, call: echo },
    ];

    const results = new Map<string, Result>();
    for (const concurrency of [1, 16] as const) {
      const measured = await measureAll(targets, concurrency);
      for (const t of targets) {
        const r = measured.get(t.name) as Result;
        results.set(`${t.name}@${concurrency}`, r);
        process.stdout.write(
          `c=${String(concurrency).padEnd(2)} ${t.name.padEnd(42)} p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ${r.perSec.toFixed(0)} calls/s\n`,
        );
      }
    }

    const rows: BenchRow[] = [];
    const ms = (v: number) => `${v.toFixed(3)}`;
    for (const concurrency of [1, 16] as const) {
      const base = results.get(`${targets[0]?.name}@${concurrency}`) as Result;
      const peers = [targets[4], targets[5]].map((t) => results.get(`${t?.name}@${concurrency}`) as Result);
      const bestPeerP50 = Math.min(...peers.map((p) => p.p50));
      const bestPeerRate = Math.max(...peers.map((p) => p.perSec));
      for (const [i, t] of targets.entries()) {
        const r = results.get(`${t.name}@${concurrency}`) as Result;
        // Same upstream as the direct call (the HTTP one): the added-latency goal. Same upstream as the peers
        // (stdio): the peer goal.
        const sameAsDirect = i === 1 || i === 2;
        const sameAsPeers = i === 3;
        const added = r.p50 - base.p50;
        rows.push({
          name: `${t.name}, c=${concurrency}: p50`,
          value: ms(r.p50),
          unit: 'ms',
          ...(i > 0 ? { baseline: { name: 'direct', value: ms(base.p50) }, ratio: r.p50 / base.p50 } : {}),
          ...(sameAsDirect ? { goal: `added p50 ≤ 0.5 ms (added ${added.toFixed(3)} ms)`, met: added <= 0.5 } : {}),
          ...(sameAsPeers
            ? { goal: `p50 below both peers (best ${ms(bestPeerP50)} ms)`, met: r.p50 < bestPeerP50 }
            : {}),
        });
        rows.push({ name: `${t.name}, c=${concurrency}: p99`, value: ms(r.p99), unit: 'ms' });
        rows.push({
          name: `${t.name}, c=${concurrency}: throughput`,
          value: r.perSec.toFixed(0),
          unit: 'calls/s',
          ...(sameAsPeers
            ? { goal: `calls/s above both peers (best ${bestPeerRate.toFixed(0)})`, met: r.perSec > bestPeerRate }
            : {}),
        });
      }
    }
    writeReport({
      package: '@mcpproxy/mcp-compare',
      issue: 6,
      rows,
      notes: [
        `echo via the SDK Client over Streamable HTTP, one session per target, ${WARMUP} warm-up calls, then ${CALLS[1]} calls at c=1 and ${CALLS[16]} at c=16 in ${ROUNDS} interleaved rounds (targets take turns, so background load on the machine hits all alike); every server in its own Node 20 process on a 2-core machine.`,
        'direct, /mcp call_tool and /mcp/servers/everything share one server-everything (streamableHttp); mcp-proxy and supergateway only front stdio servers, so they and "mcpproxy /mcp/servers (stdio upstream)" each front server-everything over stdio.',
        `whole run ${((performance.now() - started) / 1000).toFixed(0)} s`,
      ],
    });
  } finally {
    for (const p of procs.reverse()) await p.stop();
  }
}

await main();
