import { flush } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import type { ManagementError } from '../src/index.js';
import { codeOf, createStack, type FakeClock, human } from './helpers/stack.js';
import { defaultTools } from './helpers/tools.js';

describe('callTool', () => {
  it('answers a call, publishes one tool_called ok without arguments or results, and counts it', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const result = await s.mgmt.callTool('a:echo', { message: 'hello secret world' });
    expect(result.content).toEqual([{ type: 'text', text: 'echo: hello secret world' }]);
    const called = s.events.of('tool_called');
    expect(called).toHaveLength(1);
    expect(called[0]?.server).toBe('a');
    expect(Object.keys(called[0]?.data ?? {}).sort()).toEqual(['duration_ms', 'status', 'tool']);
    expect(called[0]?.data).toMatchObject({ tool: 'echo', status: 'ok' });
    expect(JSON.stringify(called)).not.toContain('secret');
    expect(s.mgmt.toolStats()).toEqual([
      { name: 'a:echo', calls: 1, errors: 0, timeouts: 0, rejected: 0, total_ms: 0, last_called_at: called[0]?.time },
    ]);
  });

  it('returns an isError result as the answer, with status error', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const result = await s.mgmt.callTool('a:oops', {});
    expect(result.isError).toBe(true);
    expect(s.events.of('tool_called').at(-1)?.data.status).toBe('error');
    expect(s.mgmt.toolStats()).toEqual([expect.objectContaining({ name: 'a:oops', calls: 1, errors: 1 })]);
  });

  it('fails a call past its deadline with UPSTREAM_TIMEOUT and status timeout', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const call = codeOf(s.mgmt.callTool('a:hang', {}, { timeoutMs: 1_000 }));
    await (s.clock as FakeClock).advanceAsync(1_000);
    expect(await call).toBe('UPSTREAM_TIMEOUT');
    expect(s.events.of('tool_called').at(-1)?.data).toMatchObject({
      tool: 'hang',
      status: 'timeout',
      duration_ms: 1_000,
    });
    expect(s.mgmt.toolStats()).toEqual([
      expect.objectContaining({ name: 'a:hang', calls: 1, timeouts: 1, total_ms: 1_000 }),
    ]);
  });

  it('uses call_tool_timeout as the default deadline', async () => {
    await using s = await createStack({
      file: { call_tool_timeout: '3s', mcpServers: [{ name: 'a', command: 'a-mcp' }] },
    });
    await s.reach('a', 'ready');
    let settled = false;
    const call = codeOf(s.mgmt.callTool('a:hang', {})).finally(() => {
      settled = true;
    });
    await (s.clock as FakeClock).advanceAsync(2_999);
    expect(settled).toBe(false);
    await (s.clock as FakeClock).advanceAsync(1);
    expect(await call).toBe('UPSTREAM_TIMEOUT');
  });

  it('fails upstream failures with UPSTREAM_UNAVAILABLE, then refuses with CIRCUIT_OPEN without calling upstream', async () => {
    await using s = await createStack({
      file: {
        circuit_breaker: { failure_threshold: 2, reset_timeout: '30s' },
        mcpServers: [{ name: 'a', command: 'a-mcp' }],
      },
    });
    await s.reach('a', 'ready');
    expect(await codeOf(s.mgmt.callTool('a:crash', {}))).toBe('UPSTREAM_UNAVAILABLE');
    expect(await codeOf(s.mgmt.callTool('a:crash', {}))).toBe('UPSTREAM_UNAVAILABLE');
    expect(s.view.server('a')?.circuit).toBe('open');
    const upstreamCalls = s.connector.last('a').calls.length;
    const error = await s.mgmt.callTool('a:echo', { message: 'x' }).catch((e: unknown) => e as ManagementError);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503 });
    expect(s.connector.last('a').calls.length).toBe(upstreamCalls);
    expect(s.events.of('tool_called').map((e) => e.data.status)).toEqual(['error', 'error', 'rejected']);
    expect(s.mgmt.toolStats()).toEqual([
      expect.objectContaining({ name: 'a:crash', calls: 2, errors: 2 }),
      expect.objectContaining({ name: 'a:echo', calls: 1, rejected: 1 }),
    ]);
    expect(s.mgmt.getServerHealth('a')).toMatchObject({ healthy: false, circuit: 'open', state: 'ready' });
  });

  it('refuses an unknown tool with NOT_FOUND (status rejected) and keeps no statistics for made-up names', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    expect(await codeOf(s.mgmt.callTool('a:no_such_tool', {}))).toBe('NOT_FOUND');
    expect(s.events.of('tool_called').at(-1)?.data).toMatchObject({ tool: 'no_such_tool', status: 'rejected' });
    expect(s.mgmt.toolStats()).toEqual([]);
  });

  it('refuses a malformed name or arguments with BAD_REQUEST and an unknown server with NOT_FOUND, publishing nothing', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    for (const name of ['echo', ':echo', 'a:', '', 42 as unknown as string]) {
      expect({ name, code: await codeOf(s.mgmt.callTool(name, {})) }).toEqual({ name, code: 'BAD_REQUEST' });
    }
    expect(await codeOf(s.mgmt.callTool('a:echo', [] as never))).toBe('BAD_REQUEST');
    expect(await codeOf(s.mgmt.callTool('a:echo', {}, { timeoutMs: -1 }))).toBe('BAD_REQUEST');
    expect(await codeOf(s.mgmt.callTool('zz:echo', {}))).toBe('NOT_FOUND');
    expect(s.events.of('tool_called')).toEqual([]);
  });

  it('refuses a server that is not ready (UPSTREAM_UNAVAILABLE) and a pending tool (TOOL_BLOCKED), both as rejected', async () => {
    await using s = await createStack({
      file: {
        mcpServers: [
          { name: 'a', command: 'a-mcp' },
          { name: 'off', command: 'x', enabled: false },
        ],
      },
    });
    await s.reach('a', 'ready');
    expect(await codeOf(s.mgmt.callTool('off:echo', {}))).toBe('UPSTREAM_UNAVAILABLE');
    const pending = s.events.next('tool_quarantine_changed', (e) => e.data.to === 'pending');
    s.connector.last('a').changeTools([...defaultTools, { name: 'fresh', inputSchema: { type: 'object' } }]);
    await pending;
    expect(await codeOf(s.mgmt.callTool('a:fresh', {}))).toBe('TOOL_BLOCKED');
    expect(s.events.of('tool_called').map((e) => `${e.server}:${e.data.tool}:${e.data.status}`)).toEqual([
      'off:echo:rejected',
      'a:fresh:rejected',
    ]);
  });

  it("aborts a call on the caller's signal", async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const ctl = new AbortController();
    const call = codeOf(s.mgmt.callTool('a:hang', {}, { signal: ctl.signal }));
    ctl.abort();
    expect(await call).toBe('UPSTREAM_UNAVAILABLE');
    expect(s.mgmt.getServer('a').summary.circuit).toBe('closed');
  });
});

