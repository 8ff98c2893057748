// Faults on /mcp/servers/{name}: failures and timeouts on a session's link feed the server's circuit breaker like
// any other call (issue 9 item 4), and a call in flight when the session's own upstream process dies is answered at
// once (issue 16 item 2).
import { readdirSync, readFileSync } from 'node:fs';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectClient,
  EVERYTHING,
  everythingEntry,
  nextEvent,
  startProxy,
  type TestProxy,
  textOf,
  waitFor,
  waitReady,
} from './fixtures/mcp-harness.js';
import { type ScriptedUpstream, scriptedUpstream } from './passthrough-upstream.js';

/** Child processes of this test process whose command line mentions `needle`. */
function children(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

describe('/mcp/servers/{name}: failures on session links count for the circuit breaker (issue 9 item 4)', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await scriptedUpstream();
    proxy = await startProxy({
      config: {
        call_tool_timeout: '500ms',
        health_check_interval: 0,
        circuit_breaker: { failure_threshold: 3, reset_timeout: '10m' },
        mcpServers: [{ name: 'scripted', protocol: 'streamable-http', url: upstream.url, quarantined: false }],
      },
    });
    await waitReady(proxy, 'scripted');
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('opens the circuit through /mcp/servers/{name} alone, then refuses there and on REST with CIRCUIT_OPEN', async () => {
    const shared = await connectClient(proxy.url, '/mcp/servers/scripted');
    const own = await connectClient(proxy.url, '/mcp/servers/scripted', {
      options: { capabilities: { roots: { listChanged: true } } },
    });
    own.client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }));
    const actor = proxy.running.services.supervisor.getActor('scripted');
    try {
      expect(proxy.endpoints.stats().links.held).toBe(1);
      const opened = nextEvent(proxy.bus, 'circuit_state_changed', (e) => e.server === 'scripted');
      // A JSON-RPC failure on the shared connection, one on a session's own link, and a timeout.
      await expect(shared.client.callTool({ name: 'fail', arguments: {} })).rejects.toThrow(/tool blew up/);
      await expect(own.client.callTool({ name: 'fail', arguments: {} })).rejects.toThrow(/tool blew up/);
      expect(actor?.getState().circuit).toBe('closed');
      expect(upstream.calls).toEqual(['fail', 'fail']);
      const slow = await own.client.callTool({ name: 'slow', arguments: {} });
      expect(textOf(slow)).toMatch(/^UPSTREAM_TIMEOUT: /);
      expect((await opened).data.to).toBe('open');
      expect(actor?.getState().circuit).toBe('open');

      const calls = upstream.calls.length;
      for (const c of [shared, own]) {
        const refused = await c.client.callTool({ name: 'echo', arguments: { message: 'x' } });
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toMatch(/^CIRCUIT_OPEN: /);
      }
      const rest = await proxy.api('/api/v1/tools/call', {
        method: 'POST',
        json: { name: 'scripted:echo', arguments: { message: 'x' } },
      });
      expect(rest.status).toBe(503);
      expect((rest.body as { code?: string }).code).toBe('CIRCUIT_OPEN');
      // Refused calls never reached the upstream.
      expect(upstream.calls.length).toBe(calls);
    } finally {
      await shared.close();
      await own.close();
    }
  });
});

describe('/mcp/servers/{name}: the session upstream process dies with a call in flight (issue 16 item 2)', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy({ config: { mcpServers: [everythingEntry()] } });
    await waitReady(proxy, 'everything');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('answers the pending call at once with UPSTREAM_UNAVAILABLE … killed by SIGKILL, and ends the session', async () => {
    const before = children(EVERYTHING);
    const c = await connectClient(proxy.url, '/mcp/servers/everything', {
      options: { capabilities: { roots: { listChanged: true } } },
    });
    c.client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }));
    try {
      const linkPid = await waitFor(
        () => children(EVERYTHING).find((pid) => !before.includes(pid)),
        "the session's own upstream process",
      );
      let progressed = false;
      const call = c.client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 600, steps: 600 } },
        undefined,
        { onprogress: () => (progressed = true), timeout: 3_600_000 },
      );
      await waitFor(() => progressed, 'the call to be running upstream');
      process.kill(-linkPid, 'SIGKILL');
      const result = await call;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^UPSTREAM_UNAVAILABLE: .*killed by SIGKILL/);
      // The session is over (its link is gone); the server's own connection is not affected.
      await waitFor(() => proxy.endpoints.stats().links.held === 0, 'the link slot to be released');
      await expect(c.client.listTools()).rejects.toThrow();
      expect(proxy.running.services.supervisor.getActor('everything')?.getState().state).toBe('ready');
    } finally {
      await c.close();
    }
  });
});
