/**
 * Runs mcpproxy (`serve()` of @mcpproxy/server with its MCP endpoints) in its own process for the conformance run
 * and the benchmark. Argument: the config as JSON (listen is forced to 127.0.0.1:0). Prints `ready URL` once every
 * configured server is ready; SIGTERM shuts it down.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as server from '@mcpproxy/server';

type McpModule = {
  createMcpEndpoints(options: Record<string, unknown>): {
    routes: { fetch(req: Request): Response | Promise<Response> };
    close(): Promise<void>;
  };
};

/** Whether `serve()` mounts the MCP endpoints itself (the package exports them once the app wires them in). */
const wired = 'createMcpEndpoints' in server;

const config = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
const dataDir = mkdtempSync(join(tmpdir(), 'mcp-compare-proxy-'));
writeFileSync(join(dataDir, 'mcp_config.json'), JSON.stringify({ ...config, listen: '127.0.0.1:0' }));

// Until then, the endpoints come from the app's source (this private tool runs under tsx) through the mount point.
const mcp = wired
  ? undefined
  : ((await import(new URL('../../../apps/server/src/mcp/index.ts', import.meta.url).href)) as McpModule);
let endpoints: ReturnType<McpModule['createMcpEndpoints']> | undefined;
const forward = (req: Request) => (endpoints ? endpoints.routes.fetch(req) : new Response(null, { status: 503 }));
const running = await server.serve({
  dataDir,
  env: process.env,
  logLevel: 'warn',
  watchConfig: false,
  processMetrics: false,
  systemMetricsIntervalMs: 0,
  ...(mcp
    ? {
        mcp: (app: Parameters<NonNullable<server.ServeOptions['mcp']>>[0]) => {
          app.all('/mcp', (c) => forward(c.req.raw));
          app.all('/mcp/*', (c) => forward(c.req.raw));
        },
      }
    : {}),
});
const s = running.services;
endpoints = mcp?.createMcpEndpoints({
  management: s.management,
  supervisor: s.supervisor,
  bus: s.bus,
  config: s.config,
  logger: s.logger,
  env: process.env,
});

const names = s.config.snapshot().mcpServers.map((m) => m.name);
const deadline = Date.now() + 30_000;
while (!names.every((n) => s.supervisor.getActor(n)?.getState().state === 'ready')) {
  if (Date.now() > deadline) {
    const states = names.map((n) => `${n}=${s.supervisor.getActor(n)?.getState().state}`).join(', ');
    process.stderr.write(`servers not ready: ${states}\n`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(`ready ${running.url}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await endpoints?.close();
  await running.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
