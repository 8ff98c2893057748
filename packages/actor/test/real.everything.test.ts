import { everythingEntry, startEverythingHttp } from '@mcpproxy/testkit';
import type { Connection } from '@mcpproxy/upstream';
import { describe, expect, it } from 'vitest';
import { realActor, serverConfig } from './helpers/real.js';

const textOf = (result: { content: unknown[] }) =>
  result.content.map((c) => (c as { text?: string }).text ?? '').join('');

describe('ServerActor against @modelcontextprotocol/server-everything', () => {
  it('reaches ready over stdio, lists tools and echo answers', async () => {
    await using real = realActor(
      serverConfig({ name: 'everything', command: process.execPath, args: [everythingEntry, 'stdio'] }),
    );
    const { actor, events } = real;
    await actor.start();
    expect(actor.getState()).toMatchObject({ state: 'ready', protocol: 'auto', last_error: null });
    const established = await events.waitFor('connection_established');
    expect(established.data.protocol).toBe('stdio');
    expect(established.data.tool_count).toBeGreaterThan(3);
    expect(actor.callableTools().map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(actor.tools().every((t) => t.approval === 'approved')).toBe(true);
    const result = await actor.callTool('echo', { message: 'hello actor' });
    expect(textOf(result)).toContain('hello actor');
    expect(actor.pendingCalls()).toBe(0);
  });

  it('reaches ready over Streamable HTTP, lists tools and echo answers', async () => {
    await using upstream = await startEverythingHttp();
    await using real = realActor(
      serverConfig({ name: 'everything-http', protocol: 'streamable-http', url: upstream.url() }),
    );
    const { actor, events } = real;
    await actor.start();
    expect(actor.getState().state).toBe('ready');
    expect((await events.waitFor('connection_established')).data.protocol).toBe('streamable-http');
    expect(actor.callableTools().map((t) => t.name)).toContain('echo');
    const result = await actor.callTool('echo', { message: 'over http' });
    expect(textOf(result)).toContain('over http');
  });

  it('comes back on its own after the stdio upstream is SIGKILLed: connection_lost → error → ready', async () => {
    await using real = realActor(
      serverConfig({ name: 'everything', command: process.execPath, args: [everythingEntry, 'stdio'] }),
    );
    const { actor, events } = real;
    await actor.start();
    const pid = (actor.connection() as Connection | undefined)?.pid;
    expect(pid).toBeGreaterThan(0);
    const lost = events.next('connection_lost');
    const errored = events.next('server_state_changed', (e) => e.data.to === 'error');
    const back = events.next('server_state_changed', (e) => e.data.to === 'ready');
    process.kill(pid as number, 'SIGKILL');
    expect((await lost).data.error).toBeTruthy();
    const error = await errored;
    expect(error.data).toMatchObject({ from: 'ready', reason: 'connection_lost' });
    expect(error.data.next_retry_at).not.toBeNull();
    await back;
    const newPid = (actor.connection() as Connection | undefined)?.pid;
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
    expect(textOf(await actor.callTool('echo', { message: 'again' }))).toContain('again');
  });
});
