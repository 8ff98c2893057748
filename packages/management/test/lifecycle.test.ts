import { UpstreamError } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { ManagementError } from '../src/index.js';
import { agent, createStack, type FakeClock, human } from './helpers/stack.js';
import { defaultTools, echoTool } from './helpers/tools.js';

/** Awaits a rejection and returns it as a ManagementError (fails the test if it resolves or throws anything else). */
async function refusal(promise: Promise<unknown>): Promise<ManagementError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ManagementError, but the operation succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ManagementError);
  return error as ManagementError;
}

function refusalSync(fn: () => unknown): ManagementError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ManagementError);
    return error as ManagementError;
  }
  throw new Error('expected a ManagementError');
}

describe('adding servers and quarantine', () => {
  it('adds a server quarantined by default, never starts it, and starts it once a person unquarantines it', async () => {
    await using s = await createStack();
    const added = await s.mgmt.addServer({ name: 'gh', command: 'gh-mcp' }, human);
    expect(added).toMatchObject({ name: 'gh', quarantined: true, state: 'quarantined' });
    expect(s.view.server('gh')?.state).toBe('quarantined');
    expect(s.connector.attempts('gh')).toBe(0);
    expect(s.json().mcpServers).toEqual([{ name: 'gh', command: 'gh-mcp', quarantined: true }]);

    const ready = s.reach('gh', 'ready');
    const approved = await s.mgmt.unquarantineServer('gh', human);
    expect(approved.quarantined).toBe(false);
    await ready;
    expect(s.connector.attempts('gh')).toBe(1);
    expect(s.json().mcpServers).toEqual([{ name: 'gh', command: 'gh-mcp' }]);
    expect(s.events.of('server_config_changed', 'gh').map((e) => e.data.change)).toEqual(['added', 'unquarantined']);
  });

  it('refuses unquarantine from an agent with HUMAN_ONLY and leaves the file untouched', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'gh', command: 'gh-mcp', quarantined: true }] } });
    const before = s.file();
    const error = await refusal(s.mgmt.unquarantineServer('gh', agent));
    expect(error.code).toBe('HUMAN_ONLY');
    expect(error.status).toBe(403);
    expect(error.message).toMatch(/human-only/);
    expect(s.file()).toBe(before);
    expect(s.view.server('gh')?.state).toBe('quarantined');
    expect(s.connector.attempts('gh')).toBe(0);
  });

  it('quarantines every server an agent adds, even with quarantine_enabled off and quarantined:false asked', async () => {
    await using s = await createStack({ file: { quarantine_enabled: false } });
    const byAgent = await s.mgmt.addServer({ name: 'sneaky', command: 'x', quarantined: false }, agent);
    expect(byAgent).toMatchObject({ quarantined: true, state: 'quarantined' });
    const ready = s.reach('mine', 'ready');
    const byHuman = await s.mgmt.addServer({ name: 'mine', command: 'y' }, human);
    expect(byHuman.quarantined).toBe(false);
    await ready;
    expect(s.connector.attempts('sneaky')).toBe(0);
    expect(s.connector.attempts('mine')).toBe(1);
  });

  it('lets a person skip quarantine by saying quarantined:false outright', async () => {
    await using s = await createStack();
    const ready = s.reach('trusted', 'ready');
    const added = await s.mgmt.addServer({ name: 'trusted', command: 'y', quarantined: false }, { source: 'cli' });
    expect(added.quarantined).toBe(false);
    await ready;
  });

  it('refuses a taken name with CONFLICT and writes nothing', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    const before = s.file();
    const error = await refusal(s.mgmt.addServer({ name: 'a', url: 'https://example.com/mcp' }, human));
    expect(error.code).toBe('CONFLICT');
    expect(error.status).toBe(409);
    expect(s.file()).toBe(before);
  });

  it('refuses an invalid entry with INVALID_CONFIG naming each path and rule', async () => {
    await using s = await createStack();
    const before = s.file();
    const error = await refusal(
      s.mgmt.addServer({ name: 'bad:name', protocol: 'stdio', url: 'ftp://x', extra: 1 } as never, human),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.status).toBe(422);
    const paths = error.issues?.map((i) => i.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['', 'command', 'name', 'url']));
    expect(error.issues?.find((i) => i.path === '')?.message).toMatch(/extra/);
    expect(s.file()).toBe(before);
    const rules = await refusal(
      s.mgmt.addServer({ name: 'both', command: 'x', enabled_tools: ['a'], disabled_tools: ['b'] }, human),
    );
    expect(rules.issues).toEqual([expect.objectContaining({ path: 'disabled_tools', rule: 'custom' })]);
  });

  it('refuses a non-object entry with BAD_REQUEST', async () => {
    await using s = await createStack();
    expect((await refusal(s.mgmt.addServer([] as never, human))).code).toBe('BAD_REQUEST');
  });
});

