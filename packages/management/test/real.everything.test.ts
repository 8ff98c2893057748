import { systemClock } from '@mcpproxy/contracts';
import { everythingEntry } from '@mcpproxy/testkit';
import { createConnector } from '@mcpproxy/upstream';
import { describe, expect, it } from 'vitest';
import { createStack, human } from './helpers/stack.js';

const textOf = (result: { content: unknown[] }) =>
  result.content.map((c) => (c as { text?: string }).text ?? '').join('');

describe('against @modelcontextprotocol/server-everything over stdio, with the real connector', () => {
  it('adds it, reaches ready, finds everything:echo by search and calls it', async () => {
    // The connector only hands PATH, HOME, USER, LANG and TERM to the upstream.
    const connector = createConnector({ env: process.env, killGraceMs: 500 });
    await using s = await createStack({ clock: systemClock, connector, file: { quarantine_enabled: false } });
    const ready = s.reach('everything', 'ready');
    const added = await s.mgmt.addServer(
      { name: 'everything', command: process.execPath, args: [everythingEntry, 'stdio'] },
      human,
    );
    expect(added.quarantined).toBe(false);
    await ready;
    expect(s.mgmt.getServerHealth('everything')).toMatchObject({ healthy: true, state: 'ready' });
    expect(s.mgmt.getServerTools('everything').map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum']));

    const hits = s.mgmt.searchTools('echo a message');
    expect(hits.map((h) => h.name)).toContain('everything:echo');
    expect(hits.find((h) => h.name === 'everything:echo')?.inputSchema).toMatchObject({ type: 'object' });

    const result = await s.mgmt.callTool('everything:echo', { message: 'hi' }, { timeoutMs: 10_000 });
    expect(textOf(result)).toContain('hi');
    expect(s.events.of('tool_called', 'everything').at(-1)?.data).toMatchObject({ tool: 'echo', status: 'ok' });
    expect(s.mgmt.toolStats()).toEqual([expect.objectContaining({ name: 'everything:echo', calls: 1, errors: 0 })]);

    await s.mgmt.removeServer('everything', human);
    expect(s.mgmt.listServers()).toEqual([]);
    expect(s.mgmt.searchTools('echo a message')).toEqual([]);
  });
});
