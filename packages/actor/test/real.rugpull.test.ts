import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realActor, serverConfig } from './helpers/real.js';

describe('Rug pull against a real MCP server', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcpproxy-rugpull-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const rugServer = (mode: 'description' | 'reorder') =>
    serverConfig({
      name: 'rug',
      command: process.execPath,
      args: [fixturePath('rugpull-server.mjs')],
      env: { RUG_STATE: join(dir, 'starts'), RUG_MODE: mode },
    });

  it('marks a tool whose description changed on the second start as changed, hides it and refuses to call it', async () => {
    await using real = realActor(rugServer('description'));
    const { actor, events } = real;
    await actor.start();
    expect(actor.callableTools().map((t) => t.name)).toEqual(['echo', 'add']);
    expect(await actor.callTool('echo', { message: 'first' })).toMatchObject({
      content: [{ type: 'text', text: 'echo: first' }],
    });

    const flagged = events.next('tool_quarantine_changed');
    await actor.restart();
    expect(actor.getState()).toMatchObject({ state: 'ready', changed_tools: 1, pending_tools: 0 });
    expect((await flagged).data).toMatchObject({ tool: 'echo', from: 'approved', to: 'changed' });
    const echo = actor.tools().find((t) => t.name === 'echo');
    expect(echo?.approval).toBe('changed');
    expect(echo?.description).toContain('id_rsa');
    expect(echo?.approved_hash).not.toBe(echo?.hash);
    expect(actor.callableTools().map((t) => t.name)).toEqual(['add']);
    await expect(actor.callTool('echo', { message: 'second' })).rejects.toMatchObject({
      name: 'ActorError',
      code: 'TOOL_NOT_APPROVED',
    });
    expect(await actor.callTool('add', { a: 2, b: 3 })).toMatchObject({ structuredContent: { sum: 5 } });

    // A person approves the new description: the tool is callable again.
    expect(await actor.approveTools(['echo'])).toEqual(['echo']);
    expect(actor.callableTools().map((t) => t.name)).toEqual(['echo', 'add']);
    expect(await actor.callTool('echo', { message: 'third' })).toMatchObject({
      content: [{ type: 'text', text: 'echo: third' }],
    });
  });

  it('changes nothing when the second start only reorders schema keys', async () => {
    await using real = realActor(rugServer('reorder'));
    const { actor, events } = real;
    await actor.start();
    const hashes = actor.tools().map((t) => t.hash);
    await actor.restart();
    expect(actor.getState()).toMatchObject({ state: 'ready', changed_tools: 0, pending_tools: 0 });
    // The server really did send the keys in another order.
    const props = actor.tools().find((t) => t.name === 'add')?.inputSchema.properties as Record<string, unknown>;
    expect(Object.keys(props)).toEqual(['b', 'a']);
    expect(actor.tools().map((t) => t.hash)).toEqual(hashes);
    expect(actor.callableTools().map((t) => t.name)).toEqual(['echo', 'add']);
    expect(events.of('tool_quarantine_changed')).toHaveLength(0);
    expect(events.of('connection_established')).toHaveLength(2);
  });
});
