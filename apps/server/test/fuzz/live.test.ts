// Bounded live-delivery fuzz (issue 16): WebSocket queries and frames, SSE Last-Event-ID; fixed seeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../helpers.js';
import { assertTarget, type FuzzTarget } from './harness.js';
import { liveTargets } from './live-targets.js';
import { startFuzzServer } from './servers.js';

const RUNS: Record<string, number> = {
  'ws: /ws/events and /ws/servers with fuzzed queries and frames': 250,
  'sse: /events with fuzzed Last-Event-ID, since and epoch': 250,
};

describe('live-delivery fuzz against a real server', () => {
  let server: TestServer;
  let targets: FuzzTarget<unknown>[] = [];

  beforeAll(async () => {
    server = await startFuzzServer({ real: false });
    targets = liveTargets({ url: server.url, bus: server.bus });
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const [name, numRuns] of Object.entries(RUNS)) {
    it(`keeps its invariants: ${name}`, async () => {
      const t = targets.find((x) => x.name === name);
      if (!t) throw new Error(`no target ${name}`);
      await assertTarget(t, { numRuns, seed: 16_002 });
    });
  }
  it('leaves the server alive: /healthz answers after every input', async () => {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(200);
  });
});
