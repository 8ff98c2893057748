import type { ScanFinding, UpstreamTool } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createMemoryApprovals } from '../src/approvals.js';
import { type ToolAssessor, ToolCatalog } from '../src/catalog.js';
import { ActorError } from '../src/errors.js';
import { toolHash } from '../src/hash.js';

const tool = (name: string, description = `${name} tool`): UpstreamTool => ({
  name,
  description,
  inputSchema: { type: 'object' },
});

const finding: ScanFinding = {
  check: 'directive',
  tier: 'hard',
  threat: 'secret_access',
  confidence: 0.9,
  evidence: 'read ~/.ssh/id_rsa',
  path: 'description',
};

function setup(assess?: ToolAssessor) {
  const approvals = createMemoryApprovals();
  const catalog = new ToolCatalog({ server: 's', approvals, assess });
  return { approvals, catalog };
}

describe('ToolCatalog', () => {
  it('takes the first listing as the approved baseline and pins its hashes', () => {
    const { approvals, catalog } = setup();
    const changes = catalog.applyListing([tool('a'), tool('b')]);
    expect(changes).toEqual({ added: [], removed: [], changed: [], approvals: [] });
    expect(catalog.tools().map((t) => [t.name, t.approval])).toEqual([
      ['a', 'approved'],
      ['b', 'approved'],
    ]);
    expect(approvals.get('s')?.get('a')).toBe(toolHash(tool('a')));
    expect(catalog.callable().map((t) => t.name)).toEqual(['a', 'b']);
  });

  it('holds a new tool pending and a changed one changed, with the approved hash and definition', () => {
    const { catalog } = setup();
    catalog.applyListing([tool('a')]);
    const changes = catalog.applyListing([tool('a', 'now exfiltrates'), tool('n')]);
    expect(changes.added).toEqual(['n']);
    expect(changes.changed).toEqual(['a']);
    expect(changes.approvals).toEqual([
      { tool: 'a', from: 'approved', to: 'changed', reason: 'pin' },
      { tool: 'n', from: null, to: 'pending', reason: 'pin' },
    ]);
    expect([catalog.pending, catalog.changed]).toEqual([1, 1]);
    const a = catalog.tools().find((t) => t.name === 'a');
    expect(a?.approved_hash).toBe(toolHash(tool('a')));
    expect(a?.approved_definition?.description).toBe('a tool');
    expect(catalog.callable()).toEqual([]);
  });

  it('approves named tools or every pending and changed one, and refuses unknown names approving nothing', () => {
    const { catalog } = setup();
    catalog.applyListing([tool('a')]);
    catalog.applyListing([tool('a', 'x'), tool('n'), tool('m')]);
    expect(() => catalog.approve(['n', 'ghost'])).toThrow(ActorError);
    expect(catalog.pending).toBe(2);
    expect(catalog.approve(['n']).map((c) => c.tool)).toEqual(['n']);
    expect(catalog.approve().map((c) => c.tool)).toEqual(['a', 'm']);
    expect([catalog.pending, catalog.changed]).toEqual([0, 0]);
    expect(catalog.approve()).toEqual([]);
  });

  it('applies enabled_tools before disabled_tools to the callable set', () => {
    const { catalog } = setup();
    catalog.applyListing([tool('a'), tool('b'), tool('c')]);
    catalog.setFilters({ enabled_tools: ['a', 'b'], disabled_tools: ['a'] });
    expect(catalog.callable().map((t) => t.name)).toEqual(['a', 'b']);
    catalog.setFilters({ disabled_tools: ['a'] });
    expect(catalog.callable().map((t) => t.name)).toEqual(['b', 'c']);
    expect(catalog.allowed('a')).toBe(false);
  });

  it('answers the same frozen arrays until something changes', () => {
    const { catalog } = setup();
    catalog.applyListing([tool('a')]);
    const tools = catalog.tools();
    const callable = catalog.callable();
    expect(Object.isFrozen(tools)).toBe(true);
    expect(catalog.tools()).toBe(tools);
    expect(catalog.callable()).toBe(callable);
    catalog.applyListing([tool('a'), tool('b')]);
    expect(catalog.tools()).not.toBe(tools);
  });

  it('forgets the listing and the pins so the next listing is a new baseline', () => {
    const { approvals, catalog } = setup();
    catalog.applyListing([tool('a')]);
    catalog.applyListing([tool('a', 'x')]);
    catalog.forget();
    expect(approvals.get('s')).toBeUndefined();
    expect(catalog.size).toBe(0);
    catalog.applyListing([tool('a', 'x')]);
    expect(catalog.tools()[0]?.approval).toBe('approved');
  });

  it('lets an assessor hold a baseline tool pending until a person approves it', () => {
    const seen: string[] = [];
    const { approvals, catalog } = setup((t, { server, hash }) => {
      seen.push(`${server}:${t.name}:${hash === toolHash(t)}`);
      return t.name === 'evil' ? { verdict: 'block', findings: [finding] } : 'allow';
    });
    const changes = catalog.applyListing([tool('good'), tool('evil')]);
    expect(seen).toEqual(['s:good:true', 's:evil:true']);
    expect(changes.approvals).toEqual([
      { tool: 'evil', from: null, to: 'pending', reason: 'scan', findings: [finding] },
    ]);
    expect(catalog.flagged('evil')).toEqual([finding]);
    // Re-listed unchanged, it stays held with its findings.
    catalog.applyListing([tool('good'), tool('evil')]);
    expect(catalog.flagged('evil')).toEqual([finding]);
    expect(catalog.callable().map((t) => t.name)).toEqual(['good']);
    expect(approvals.get('s')?.has('evil')).toBe(false);
    catalog.approve(['evil']);
    catalog.applyListing([tool('good'), tool('evil')]);
    expect(catalog.callable().map((t) => t.name)).toEqual(['good', 'evil']);
    expect(seen).toHaveLength(2);
    expect(catalog.flagged('evil')).toBeUndefined();
  });

  it('holds an approved tool pending on a rescan finding and drops its approved hash', () => {
    const { approvals, catalog } = setup();
    catalog.applyListing([tool('a'), tool('b')]);
    const changes = catalog.hold(
      new Map([
        ['a', [finding]],
        ['missing', [finding]],
      ]),
    );
    expect(changes).toEqual([{ tool: 'a', from: 'approved', to: 'pending', reason: 'scan', findings: [finding] }]);
    expect(catalog.callable().map((t) => t.name)).toEqual(['b']);
    expect(approvals.get('s')?.has('a')).toBe(false);
    expect(catalog.pending).toBe(1);
    // Held again: nothing more changes.
    expect(catalog.hold(new Map([['a', [finding]]]))).toEqual([]);
    expect(catalog.approve(['a'])).toEqual([{ tool: 'a', from: 'pending', to: 'approved', reason: 'approval' }]);
    expect(catalog.callable().map((t) => t.name)).toEqual(['a', 'b']);
  });
});
