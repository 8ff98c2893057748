// Benchmarks of issue #12: what the dashboard ships (gzipped JS), how long a browser takes from navigation to the
// first live table of 1,000 servers, and the table's frame times while 100 events a second arrive.
// Run with `pnpm bench` (turbo builds the dashboard and the server first); figures land in BENCHMARKS.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BenchRow, percentile, writeReport } from '@mcpproxy/bench-kit';
import type { ServerSummary, UpstreamConnection, UpstreamConnector, UpstreamTool } from '@mcpproxy/contracts';
import { serve } from '../../server/dist/index.js';
import { DIST, launchBrowser } from '../test/harness.js';

const SERVERS = 1_000;
const LOAD_RUNS = 7;
const EVENTS_PER_S = 100;
const FRAME_WINDOW_MS = 5_000;

// ---------------------------------------------------------------- what is shipped

const assets = join(DIST, 'assets');
const files = readdirSync(assets);
const gz = (ext: string) =>
  files
    .filter((f) => f.endsWith(ext))
    .reduce((n, f) => n + gzipSync(readFileSync(join(assets, f)), { level: 9 }).length, 0);
const jsGz = gz('.js');
const cssGz = gz('.css');

// ---------------------------------------------------------------- a server with 1,000 instant upstreams

const tool: UpstreamTool = { name: 'echo', description: 'Echoes', inputSchema: { type: 'object' } };
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
const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-web-bench-'));
const name = (i: number) => `server-${String(i).padStart(4, '0')}`;
writeFileSync(
  join(dataDir, 'mcp_config.json'),
  JSON.stringify({
    listen: '127.0.0.1:0',
    mcpServers: Array.from({ length: SERVERS }, (_, i) => ({ name: name(i), command: 'bench', groups: ['bench'] })),
  }),
);
const running = await serve({
  dataDir,
  logLevel: 'silent',
  processMetrics: false,
  watchConfig: false,
  systemMetricsIntervalMs: 0,
  connector,
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

const browser = await launchBrowser();
const rows: BenchRow[] = [];
try {
  // -------------------------------------------------------------- navigation → first live table
  // Each run is a fresh context (cold cache, as a first visit). The page records, from its own clock (0 = the
  // navigation), when the table first holds every server while the indicator says live.
  const loadTimes: number[] = [];
  for (let run = 0; run < LOAD_RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // A string, not a function: tsx would wrap named helpers in `__name()`, which the page does not have.
    await page.addInitScript(`(() => {
      const observer = new MutationObserver(() => {
        const live = document.querySelector('.indicator[data-status="live"]');
        if (live && document.querySelectorAll('.rows [role="row"]').length === ${SERVERS}) {
          window.firstTable = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document, { subtree: true, childList: true, attributes: true });
    })()`);
    await page.goto(`${running.url}/ui/`);
    await page.waitForFunction(() => 'firstTable' in window, undefined, { timeout: 30_000 });
    loadTimes.push(await page.evaluate(() => (window as unknown as { firstTable: number }).firstTable));
    await context.close();
  }
  const loadP50 = percentile(loadTimes, 50);

  // -------------------------------------------------------------- frame times under 100 events/s
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${running.url}/ui/`);
  await page.waitForFunction(
    (count) =>
      !!document.querySelector('.indicator[data-status="live"]') &&
      document.querySelectorAll('.rows [role="row"]').length === count,
    SERVERS,
  );
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const metricsBefore = (await cdp.send('Performance.getMetrics')).metrics;
  // Events that change a row each (its tool count flips), as a busy fleet's tools_updated would.
  let n = 0;
  const feed = setInterval(() => {
    const s = view.snapshot().servers[(n * 37) % SERVERS] as ServerSummary;
    n++;
    const count = s.tool_count === 1 ? 2 : 1;
    bus.publish({
      type: 'tools_updated',
      server: s.name,
      data: { tool_count: count, added: [], removed: [], changed: [], summary: { ...s, tool_count: count } },
    } as never);
  }, 1000 / EVENTS_PER_S);
  const frames = (await page.evaluate(`new Promise((resolve) => {
    const deltas = [];
    const start = performance.now();
    let last = start;
    let renders = 0;
    const observer = new MutationObserver(() => { renders++; });
    observer.observe(document.querySelector('.rows'), { subtree: true, childList: true, characterData: true });
    const step = (t) => {
      deltas.push(t - last);
      last = t;
      if (t - start < ${FRAME_WINDOW_MS}) requestAnimationFrame(step);
      else { observer.disconnect(); resolve({ deltas, renders }); }
    };
    requestAnimationFrame(step);
  })`)) as { deltas: number[]; renders: number };
  clearInterval(feed);
  const metricsAfter = (await cdp.send('Performance.getMetrics')).metrics;
  const spent = (key: string) =>
    (metricsAfter.find((m) => m.name === key)?.value ?? 0) - (metricsBefore.find((m) => m.name === key)?.value ?? 0);
  const busy = ['ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskDuration'].map(
    (k) => `${k.replace('Duration', '')} ${((spent(k) * 1000) / (FRAME_WINDOW_MS / 1000)).toFixed(0)} ms/s`,
  );
  await context.close();
  const deltas = frames.deltas.slice(1);
  const p50 = percentile(deltas, 50);
  const p95 = percentile(deltas, 95);
  const max = Math.max(...deltas);
  const long = deltas.filter((d) => d > 50).length;

  rows.push(
    {
      name: 'JavaScript shipped (gzip -9)',
      value: (jsGz / 1024).toFixed(1),
      unit: 'KiB',
      goal: '< 60 KB',
      met: jsGz < 60_000,
    },
    { name: 'CSS shipped (gzip -9)', value: (cssGz / 1024).toFixed(1), unit: 'KiB' },
    {
      name: `navigation → first live table, ${SERVERS} servers (p50 of ${LOAD_RUNS} cold loads)`,
      value: loadP50.toFixed(0),
      unit: 'ms',
      goal: '< 1 s',
      met: loadP50 < 1000,
    },
    { name: 'same, slowest load', value: Math.max(...loadTimes).toFixed(0), unit: 'ms' },
    {
      name: `frame time p50 / p95 with ${EVENTS_PER_S} events/s on ${SERVERS} rows`,
      value: `${p50.toFixed(1)} / ${p95.toFixed(1)}`,
      unit: 'ms',
      goal: '60 fps (16.7 ms)',
      met: p95 < 17.5,
    },
    { name: 'same, longest frame; frames over 50 ms', value: `${max.toFixed(1)}; ${long}`, unit: 'ms; frames' },
  );
  writeReport({
    package: '@mcpproxy/web',
    issue: 12,
    rows,
    notes: [
      `JavaScript shipped: ${jsGz} B gzipped (gzip -9, the goal's unit: < 60,000 B); CSS ${cssGz} B.`,
      'Headless Debian Chromium (playwright-core) against apps/server `serve()` with 1,000 upstreams that connect at once.',
      `Frame times are requestAnimationFrame deltas over ${FRAME_WINDOW_MS / 1000} s while the server publishes ` +
        `${EVENTS_PER_S} row-changing events a second; the page coalesces them to one table render per frame ` +
        `(${frames.renders} DOM mutation batches seen). Main thread meanwhile: ${busy.join(', ')}.`,
    ],
  });
} finally {
  await browser.close();
  await running.close();
  rmSync(dataDir, { recursive: true, force: true });
}
