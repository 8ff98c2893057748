import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { EVERYTHING, MAIN, processGone, tempDir, writeJson } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

type ToolText = { content: { type: string; text?: string }[]; isError?: boolean };
const text = (r: unknown) => (r as ToolText).content.map((c) => c.text ?? '').join('');

describe('mcpproxy serve --stdio', () => {
  it('serves the /mcp tool set to a stdio client, which can search and call through, and exits when stdin closes', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const config = `${dir.path}/mcp_config.json`;
    writeJson(config, {
      mcpServers: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'], quarantined: false }],
    });
    const stderr: string[] = [];
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, 'serve', '--stdio', '--data-dir', dir.path, '-c', config],
      env: { PATH: process.env.PATH ?? '', HOME: dir.path },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(transport);
    const pid = transport.pid;
    cleanups.push(async () => {
      await client.close().catch(() => {});
    });

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['retrieve_tools', 'call_tool']));

    // The upstream connects in the background; retrieve_tools finds echo once it is ready.
    let found = '';
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && !found.includes('everything:echo'); ) {
      found = text(await client.callTool({ name: 'retrieve_tools', arguments: { query: 'echo a message back' } }));
      if (!found.includes('everything:echo')) await new Promise((r) => setTimeout(r, 100)); // poll an external process
    }
    expect(found).toContain('everything:echo');

    const echoed = await client.callTool({
      name: 'call_tool',
      arguments: { name: 'everything:echo', args: { message: 'over stdio' } },
    });
    expect(text(echoed)).toContain('Echo: over stdio');

    // stdout carried only JSON-RPC (the client would have failed to parse anything else); the banner is on stderr.
    expect(stderr.join('')).toContain('mcpproxy');

    await client.close();
    expect(pid).toBeTypeOf('number');
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !processGone(pid as number); ) {
      await new Promise((r) => setTimeout(r, 50)); // poll /proc for the child's exit
    }
    expect(processGone(pid as number)).toBe(true);
  });
});
