// Bounded config fuzz (issue 16): configsvc load, POST /config/validate and hot reload of fuzzed files; fixed seeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, tempDir } from '../helpers.js';
import { configTargets } from './config-targets.js';
import { assertTarget, type FuzzTarget, type HttpClient, httpClient } from './harness.js';
import { FUZZ_KEY, startFuzzServer } from './servers.js';
import { symlinkTargets } from './symlink-targets.js';

const RUNS: Record<string, number> = {
  'config: configsvc loads or refuses fuzzed files': 300,
  'config: POST /config/validate agrees with the contract': 300,
  'config: a refused hot reload keeps the running config': 100,
  'config: a symlinked config reloads edits of its target and saves through the link': 25,
};

describe('config fuzz', () => {
  let server: TestServer;
  let client: HttpClient;
  const scratch = tempDir('mcpproxy-fuzz-config-');
  let targets: FuzzTarget<unknown>[] = [];

  beforeAll(async () => {
    server = await startFuzzServer({ real: false });
    client = httpClient(server.url, FUZZ_KEY);
    targets = [...configTargets({ dir: scratch.path, server, client }), ...symlinkTargets({ dir: scratch.path })];
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    scratch.cleanup();
  });

  for (const [name, numRuns] of Object.entries(RUNS)) {
    it(`keeps its invariants: ${name}`, async () => {
      const t = targets.find((x) => x.name === name);
      if (!t) throw new Error(`no target ${name}`);
      await assertTarget(t, { numRuns, seed: 16_004 });
    });
  }
  it('leaves the server alive: /healthz answers after every input', async () => {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
  });
});
