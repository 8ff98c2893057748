// The long fuzz run (`pnpm fuzz`, issue 16): every target of the bounded suite, FUZZ_RUNS inputs in total (default
// 100,000) shared by weight, against real servers. Failures are counted, not fatal, so one run reports them all;
// prints inputs, failures and outcomes per target and writes them to bench-results/fuzz/fuzz.json, which
// tooling/bench/report.mjs puts into BENCHMARKS.md. FUZZ_SEED replays a run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TestServer, tempDir, waitForState } from '../helpers.js';
import { configTargets } from './config-targets.js';
import { countTarget, FuzzStats, type FuzzTarget, httpClient } from './harness.js';
import { liveTargets } from './live-targets.js';
import { MCP_ENDPOINTS, type McpEndpoint, mcpTargets, openSession } from './mcp-targets.js';
import { restTargets } from './rest-targets.js';
import { FUZZ_KEY, REAL, startFuzzServer } from './servers.js';
import { symlinkTargets } from './symlink-targets.js';

const total = Number(process.env.FUZZ_RUNS ?? 100_000);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Share of the inputs per target family (MCP and config inputs cost more each, so they get fewer). */
const WEIGHTS = { rest: 0.5, live: 0.16, mcp: 0.14, config: 0.2 } as const;

/** Targets whose inputs are costly (megabytes, a second's watch each) get a small share of their family's. */
const SCALE: Record<string, number> = {
  'rest: a large body, read or not, never breaks its keep-alive connection': 0.01,
  'config: a symlinked config reloads edits of its target and saves through the link': 0.02,
};

async function main(): Promise<void> {
  console.log(`fuzz: ${total} inputs, seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const started = Date.now();
  const stats = new FuzzStats();
  const servers: TestServer[] = [];
  const scratch = tempDir('mcpproxy-fuzz-config-');
  const clients: { close(): void }[] = [];
  try {
    const [rest, live, mcp, cfg] = await Promise.all([
      startFuzzServer(),
      startFuzzServer({ real: false }),
      startFuzzServer(),
      startFuzzServer({ real: false }),
    ]);
    servers.push(rest, live, mcp, cfg);
    await Promise.all([waitForState(rest.view, REAL, 'ready', 60_000), waitForState(mcp.view, REAL, 'ready', 60_000)]);
    const restClient = httpClient(rest.url, FUZZ_KEY);
    const cfgClient = httpClient(cfg.url, FUZZ_KEY);
    clients.push(restClient, cfgClient);
    // Opened when the MCP family starts: a session nobody uses for a while ends, as it should.
    const sessions = {} as Record<McpEndpoint, string>;

    const families: [keyof typeof WEIGHTS, FuzzTarget<unknown>[]][] = [
      ['rest', restTargets({ server: rest, client: restClient, stats })],
      ['live', liveTargets({ url: live.url, bus: live.bus, stats })],
      ['mcp', mcpTargets({ url: mcp.url, stats }, sessions)],
      [
        'config',
        [
          ...configTargets({ dir: scratch.path, server: cfg, client: cfgClient, stats }),
          ...symlinkTargets({ dir: scratch.path, stats }),
        ],
      ],
    ];
    for (const [family, targets] of families) {
      if (family === 'mcp') {
        for (const endpoint of MCP_ENDPOINTS) sessions[endpoint] = await openSession(mcp.url + endpoint);
      }
      const shares = targets.reduce((sum, t) => sum + (SCALE[t.name] ?? 1), 0);
      const each = (total * WEIGHTS[family]) / shares;
      for (const t of targets) {
        const t0 = Date.now();
        const numRuns = Math.max(1, Math.round(each * (SCALE[t.name] ?? 1)));
        await countTarget(t, { numRuns, seed, stats });
        const c = stats.targets.get(t.name);
        console.log(
          `  ${t.name}: ${c?.inputs ?? 0} inputs, ${c?.failures ?? 0} failures, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );
      }
    }
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.close();
    scratch.cleanup();
  }

  const durationS = (Date.now() - started) / 1000;
  const totals = stats.totals();
  console.log(
    `\nfuzz: ${totals.inputs} inputs, ${totals.failures} failures in ${durationS.toFixed(0)} s (seed ${seed})`,
  );
  for (const [name, t] of stats.targets) {
    const outcomes = Object.entries(t.outcomes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
    console.log(`  ${name}\n    inputs ${t.inputs}, failures ${t.failures}; seen: ${outcomes}`);
    for (const e of t.examples) console.log(`    FAILURE ${e.replace(/\n/g, '\n      ')}`);
  }
  const dir = join(repoRoot, 'bench-results', 'fuzz');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'fuzz.json'),
    `${JSON.stringify({ kind: 'fuzz', issue: 16, date: new Date().toISOString(), seed, requested: total, durationS, totals, targets: stats.toJSON() }, null, 2)}\n`,
  );
  console.log(`written ${join(dir, 'fuzz.json')}`);
  // Only the fuzz section of BENCHMARKS.md is rewritten; the benchmark figures stay as `pnpm bench` wrote them.
  execFileSync(process.execPath, [join(repoRoot, 'tooling', 'bench', 'report.mjs'), '--section=fuzz'], {
    stdio: 'inherit',
  });
  if (totals.failures > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
