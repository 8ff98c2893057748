import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { everythingEntry, textOf, waitFor } from './fixtures/mcp-harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));

describe('serve --stdio: the /mcp tool set over stdio', () => {
  it('lets a stdio client search and call through, with nothing but JSON-RPC on stdout and logs on stderr', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcpproxy-stdio-'));
    writeFileSync(join(dataDir, 'mcp_config.json'), JSON.stringify({ listen: '', mcpServers: [everythingEntry()] }));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', join(HERE, 'fixtures', 'mcp-stdio-main.ts'), dataDir],
      cwd: join(HERE, '..'),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const client = new Client({ name: 'desktop', version: '1.0.0' }, { capabilities: {} });
    try {
      // Any non-JSON-RPC line on stdout would make the client fail to parse and error out.
      let transportError: Error | undefined;
      client.onerror = (e) => {
        transportError = e;
      };
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['retrieve_tools', 'call_tool', 'upstream_servers']));
      const hit = await waitFor(async () => {
        const r = await client.callTool({ name: 'retrieve_tools', arguments: { query: 'echo a message back' } });
        return textOf(r).includes('everything:echo');
      }, 'everything:echo to be searchable');
      expect(hit).toBe(true);
      const result = await client.callTool({
        name: 'call_tool',
        arguments: { name: 'everything:echo', args: { message: 'over stdio' } },
      });
      expect(result.content).toEqual([{ type: 'text', text: 'Echo: over stdio' }]);
      expect(transportError).toBeUndefined();
      expect(stderr).toContain('mcpproxy started');
    } finally {
      await client.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