describe('updating and removing servers', () => {
  it('deep-merges env and headers, replaces args, removes a key given null, and reconnects', async () => {
    await using s = await createStack({
      file: {
        mcpServers: [
          {
            name: 'a',
            command: 'a-mcp',
            args: ['--one', '--two'],
            env: { A: '1', B: '2' },
            headers: { 'X-One': '1' },
            groups: ['dev'],
          },
        ],
      },
    });
    await s.reach('a', 'ready');
    const reconnected = s.events.next('server_state_changed', (e) => e.server === 'a' && e.data.to === 'ready');
    const summary = await s.mgmt.updateServer(
      'a',
      { env: { B: '20', C: '3' }, headers: { 'X-Two': '2' }, args: ['--three'] },
      human,
    );
    expect(summary.name).toBe('a');
    expect(s.json().mcpServers[0]).toEqual({
      name: 'a',
      command: 'a-mcp',
      args: ['--three'],
      env: { A: '1', B: '20', C: '3' },
      headers: { 'X-One': '1', 'X-Two': '2' },
      groups: ['dev'],
    });
    await reconnected;
    expect(s.connector.attempts('a')).toBe(2);

    await s.mgmt.updateServer('a', { env: { A: null }, groups: null } as never, human);
    expect(s.json().mcpServers[0]).toMatchObject({ env: { B: '20', C: '3' } });
    expect(s.json().mcpServers[0]).not.toHaveProperty('groups');
    expect(s.events.of('server_group_updated', 'a').at(-1)?.data).toMatchObject({ groups: [], removed: ['dev'] });
  });

  it('validates the merged entry (INVALID_CONFIG) and refuses a rename (BAD_REQUEST)', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    const before = s.file();
    const invalid = await refusal(s.mgmt.updateServer('a', { init_timeout: 'soon', args: 'x' } as never, human));
    expect(invalid.code).toBe('INVALID_CONFIG');
    expect(invalid.issues?.map((i) => i.path).sort()).toEqual(['args', 'init_timeout']);
    const both = await refusal(s.mgmt.updateServer('a', { enabled_tools: ['x'], disabled_tools: ['y'] }, human));
    expect(both.issues?.map((i) => i.path)).toEqual(['disabled_tools']);
    const rename = await refusal(s.mgmt.updateServer('a', { name: 'b' }, human));
    expect(rename.code).toBe('BAD_REQUEST');
    expect((await refusal(s.mgmt.updateServer('a', 'x' as never, human))).code).toBe('BAD_REQUEST');
    expect(s.file()).toBe(before);
    // Naming itself is fine.
    await s.mgmt.updateServer('a', { name: 'a', groups: ['ops'] }, human);
    expect(s.json().mcpServers[0]).toMatchObject({ groups: ['ops'] });
  });

  it('sends a server back to quarantine when an agent changes what it runs, not when it changes groups', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const grouped = await s.mgmt.updateServer('a', { groups: ['dev'] }, agent);
    expect(grouped).toMatchObject({ quarantined: false, groups: ['dev'], state: 'ready' });
    const swapped = await s.mgmt.updateServer('a', { command: 'curl', args: ['evil.sh'] }, agent);
    expect(swapped).toMatchObject({ quarantined: true, state: 'quarantined' });
    expect(s.json().mcpServers[0]).toMatchObject({ command: 'curl', quarantined: true });
    expect(s.connector.attempts('a')).toBe(1);
  });

  it("refuses an agent patch that changes a person's tool filter, but lets a person do it", async () => {
    await using s = await createStack({
      file: { mcpServers: [{ name: 'a', command: 'a-mcp', disabled_tools: ['crash'] }] },
    });
    await s.reach('a', 'ready');
    const before = s.file();
    const error = await refusal(s.mgmt.updateServer('a', { disabled_tools: null } as never, agent));
    expect(error.code).toBe('HUMAN_ONLY');
    expect(
      (await refusal(s.mgmt.updateServer('a', { disabled_tools: null, enabled_tools: ['crash'] } as never, agent)))
        .code,
    ).toBe('HUMAN_ONLY');
    expect(s.file()).toBe(before);
    await s.mgmt.updateServer('a', { disabled_tools: [] }, human);
    expect(s.json().mcpServers[0]).toMatchObject({ disabled_tools: [] });
  });

  it('refuses an agent patch that would unquarantine, but lets a person do it', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'q', command: 'q-mcp', quarantined: true }] } });
    const before = s.file();
    const error = await refusal(s.mgmt.updateServer('q', { quarantined: false }, agent));
    expect(error.code).toBe('HUMAN_ONLY');
    expect((await refusal(s.mgmt.updateServer('q', { quarantined: null } as never, agent))).code).toBe('HUMAN_ONLY');
    expect(s.file()).toBe(before);
    const ready = s.reach('q', 'ready');
    expect((await s.mgmt.updateServer('q', { quarantined: false }, human)).quarantined).toBe(false);
    await ready;
  });

  it('removes a server from the file, the supervisor and the read model before it answers', async () => {
    await using s = await createStack({
      file: {
        mcpServers: [
          { name: 'a', command: 'a-mcp' },
          { name: 'b', command: 'b-mcp' },
        ],
      },
    });
    await s.reach('a', 'ready');
    await s.mgmt.removeServer('a', human);
    expect(s.json().mcpServers.map((e) => e.name)).toEqual(['b']);
    expect(s.view.server('a')).toBeUndefined();
    expect(s.mgmt.listServers().map((x) => x.name)).toEqual(['b']);
    expect(s.supervisor.getActor('a')).toBeUndefined();
    expect(s.connector.last('a').closed).toBe(true);
  });

  it('answers NOT_FOUND for an unknown server in every operation', async () => {
    await using s = await createStack();
    const ops: Promise<unknown>[] = [
      s.mgmt.updateServer('nope', { args: [] }, human),
      s.mgmt.removeServer('nope', human),
      s.mgmt.enableServer('nope', human),
      s.mgmt.disableServer('nope', human),
      s.mgmt.restartServer('nope', human),
      s.mgmt.quarantineServer('nope', human),
      s.mgmt.unquarantineServer('nope', human),
      s.mgmt.approveTools('nope', undefined, human),
      s.mgmt.callTool('nope:echo', {}),
    ];
    for (const op of ops) expect((await refusal(op)).code).toBe('NOT_FOUND');
    for (const read of [
      () => s.mgmt.getServer('nope'),
      () => s.mgmt.getServerTools('nope'),
      () => s.mgmt.getServerHealth('nope'),
    ]) {
      expect(refusalSync(read).code).toBe('NOT_FOUND');
    }
  });
});

