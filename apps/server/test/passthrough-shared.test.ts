// Sessions sharing the actor's connection on /mcp/servers/{name} (issue 16 item 3): they must not see each other's
// traffic, must get every progress notification of their own calls, and must hear the server's list changes.
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startProxy, type TestProxy, textOf, waitReady } from './fixtures/mcp-harness.js';
import { type ScriptedUpstream, scriptedUpstream } from './passthrough-upstream.js';

const PATH = '/mcp/servers/scripted';

describe('/mcp/servers/{name}: sessions sharing the actor connection', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await scriptedUpstream();
    proxy = await startProxy({
      config: {
        health_check_interval: 0,
        mcpServers: [{ name: 'scripted', protocol: 'streamable-http', url: upstream.url, quarantined: false }],
      },
    });
    await waitReady(proxy, 'scripted');
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('keeps concurrent sessions apart: the same request ids get each their own answer', async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => connectClient(proxy.url, PATH)));
    try {
      // Each SDK client numbers its requests from 0, so the ids collide across sessions.
      const answers = await Promise.all(
        sessions.map((c, i) => c.client.callTool({ name: 'echo', arguments: { message: `s${i}` } })),
      );
      expect(answers.map(textOf)).toEqual(['scripted: s0', 'scripted: s1', 'scripted: s2']);
      expect(upstream.sessions).toHaveLength(1); // only the actor's
      expect(proxy.endpoints.stats().links.held).toBe(0);
    } finally {
      for (const c of sessions) await c.close();
    }
  });

  it('relays every progress notification of a call, also those written right before its answer', async () => {
    const c = await connectClient(proxy.url, PATH);
    try {
      for (let round = 0; round < 20; round++) {
        const progress: number[] = [];
        const result = await c.client.callTool({ name: 'count', arguments: { n: 3 } }, undefined, {
          onprogress: (p) => progress.push(p.progress),
        });
        expect(textOf(result)).toBe('counted to 3');
        expect(progress).toEqual([1, 2, 3]);
      }
    } finally {
      await c.close();
    }
  });

  it("tells every sharing session when the server's resource list changes", async () => {
    const [a, b] = await Promise.all([connectClient(proxy.url, PATH), connectClient(proxy.url, PATH)]);
    try {
      const heard = new Promise<void>((resolve) =>
        b?.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve()),
      );
      await b?.client.listTools();
      expect(textOf(await a?.client.callTool({ name: 'touch_resources', arguments: {} }))).toBe('touched');
      await heard;
    } finally {
      await a?.close();
      await b?.close();
    }
  });
});
