import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BusEvent, ScanFinding } from '@mcpproxy/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, textOf } from './fixtures/mcp-harness.js';
import { fixture, startServer, type TestServer, waitForEvent, waitForState } from './helpers.js';

// Issue 13, end to end: a real upstream (test/fixtures/poisoned-server.mjs) serves a poisoned `add` beside a clean
// `multiply`. The scanner must hold `add` out of every surface until a person approves it over REST.

interface ToolRow {
  name: string;
  approval: string;
  verdict?: string;
  findings?: ScanFinding[];
  overridden?: boolean;
}

const structured = (result: unknown) => (result as { structuredContent: Record<string, unknown> }).structuredContent;

describe('tool scanner, end to end (issue 13)', () => {
  let s: TestServer;

  beforeAll(async () => {
    s = await startServer({ config: { mcpServers: [fixture('math', 'poisoned-server.mjs')] } });
    await waitForState(s.view, 'math', 'ready');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('blocks the poisoned tool at its first listing, with its findings, and leaves the clean one callable', async () => {
    const { body } = await s.api('/api/v1/servers/math/tools');
    const tools = body.tools as ToolRow[];
    const add = tools.find((t) => t.name === 'add');
    const multiply = tools.find((t) => t.name === 'multiply');
    expect(add).toMatchObject({ approval: 'pending', verdict: 'block', overridden: false });
    expect(add?.findings?.map((f) => `${f.check}:${f.tier}:${f.threat}`)).toEqual(
      expect.arrayContaining(['directive:hard:secret_access', 'capability_mismatch:hard:side_channel']),
    );
    expect(add?.findings?.some((f) => f.evidence.includes('~/.ssh/id_rsa'))).toBe(true);
    expect(multiply).toMatchObject({ approval: 'approved', verdict: 'clean', findings: [] });
    expect(s.view.server('math')?.pending_tools).toBe(1);

    // The hold was published as a scan decision, with the findings.
    const held = (s.bus.since(0) ?? []).find(
      (e: BusEvent) => e.type === 'tool_quarantine_changed' && e.server === 'math' && e.data.tool === 'add',
    ) as Extract<BusEvent, { type: 'tool_quarantine_changed' }> | undefined;
    expect(held?.data).toMatchObject({ from: null, to: 'pending', reason: 'scan' });
    expect(held?.data.findings?.length).toBeGreaterThan(0);
  });

  it('refuses the blocked tool over REST with TOOL_BLOCKED naming the scanner, and keeps it out of search', async () => {
    const refused = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'math:add', arguments: { a: 1, b: 2 } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('TOOL_BLOCKED');
    expect(refused.body.detail).toMatch(/tool scanner \(.*directive: secret_access/);
    const ok = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'math:multiply', arguments: { a: 3, b: 4 } },
    });
    expect(ok.body.content).toEqual([{ type: 'text', text: '12' }]);
    const search = await s.api('/api/v1/tools?q=add%20two%20numbers&limit=100');
    const names = (search.body.tools as { name: string }[]).map((h) => h.name);
    expect(names).toContain('math:multiply');
    expect(names).not.toContain('math:add');
  });

  it('lists the finding in GET /security/findings and rescans on POST /servers/{name}/scan', async () => {
    const findings = await s.api('/api/v1/security/findings');
    expect(findings.status).toBe(200);
    expect(findings.body).toMatchObject({ scanner: true, block_on: 'hard', counts: { block: 1 } });
    expect(findings.body.results).toHaveLength(1);
    expect(findings.body.results[0]).toMatchObject({
      server: 'math',
      tool: 'add',
      verdict: 'block',
      approval: 'pending',
    });

    const scan = await s.api('/api/v1/servers/math/scan', { method: 'POST' });
    expect(scan.status).toBe(200);
    expect(scan.body.counts).toEqual({ block: 1, review: 0, clean: 1 });
    expect((scan.body.results as { tool: string; verdict: string }[]).map((r) => [r.tool, r.verdict]).sort()).toEqual([
      ['add', 'block'],
      ['multiply', 'clean'],
    ]);
    const missing = await s.api('/api/v1/servers/nope/scan', { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it('exports the findings and the blocked count on /metrics', async () => {
    const { text } = await s.api('/metrics');
    expect(text).toMatch(/^mcpproxy_scanner_findings\{tier="hard",check="directive"\} [1-9]/m);
    expect(text).toMatch(/^mcpproxy_scanner_blocked_tools 1$/m);
  });

  it('keeps it out of retrieve_tools and /mcp/all, refuses its call, shows findings to inspect_tools, and refuses an agent approval with HUMAN_ONLY', async () => {
    const mcp = await connectClient(s.url, '/mcp');
    try {
      const found = await mcp.client.callTool({
        name: 'retrieve_tools',
        arguments: { query: 'add numbers', limit: 100 },
      });
      const hits = (structured(found).tools as { name: string }[]).map((t) => t.name);
      expect(hits).toContain('math:multiply');
      expect(hits).not.toContain('math:add');

      const call = await mcp.client.callTool({
        name: 'call_tool',
        arguments: { name: 'math:add', args: { a: 1, b: 2 } },
      });
      expect(call.isError).toBe(true);
      expect(textOf(call)).toMatch(/^TOOL_BLOCKED: .*blocked by the tool scanner/);

      const inspect = await mcp.client.callTool({
        name: 'quarantine_security',
        arguments: { operation: 'inspect_tools', name: 'math' },
      });
      const rows = structured(inspect).tools as ToolRow[];
      expect(rows.find((t) => t.name === 'add')).toMatchObject({ verdict: 'block', approval: 'pending' });
      expect(rows.find((t) => t.name === 'add')?.findings?.length).toBeGreaterThan(0);

      const approve = await mcp.client.callTool({
        name: 'quarantine_security',
        arguments: { operation: 'approve_tools', name: 'math' },
      });
      expect(approve.isError).toBe(true);
      expect(textOf(approve)).toMatch(/^HUMAN_ONLY: /);
    } finally {
      await mcp.close();
    }

    const all = await connectClient(s.url, '/mcp/all');
    try {
      const { tools } = await all.client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain('math__multiply');
      expect(names).not.toContain('math__add');
      const call = await all.client.callTool({ name: 'math__add', arguments: { a: 1, b: 2 } });
      expect(call.isError).toBe(true);
      expect(textOf(call)).toMatch(/^TOOL_BLOCKED: /);
    } finally {
      await all.close();
    }
    // Still pending: nothing an agent did approved it.
    const { body } = await s.api('/api/v1/servers/math/tools');
    expect((body.tools as ToolRow[]).find((t) => t.name === 'add')?.approval).toBe('pending');
  });

  it('makes it callable once a person approves it over REST, and keeps that override on disk', async () => {
    const approved = waitForEvent(
      s.bus,
      (e) => e.type === 'tool_quarantine_changed' && e.server === 'math' && e.data.reason === 'approval',
    );
    const res = await s.api('/api/v1/servers/math/tools/approve', { method: 'POST', json: { tools: ['add'] } });
    expect(res.body).toEqual({ approved: ['add'] });
    await approved;

    const call = await s.api('/api/v1/tools/call', {
      method: 'POST',
      json: { name: 'math:add', arguments: { a: 1, b: 2 } },
    });
    expect(call.status).toBe(200);
    expect(call.body.content).toEqual([{ type: 'text', text: '3' }]);

    const { body } = await s.api('/api/v1/servers/math/tools');
    const add = (body.tools as (ToolRow & { hash: string })[]).find((t) => t.name === 'add');
    expect(add).toMatchObject({ approval: 'approved', verdict: 'block', overridden: true });

    // A rescan does not hold a definition a person approved over its findings.
    const scan = await s.api('/api/v1/servers/math/scan', { method: 'POST' });
    expect(scan.body.results.find((r: { tool: string }) => r.tool === 'add')).toMatchObject({
      approval: 'approved',
      overridden: true,
    });
    const metrics = await s.api('/metrics');
    expect(metrics.text).toMatch(/^mcpproxy_scanner_blocked_tools 0$/m);

    await s.running.services.approvals.flush();
    const file = JSON.parse(readFileSync(join(s.dataDir, 'approvals.json'), 'utf8'));
    expect(file.overrides.math.add).toBe(add?.hash);
    expect(file.servers.math.add).toBe(add?.hash);
  });
});