describe('enable, disable, quarantine and restart', () => {
  it('persists disable and enable to the file, and the actor follows', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const disabled = await s.mgmt.disableServer('a', human);
    expect(disabled).toMatchObject({ enabled: false, state: 'disabled' });
    expect(s.json().mcpServers[0]).toMatchObject({ enabled: false });
    expect(s.connector.last('a').closed).toBe(true);

    const ready = s.reach('a', 'ready');
    const enabled = await s.mgmt.enableServer('a', human);
    expect(enabled.enabled).toBe(true);
    expect(s.json().mcpServers[0]).not.toHaveProperty('enabled');
    await ready;
    expect(s.connector.attempts('a')).toBe(2);
  });

  it('answers at once, writing nothing, when the server is already in the asked state', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const reloads = s.events.of('config_reloaded').length;
    expect((await s.mgmt.enableServer('a', human)).state).toBe('ready');
    expect(s.events.of('config_reloaded').length).toBe(reloads);
  });

  it('refuses to enable a quarantined server with CONFLICT', async () => {
    await using s = await createStack({
      file: { mcpServers: [{ name: 'q', command: 'q-mcp', quarantined: true, enabled: false }] },
    });
    const error = await refusal(s.mgmt.enableServer('q', human));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toMatch(/quarantined/);
    expect(s.json().mcpServers[0]).toMatchObject({ enabled: false });
  });

  it('quarantines a running server (an agent may) and stops it', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const summary = await s.mgmt.quarantineServer('a', agent);
    expect(summary).toMatchObject({ quarantined: true, state: 'quarantined' });
    expect(s.json().mcpServers[0]).toMatchObject({ quarantined: true });
    expect(s.connector.last('a').closed).toBe(true);
  });

  it('restarts a ready server: it reconnects and answers ready', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const reloads = s.events.of('config_reloaded').length;
    const summary = await s.mgmt.restartServer('a', human);
    expect(summary.state).toBe('ready');
    expect(s.connector.attempts('a')).toBe(2);
    expect(s.events.of('server_state_changed', 'a').some((e) => e.data.reason === 'restart')).toBe(true);
    // Not a config change.
    expect(s.events.of('config_reloaded').length).toBe(reloads);
  });

  it('answers a restart of a slow upstream after commandWaitMs, still connecting', async () => {
    await using s = await createStack({
      file: { mcpServers: [{ name: 'slow', command: 'slow-mcp' }] },
      scripts: { slow: { connect: ['ok', 'hang'] } },
    });
    await s.reach('slow', 'ready');
    const connecting = s.events.next('server_state_changed', (e) => e.server === 'slow' && e.data.to === 'connecting');
    const answer = s.mgmt.restartServer('slow', human);
    await connecting;
    await (s.clock as FakeClock).advanceAsync(2_000);
    expect((await answer).state).toBe('connecting');
  });

  it('refuses to restart a disabled or quarantined server with CONFLICT', async () => {
    await using s = await createStack({
      file: {
        mcpServers: [
          { name: 'off', command: 'x', enabled: false },
          { name: 'q', command: 'y', quarantined: true },
        ],
      },
    });
    expect((await refusal(s.mgmt.restartServer('off', human))).code).toBe('CONFLICT');
    expect((await refusal(s.mgmt.restartServer('q', human))).code).toBe('CONFLICT');
    expect(s.connector.attempts('off') + s.connector.attempts('q')).toBe(0);
  });

  it('re-enables an auto-disabled server, although its config entry never changed', async () => {
    await using s = await createStack({
      file: {
        retry: { initial_delay: '1s', max_delay: '1s', max_retries: 1 },
        mcpServers: [{ name: 'flaky', command: 'flaky-mcp' }],
      },
      scripts: { flaky: { connect: [new UpstreamError('CONNECT_FAILED', 'exited with code 1'), 'ok'] } },
    });
    await s.events.waitFor('server_auto_disabled', (e) => e.server === 'flaky');
    expect(s.view.server('flaky')).toMatchObject({ enabled: false, state: 'disabled' });
    const reloads = s.events.of('config_reloaded').length;
    const summary = await s.mgmt.enableServer('flaky', human);
    expect(summary).toMatchObject({ enabled: true, auto_disabled: null, state: 'ready' });
    expect(s.events.of('config_reloaded').length).toBe(reloads);
  });
});