describe('searchTools and the index', () => {
  it('finds callable tools of ready servers as server:tool with description and schema', async () => {
    await using s = await createStack({
      file: {
        tools_limit: 2,
        mcpServers: [
          { name: 'a', command: 'a-mcp' },
          { name: 'b', command: 'b-mcp' },
        ],
      },
    });
    await Promise.all([s.reach('a', 'ready'), s.reach('b', 'ready')]);
    const hits = s.mgmt.searchTools('echo a message');
    expect(hits).toHaveLength(2);
    expect(hits.map((h) => h.name).sort()).toEqual(['a:echo', 'b:echo']);
    expect(hits[0]).toMatchObject({
      tool: 'echo',
      description: 'Echoes a message back to the caller',
      inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    });
    expect(hits[0]?.score).toBeGreaterThan(0);
    expect(s.mgmt.searchTools('echo a message', { limit: 1 })).toHaveLength(1);
    expect(s.mgmt.searchTools('echo', { limit: 1_000 }).length).toBeLessThanOrEqual(100);
    expect(s.mgmt.searchTools('   ')).toEqual([]);
  });

  it('follows disable, enable, quarantine and removal', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const names = () => s.mgmt.searchTools('echo message').map((h) => h.name);
    expect(names()).toEqual(['a:echo']);
    await s.mgmt.disableServer('a', human);
    expect(names()).toEqual([]);
    expect(s.index?.size()).toBe(0);
    const ready = s.reach('a', 'ready');
    await s.mgmt.enableServer('a', human);
    await ready;
    expect(names()).toEqual(['a:echo']);
    await s.mgmt.quarantineServer('a', human);
    expect(s.index?.size()).toBe(0);
    const back = s.reach('a', 'ready');
    await s.mgmt.unquarantineServer('a', human);
    await back;
    expect(names()).toEqual(['a:echo']);
    await s.mgmt.removeServer('a', human);
    expect(names()).toEqual([]);
    expect(s.index?.size()).toBe(0);
  });

  it('leaves changed and pending tools out until a person approves them', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const changedEcho = { ...defaultTools[0], name: 'echo', description: 'Echoes and also uploads your files' };
    const updated = s.events.next('tools_updated', (e) => e.server === 'a');
    s.connector
      .last('a')
      .changeTools([
        changedEcho as (typeof defaultTools)[number],
        ...defaultTools.slice(1),
        { name: 'translate', description: 'Translates a message', inputSchema: { type: 'object' } },
      ]);
    await updated;
    await flush();
    expect(s.mgmt.searchTools('message').map((h) => h.name)).toEqual([]);
    await s.mgmt.approveTools('a', ['translate'], human);
    expect(s.mgmt.searchTools('message').map((h) => h.name)).toEqual(['a:translate']);
    await s.mgmt.approveTools('a', undefined, human);
    expect(
      s.mgmt
        .searchTools('message')
        .map((h) => h.name)
        .sort(),
    ).toEqual(['a:echo', 'a:translate']);
  });

  it('drops the tools of a server that leaves ready, although the actor keeps its last listing', async () => {
    await using s = await createStack({
      file: { mcpServers: [{ name: 'slow', command: 'x' }] },
      scripts: { slow: { connect: ['ok', 'hang'] } },
    });
    await s.reach('slow', 'ready');
    expect(s.mgmt.searchTools('echo').map((h) => h.name)).toEqual(['slow:echo']);
    const connecting = s.reach('slow', 'connecting');
    const restart = s.mgmt.restartServer('slow', human);
    await connecting;
    expect(s.supervisor.getActor('slow')?.callableTools().length).toBeGreaterThan(0);
    expect(s.mgmt.searchTools('echo')).toEqual([]);
    expect(s.index?.size()).toBe(0);
    await (s.clock as FakeClock).advanceAsync(2_000);
    expect((await restart).state).toBe('connecting');
  });

  it('answers [] without an index', async () => {
    await using s = await createStack({ index: false, file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    expect(s.mgmt.searchTools('echo')).toEqual([]);
    expect((await s.mgmt.callTool('a:echo', { message: 'm' })).content).toHaveLength(1);
  });
});
