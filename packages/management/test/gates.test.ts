import { describe, expect, it } from 'vitest';
import { type ManagementService, OPERATION_RULES, type OperationName } from '../src/index.js';
import { agent, codeOf, createStack, human, type Stack } from './helpers/stack.js';

const servers = [
  { name: 'a', command: 'a-mcp', groups: ['dev'] },
  { name: 'q', command: 'q-mcp', quarantined: true },
];

/** Every write, called the way a surface would call it. */
const writes: Record<OperationName, (m: ManagementService) => Promise<unknown>> = {
  addServer: (m) => m.addServer({ name: 'new', command: 'x' }, human),
  updateServer: (m) => m.updateServer('a', { args: ['--x'] }, human),
  removeServer: (m) => m.removeServer('a', human),
  enableServer: (m) => m.enableServer('a', human),
  disableServer: (m) => m.disableServer('a', human),
  quarantineServer: (m) => m.quarantineServer('a', human),
  unquarantineServer: (m) => m.unquarantineServer('q', human),
  enableAll: (m) => m.enableAll({}, human),
  disableAll: (m) => m.disableAll({ group: 'dev' }, human),
  restartServer: (m) => m.restartServer('a', human),
  restartAll: (m) => m.restartAll({}, human),
  approveTools: (m) => m.approveTools('a', undefined, human),
};

/** Reads, search and calls: never gated. */
async function readsStillWork(s: Stack): Promise<void> {
  expect(s.mgmt.listServers().map((x) => x.name)).toEqual(['a', 'q']);
  expect(s.mgmt.getServer('a').summary.state).toBe('ready');
  expect(s.mgmt.status().servers.total).toBe(2);
  expect(s.mgmt.getServerTools('a').length).toBeGreaterThan(0);
  expect(s.mgmt.getServerHealth('a').healthy).toBe(true);
  expect(s.mgmt.runDiagnostics().map((d) => d.code)).toContain('QUARANTINED');
  expect(s.mgmt.maskedConfig().mcpServers).toHaveLength(2);
  expect(s.mgmt.searchTools('echo message').map((h) => h.name)).toContain('a:echo');
  const result = await s.mgmt.callTool('a:echo', { message: 'still here' });
  expect(result.content).toEqual([{ type: 'text', text: 'echo: still here' }]);
}

describe('gates', () => {
  it('documents a gate for every write: config changes pass both gates, the others the management gate', () => {
    expect(Object.keys(OPERATION_RULES).sort()).toEqual(Object.keys(writes).sort());
    const configGated = Object.entries(OPERATION_RULES)
      .filter(([, r]) => r.gate === 'config')
      .map(([op]) => op)
      .sort();
    expect(configGated).toEqual(
      [
        'addServer',
        'updateServer',
        'removeServer',
        'enableServer',
        'disableServer',
        'quarantineServer',
        'unquarantineServer',
        'enableAll',
        'disableAll',
      ].sort(),
    );
  });

  it('read_only_mode refuses every write with READ_ONLY and leaves the file untouched; reads, search and calls work', async () => {
    await using s = await createStack({ file: { read_only_mode: true, mcpServers: servers } });
    await s.reach('a', 'ready');
    const before = s.file();
    for (const [op, call] of Object.entries(writes)) {
      expect({ op, code: await codeOf(call(s.mgmt)) }).toEqual({ op, code: 'READ_ONLY' });
      expect(s.mgmt.allowed(op as OperationName, human)).toBe(false);
    }
    expect(s.file()).toBe(before);
    expect(s.connector.attempts('a')).toBe(1);
    await readsStillWork(s);
  });

  it('disable_management refuses every write with MANAGEMENT_DISABLED and leaves the file untouched; reads, search and calls work', async () => {
    await using s = await createStack({ file: { disable_management: true, mcpServers: servers } });
    await s.reach('a', 'ready');
    const before = s.file();
    for (const [op, call] of Object.entries(writes)) {
      expect({ op, code: await codeOf(call(s.mgmt)) }).toEqual({ op, code: 'MANAGEMENT_DISABLED' });
    }
    expect(s.file()).toBe(before);
    expect(s.connector.attempts('a')).toBe(1);
    await readsStillWork(s);
  });

  it('follows the current config: a gate switched on at run time refuses the next write', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    await s.reach('a', 'ready');
    expect(s.mgmt.allowed('disableServer', human)).toBe(true);
    await s.config.apply((draft) => {
      draft.read_only_mode = true;
    });
    expect(await codeOf(s.mgmt.disableServer('a', human))).toBe('READ_ONLY');
    expect(s.mgmt.allowed('disableServer', human)).toBe(false);
  });

  it('refuses the human-only operations to an agent whatever the gates, and allows the rest', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    await s.reach('a', 'ready');
    expect(s.mgmt.allowed('unquarantineServer', agent)).toBe(false);
    expect(s.mgmt.allowed('approveTools', agent)).toBe(false);
    expect(s.mgmt.allowed('unquarantineServer', human)).toBe(true);
    expect(s.mgmt.allowed('restartServer', agent)).toBe(true);
    expect(await codeOf(s.mgmt.approveTools('a', undefined, agent))).toBe('HUMAN_ONLY');
    expect(await codeOf(s.mgmt.restartServer('a', agent))).toBe('ok');
  });

  it('refuses writes after close with INTERNAL, while reads keep answering', async () => {
    await using s = await createStack({ file: { mcpServers: servers } });
    await s.reach('a', 'ready');
    await s.mgmt.close();
    await s.mgmt.close();
    expect(await codeOf(s.mgmt.disableServer('a', human))).toBe('INTERNAL');
    expect(s.mgmt.listServers()).toHaveLength(2);
  });
});
