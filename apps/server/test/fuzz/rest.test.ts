// Bounded REST fuzz (issue 16): fixed seeds, so a failure replays (FUZZ_SEED=<seed> with fast-check's path).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, waitForState } from '../helpers.js';
import { assertTarget, type FuzzTarget, type HttpClient, httpClient } from './harness.js';
import { restTargets } from './rest-targets.js';
import { FUZZ_KEY, REAL, startFuzzServer } from './servers.js';

/** Inputs per target in `pnpm test` (the long run takes FUZZ_RUNS). */
const RUNS: Record<string, number> = {
  'rest: any route, method, name, query, content type and body': 300,
  'rest: JSON routes refuse non-JSON content types with a 4xx': 60,
  'rest: a missing server named anything is 404 NOT_FOUND on every named route': 150,
  'rest: POST /servers accepts exactly the valid names, lists them, and removes them': 80,
  'rest: POST and PATCH with fuzzed entries validate or refuse cleanly': 100,
  'rest: POST /tools/call with fuzzed names and arguments': 120,
  'rest: GET /tools with fuzzed q and limit answers hits within the limit or 400': 80,
  'rest: a wrong or missing key is 401 UNAUTHORIZED on every protected route': 80,
  'rest: a large body, read or not, never breaks its keep-alive connection': 4,
};

describe('REST fuzz against a real server', () => {
  let server: TestServer;
  let client: HttpClient;
  let targets: FuzzTarget<unknown>[] = [];

  beforeAll(async () => {
    server = await startFuzzServer();
    await waitForState(server.view, REAL, 'ready', 30_000);
    client = httpClient(server.url, FUZZ_KEY);
    targets = restTargets({ server, client });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  for (const [name, numRuns] of Object.entries(RUNS)) {
    it(`keeps its invariants: ${name}`, async () => {
      const t = targets.find((x) => x.name === name);
      if (!t) throw new Error(`no target ${name}`);
      await assertTarget(t, { numRuns, seed: 16_001 });
    });
  }
  it('leaves the server alive: /healthz answers after every input', async () => {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
  });
});
