import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everything, type LiveServer, mcpproxy, startServer, untilRow } from './cli-run.js';

// The server's end-to-end fixture: a poisoned `add` beside a clean `multiply` (issue 13).
const POISONED = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'server',
  'test',
  'fixtures',
  'poisoned-server.mjs',
);

let server: LiveServer;
let env: Record<string, string>;
beforeAll(async () => {
  server = await startServer({
    mcpServers: [
      { name: 'math', protocol: 'stdio', command: process.execPath, args: [POISONED] },
      everything('everything'),
    ],
  });
  env = { MCPPROXY_URL: server.url };
  await untilRow(server, 'math', (r) => r.state === 'ready');
  await untilRow(server, 'everything', (r) => r.state === 'ready');
});
afterAll(() => server?.close());

describe('mcpproxy security scan (issue 13)', () => {
  it("shows a poisoned tool's findings for one server, as a table and as JSON", async () => {
    const table = await mcpproxy(['security', 'scan', 'math'], { env: { ...env, COLUMNS: '200' } });
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TOOL\s+VERDICT\s+SEVERITY\s+APPROVAL\s+FINDINGS/);
    const add = lines.find((l) => l.startsWith('math:add '));
    expect(add).toMatch(/^math:add\s+block\s+critical\s+pending\s+.*directive\/secret_access \(hard\)/);
    expect(lines.find((l) => l.startsWith('math:multiply '))).toMatch(/^math:multiply\s+clean\s+none\s+approved/);
    expect(table.stdout).toMatch(/2 tool\(s\): 1 blocked, 0 for review, 1 clean \(block_on: hard\)/);

    const tools = await mcpproxy(['upstream', 'tools', 'math'], { env });
    expect(tools.stdout).toMatch(/^add\s+pending\s+block\s+Adds two numbers/m);
    expect(tools.stdout).toMatch(/^multiply\s+approved\s+clean\s+Multiplies/m);

    const out = await mcpproxy(['security', 'scan', 'math', '-o', 'json'], { env });
    expect(out.code).toBe(0);
    const body = JSON.parse(out.stdout) as {
      counts: unknown;
      results: { tool: string; findings: { evidence: string }[] }[];
    };
    expect(body.counts).toEqual({ block: 1, review: 0, clean: 1 });
    const poisoned = body.results.find((r) => r.tool === 'add');
    expect(poisoned?.findings.some((f) => f.evidence.includes('~/.ssh/id_rsa'))).toBe(true);
  });

  it('scans every server without an argument, and fails clearly for an unknown one', async () => {
    const out = await mcpproxy(['security', 'scan', '-o', 'json'], { env });
    expect(out.code).toBe(0);
    const body = JSON.parse(out.stdout) as { counts: { block: number; clean: number }; results: { server: string }[] };
    expect(new Set(body.results.map((r) => r.server))).toEqual(new Set(['math', 'everything']));
    expect(body.counts.block).toBe(1);
    const missing = await mcpproxy(['security', 'scan', 'nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no server with the name/);
  });
});
