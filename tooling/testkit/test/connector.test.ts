import { existsSync } from 'node:fs';
import { parseServerConfig, type ServerConfig, UpstreamError } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createScriptedConnector, echoTool, fixturePath, manual, rejectionOf, sumTool } from '../src/index.js';

function server(name: string): ServerConfig {
  const parsed = parseServerConfig({ name, command: 'fake-server' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

describe('createScriptedConnector', () => {
  it('connects at once with echo and sum, answering calls with name:args, when nothing is scripted', async () => {
    const connector = createScriptedConnector();
    const conn = await connector.connect(server('a'));
    expect(conn.tools.map((t) => t.name)).toEqual(['echo', 'sum']);
    expect(conn.tools[0]).not.toBe(echoTool);
    expect(await conn.callTool('echo', { message: 'hi' })).toEqual({
      content: [{ type: 'text', text: 'echo:{"message":"hi"}' }],
    });
    expect(connector.last().calls).toEqual([{ name: 'echo', args: { message: 'hi' }, signal: undefined }]);
    expect(conn.stderrTail()).toEqual([]);
  });

  it('takes queued steps in order across servers, then the fallback', async () => {
    const refused = new UpstreamError('CONNECT_FAILED', 'refused');
    const connector = createScriptedConnector({ steps: [refused, { kind: 'ok', tools: [sumTool] }], fallback: 'ok' });
    expect(await rejectionOf(connector.connect(server('a')), UpstreamError)).toBe(refused);
    expect((await connector.connect(server('b'))).tools.map((t) => t.name)).toEqual(['sum']);
    connector.fallback = { kind: 'fail' };
    expect((await rejectionOf(connector.connect(server('a')), UpstreamError)).code).toBe('CONNECT_FAILED');
    expect(connector.attempts()).toBe(3);
    expect(connector.attempts('a')).toBe(2);
    expect(connector.connects.map((c) => c.server.name)).toEqual(['a', 'b', 'a']);
  });

  it("follows a server's own script, repeating its last step, and keeps its tools, calls and stderr", async () => {
    const connector = createScriptedConnector();
    connector.script('s', {
      connect: [new UpstreamError('CONNECT_FAILED', 'first'), 'ok'],
      tools: [echoTool],
      stderr: ['line'],
      onCall: async () => ({ content: [], isError: true }),
    });
    await rejectionOf(connector.connect(server('s')), UpstreamError);
    const first = await connector.connect(server('s'));
    const second = await connector.connect(server('s'));
    await connector.connect(server('other'));
    expect(connector.last('s')).toBe(second);
    expect(connector.last('s')).not.toBe(first);
    expect(second.tools.map((t) => t.name)).toEqual(['echo']);
    expect(second.stderrTail()).toEqual(['line']);
    expect(await second.callTool('echo', {})).toEqual({ content: [], isError: true });
    expect(connector.last().tools.map((t) => t.name)).toEqual(['echo', 'sum']);
    expect(() => connector.last('nobody')).toThrow();
  });

  it('hangs until the attempt aborts, also when the signal aborted before the attempt', async () => {
    const connector = createScriptedConnector({ fallback: 'hang' });
    const abort = new AbortController();
    const pending = connector.connect(server('a'), { signal: abort.signal });
    abort.abort();
    expect((await rejectionOf(pending, UpstreamError)).code).toBe('ABORTED');
    expect((await rejectionOf(connector.connect(server('a'), { signal: abort.signal }), UpstreamError)).code).toBe(
      'ABORTED',
    );
  });

  it('lets the test settle a manual step and see its signal', async () => {
    const handle = manual();
    const connector = createScriptedConnector({ steps: [{ kind: 'manual', handle }] });
    const abort = new AbortController();
    const pending = connector.connect(server('a'), { signal: abort.signal });
    expect(handle.signal).toBe(abort.signal);
    handle.resolve();
    expect(await pending).toBe(connector.last('a'));
  });

  it('drives a connection: kill and tool changes reach the listeners, unsubscribing detaches them', async () => {
    const connector = createScriptedConnector();
    const conn = await connector.connect(server('a'));
    const closes: (Error | undefined)[] = [];
    let changes = 0;
    const offClose = conn.onClose((error) => closes.push(error));
    conn.onToolsChanged(() => changes++);
    connector.last().changeTools([sumTool]);
    expect(conn.tools).toEqual([sumTool]);
    expect(changes).toBe(1);
    connector.last().kill();
    expect(closes).toHaveLength(1);
    expect(connector.last().closed).toBe(true);
    offClose();
    expect(connector.last().listenerCount()).toBe(1);
  });
});

describe('fixturePath', () => {
  it('points at a fixture file testkit ships', () => {
    expect(existsSync(fixturePath('rugpull-server.mjs'))).toBe(true);
  });
});