describe('tools', () => {
  it('approves pending tools for a person only, and returns the names approved', async () => {
    await using s = await createStack({ file: { mcpServers: [{ name: 'a', command: 'a-mcp' }] } });
    await s.reach('a', 'ready');
    const newTool = { name: 'delete_repo', description: 'Deletes a repository', inputSchema: { type: 'object' } };
    const pending = s.events.next('tool_quarantine_changed', (e) => e.data.tool === 'delete_repo');
    s.connector.last('a').changeTools([...defaultTools, newTool]);
    await pending;
    expect(s.mgmt.getServerTools('a').find((t) => t.name === 'delete_repo')?.approval).toBe('pending');

    const error = await refusal(s.mgmt.approveTools('a', undefined, agent));
    expect(error.code).toBe('HUMAN_ONLY');
    expect(s.mgmt.getServerTools('a').find((t) => t.name === 'delete_repo')?.approval).toBe('pending');

    expect((await refusal(s.mgmt.approveTools('a', ['no_such_tool'], human))).code).toBe('NOT_FOUND');
    expect(await s.mgmt.approveTools('a', undefined, human)).toEqual(['delete_repo']);
    expect(s.mgmt.getServerTools('a').every((t) => t.approval === 'approved')).toBe(true);
  });

  it('getServer answers the summary and the entry with env and header values masked', async () => {
    await using s = await createStack({
      file: {
        mcpServers: [
          { name: 'a', command: 'a-mcp', env: { TOKEN: 'ghp_supersecret' } },
          { name: 'h', url: 'https://example.com/mcp', headers: { Authorization: 'Bearer sk-very-secret' } },
        ],
      },
    });
    await s.reach('a', 'ready');
    const detail = s.mgmt.getServer('a');
    expect(detail.summary.state).toBe('ready');
    expect(detail.config.env).toEqual({ TOKEN: '***' });
    expect(s.mgmt.getServer('h').config.headers).toEqual({ Authorization: '***' });
    expect(s.mgmt.getServerTools('a').map((t) => t.name)).toContain(echoTool.name);
  });
});
