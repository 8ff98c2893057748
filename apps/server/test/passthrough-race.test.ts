// Issue 16 item 7: the proxy forwarded a session's first request before its own upstream GET event stream was open,
// so a server-to-client request the upstream put on that stream (not tied to the call) was lost. The session now
// waits for the stream before forwarding; every sampling and elicitation round trip must arrive.
import { CreateMessageRequestSchema, ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startProxy, type TestProxy, textOf, waitReady } from './fixtures/mcp-harness.js';
import { type ScriptedUpstream, scriptedUpstream } from './passthrough-upstream.js';

const ROUNDS = 100;

describe('/mcp/servers/{name}: server-to-client requests on the upstream standalone stream (issue 16 item 7)', () => {
  let upstream: ScriptedUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    // The upstream's standalone stream takes a while to open, as over a slow network: without the wait, the
    // session's first request reaches the upstream before its stream, every time.
    upstream = await scriptedUpstream({ getDelayMs: 50 });
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

  it(`delivers sampling and elicitation sent right after initialize, ${ROUNDS} fresh sessions each, with no loss`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < ROUNDS && failures.length < 3; i++) {
      for (const tool of ['sample_standalone', 'elicit_standalone'] as const) {
        const c = await connectClient(proxy.url, '/mcp/servers/scripted', {
          options: { capabilities: { sampling: {}, elicitation: { form: {} } } },
        });
        c.client.setRequestHandler(CreateMessageRequestSchema, () => ({
          role: 'assistant',
          content: { type: 'text', text: `round ${i}` },
          model: 'test-model',
        }));
        c.client.setRequestHandler(
          ElicitRequestSchema,
          (): ElicitResult => ({ action: 'accept', content: { name: `round ${i}` } }),
        );
        try {
          // The first request of the session: the race was here. A lost request would never be answered, so a
          // generous deadline turns a loss into a failure instead of a hang.
          const result = await c.client.callTool({ name: tool, arguments: {} }, undefined, { timeout: 10_000 });
          const expected =
            tool === 'sample_standalone' ? `sampled: round ${i}` : `elicited: accept {"name":"round ${i}"}`;
          if (textOf(result) !== expected) failures.push(`${tool} #${i}: ${textOf(result)}`);
        } catch (error) {
          failures.push(`${tool} #${i}: ${String(error)}`);
        } finally {
          await c.close();
        }
      }
    }
    expect(failures).toEqual([]);
    expect(upstream.lost()).toBe(0);
  }, 600_000);
});
