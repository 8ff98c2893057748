// Starts the four npm reference MCP servers over stdio, lists their tools with the SDK client and writes
// bench/fixtures/reference-tools.json. The evaluation reads that committed file, so it never needs the network
// or the servers themselves. Run with `pnpm dump-tools` (which also formats it) after bumping a reference server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpstreamTool } from '@mcpproxy/contracts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ReferenceServer } from './eval.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function entryOf(pkg: string): { entry: string; version: string } {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    version: string;
    bin: Record<string, string>;
  };
  const bin = Object.values(manifest.bin)[0];
  if (bin === undefined) throw new Error(`${pkg} has no bin entry`);
  return { entry: join(dirname(manifestPath), bin), version: manifest.version };
}

async function listTools(
  pkg: string,
  args: string[],
  cwd: string,
): Promise<{ version: string; tools: UpstreamTool[] }> {
  const { entry, version } = entryOf(pkg);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, ...args],
    cwd,
    // server-memory would otherwise keep its graph beside its own script.
    env: { PATH: process.env.PATH ?? '', HOME: cwd, MEMORY_FILE_PATH: join(cwd, 'memory.jsonl') },
    stderr: 'ignore',
  });
  const client = new Client({ name: 'mcpproxy-search-dump-tools', version: '0.0.0' });
  await client.connect(transport);
  try {
    const tools: UpstreamTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      for (const t of page.tools) {
        tools.push({
          name: t.name,
          ...(t.title === undefined ? {} : { title: t.title }),
          ...(t.description === undefined ? {} : { description: t.description }),
          inputSchema: t.inputSchema as Record<string, unknown>,
          ...(t.outputSchema === undefined ? {} : { outputSchema: t.outputSchema as Record<string, unknown> }),
          ...(t.annotations === undefined ? {} : { annotations: t.annotations as Record<string, unknown> }),
        });
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { version, tools };
  } finally {
    await client.close();
  }
}

const work = mkdtempSync(join(tmpdir(), 'mcpproxy-search-dump-'));
try {
  const servers: Array<{ server: string; package: string; args: string[] }> = [
    { server: 'everything', package: '@modelcontextprotocol/server-everything', args: ['stdio'] },
    { server: 'filesystem', package: '@modelcontextprotocol/server-filesystem', args: [work] },
    { server: 'memory', package: '@modelcontextprotocol/server-memory', args: [] },
    { server: 'sequential-thinking', package: '@modelcontextprotocol/server-sequential-thinking', args: [] },
  ];
  const out: ReferenceServer[] = [];
  for (const s of servers) {
    const { version, tools } = await listTools(s.package, s.args, work);
    out.push({ server: s.server, package: s.package, version, tools });
    console.log(`${s.server}: ${tools.length} tools (${s.package}@${version})`);
  }
  const file = join(here, 'fixtures', 'reference-tools.json');
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
