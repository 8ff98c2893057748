// Bounded MCP fuzz (issue 16) on /mcp, /mcp/all and /mcp/servers/{name}, with a real upstream; fixed seeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, waitForState } from '../helpers.js';
import { assertTarget, type FuzzTarget } from './harness.js';
import { MCP_ENDPOINTS, type McpEndpoint, mcpTargets, openSession } from './mcp-targets.js';
import { FUZZ_KEY, REAL, startFuzzServer } from './servers.js';

const RUNS: Record<string, number> = {
  'mcp: JSON-RPC in a live session on each endpoint (methods, params, batches, ids)': 200,
  'mcp: requests without a session, on every endpoint and any server name': 300,
};

describe('MCP fuzz against a real server and upstream', () => {
  let server: TestServer;
  let targets: FuzzTarget<unknown>[] = [];
  const sessions = {} as Record<McpEndpoint, string>;

  beforeAll(async () => {
    server = await startFuzzServer();
    await waitForState(server.view, REAL, 'ready', 30_000);
    for (const endpoint of MCP_ENDPOINTS) sessions[endpoint] = await openSession(server.url + endpoint);
    targets = mcpTargets({ url: server.url }, sessions);
  });
  afterAll(async () => {
    for (const [endpoint, id] of Object.entries(sessions)) {
      await fetch(server.url + endpoint, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${FUZZ_KEY}`, 'mcp-session-id': id },
      }).catch(() => {});
    }
    await server?.close();
  });

  for (const [name, numRuns] of Object.entries(RUNS)) {
    it(`keeps its invariants: ${name}`, async () => {
      const t = targets.find((x) => x.name === name);
      if (!t) throw new Error(`no target ${name}`);
      await assertTarget(t, { numRuns, seed: 16_003 });
    });
  }
  it('leaves the server alive: /healthz answers after every input', async () => {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
  });
});
