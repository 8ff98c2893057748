import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMemoryApprovals, toolHash } from '@mcpproxy/actor';
import { createFakeClock, type Logger, ToolInfoSchema, type UpstreamTool } from '@mcpproxy/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_DEFINITION_BYTES } from '../src/approvals-store.js';
import { EXIT_CODES, openApprovalsStore, ServeError } from '../src/index.js';
import { fixture, startServer, tempDir, waitForState, waitForView } from './helpers.js';

const dirs: { cleanup(): void }[] = [];
const file = () => {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, 'approvals.json');
};
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

const tool = (name: string, description = `${name} tool`): UpstreamTool => ({
  name,
  title: `The ${name}`,
  description,
  inputSchema: { type: 'object', properties: { x: { type: 'string' } } },
  outputSchema: { type: 'object' },
  annotations: { destructiveHint: true },
});
const pins = (...tools: UpstreamTool[]) => new Map(tools.map((t) => [t.name, toolHash(t)]));
const defs = (...tools: UpstreamTool[]) => new Map(tools.map((t) => [t.name, t]));

function recordingLogger() {
  const warnings: { msg: string; fields?: Record<string, unknown> }[] = [];
  const noop = () => {};
  const logger: Logger = {
    debug: noop,
    info: noop,
    error: noop,
    warn: (msg, fields) => warnings.push({ msg, fields }),
  };
  return { logger, warnings };
}

describe('approvals file: approved definitions beside their hashes', () => {
  it('writes each definition (hashed fields only) with its hash, and reads it back after a reopen', async () => {
    const path = file();
    const store = await openApprovalsStore({ path, clock: createFakeClock() });
    store.set('github', pins(tool('search'), tool('issue')), defs(tool('search'), tool('issue')));
    await store.close();
    const onDisk = JSON.parse(readFileSync(path, 'utf8'));
    expect(onDisk.version).toBe(1);
    expect(onDisk.definitions.github.search).toEqual({
      hash: toolHash(tool('search')),
      definition: {
        description: 'search tool',
        inputSchema: tool('search').inputSchema,
        outputSchema: { type: 'object' },
      },
    });
    // Nothing but the hashed fields: no title, no annotations.
    expect(readFileSync(path, 'utf8')).not.toMatch(/destructiveHint|The search/);

    const again = await openApprovalsStore({ path });
    const kept = again.definition('github', 'search');
    expect(kept).toEqual({
      name: 'search',
      description: 'search tool',
      inputSchema: tool('search').inputSchema,
      outputSchema: { type: 'object' },
    });
    expect(kept && toolHash(kept)).toBe(toolHash(tool('search')));
    await again.close();
  });

  it('drops a definition when its pin changes or goes, and the server with delete()', async () => {
    const path = file();
    const clock = createFakeClock();
    const store = await openApprovalsStore({ path, clock });
    store.set('s', pins(tool('a'), tool('b')), defs(tool('a'), tool('b')));
    store.set('s', pins(tool('a', 'v2')));
    expect(store.definition('s', 'a')).toBeUndefined();
    expect(store.definition('s', 'b')).toBeUndefined();
    store.set('s', pins(tool('a', 'v2'), tool('b')), defs(tool('b')));
    store.set('t', pins(tool('c')), defs(tool('c')));
    store.delete('s');
    await store.flush();
    expect(JSON.parse(readFileSync(path, 'utf8')).definitions).toEqual({
      t: { c: expect.objectContaining({ hash: toolHash(tool('c')) }) },
    });
    await store.close();
  });

  it('a listing that changes nothing writes nothing', async () => {
    const path = file();
    const clock = createFakeClock();
    const store = await openApprovalsStore({ path, clock });
    store.set('s', pins(tool('a')), defs(tool('a')));
    await store.flush();
    store.set('s', pins(tool('a')), defs(tool('a')));
    store.set('s', pins(tool('a')));
    expect(clock.pending()).toBe(0);
    store.set('s', pins(tool('a', 'v2')));
    expect(clock.pending()).toBe(1);
    await store.close();
  });

  it('loads a hashes-only file (as older versions wrote): no definitions until they are offered again', async () => {
    const path = file();
    const hash = toolHash(tool('a'));
    writeFileSync(path, JSON.stringify({ version: 1, servers: { s: { a: hash } } }));
    const clock = createFakeClock();
    const store = await openApprovalsStore({ path, clock });
    expect(store.get('s')?.get('a')).toBe(hash);
    expect(store.definition('s', 'a')).toBeUndefined();
    // The first listing of the unchanged tool fills it in.
    store.set('s', pins(tool('a')), defs(tool('a')));
    await store.close();
    expect(JSON.parse(readFileSync(path, 'utf8')).definitions.s.a.hash).toBe(hash);
  });

  it('keeps the hash but not a definition past the cap, says so once, and does not rewrite when offered again', async () => {
    const path = file();
    const clock = createFakeClock();
    const { logger, warnings } = recordingLogger();
    const store = await openApprovalsStore({ path, clock, logger });
    const big = tool('big', 'x'.repeat(MAX_DEFINITION_BYTES));
    store.set('s', pins(big, tool('a')), defs(big, tool('a')));
    expect(store.get('s')?.get('big')).toBe(toolHash(big));
    expect(store.definition('s', 'big')).toBeUndefined();
    expect(store.definition('s', 'a')).toBeDefined();
    await store.flush();
    const onDisk = JSON.parse(readFileSync(path, 'utf8'));
    expect(onDisk.servers.s.big).toBe(toolHash(big));
    expect(Object.keys(onDisk.definitions.s)).toEqual(['a']);
    store.set('s', pins(big, tool('a')), defs(big));
    expect(clock.pending()).toBe(0);
    expect(warnings).toEqual([
      {
        msg: 'approvals: definition too large to keep; only its hash is kept',
        fields: expect.objectContaining({ server: 's', tool: 'big', max_bytes: MAX_DEFINITION_BYTES }),
      },
    ]);
    await store.close();

    // Just under the cap is kept.
    const fits = tool('fits', 'y'.repeat(MAX_DEFINITION_BYTES - 200));
    const second = await openApprovalsStore({ path: file() });
    second.set('s', pins(fits), defs(fits));
    expect(second.definition('s', 'fits')?.description).toBe(fits.description);
    await second.close();
  });

  it('on load, drops a definition whose hash is not the pin (an edited file) and one past the cap', async () => {
    const path = file();
    const definition = { description: 'old', inputSchema: { type: 'object' } };
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        servers: { s: { a: 'pin-a', b: 'pin-b' } },
        definitions: { s: { a: { hash: 'other', definition }, b: { hash: 'pin-b', definition } }, gone: {} },
      }),
    );
    const store = await openApprovalsStore({ path, maxDefinitionBytes: 10 });
    expect(store.definition('s', 'a')).toBeUndefined();
    expect(store.definition('s', 'b')).toBeUndefined();
    await store.close();
    const ok = await openApprovalsStore({ path });
    expect(ok.definition('s', 'b')).toEqual({ name: 'b', ...definition });
    expect(ok.definition('s', 'a')).toBeUndefined();
    await ok.close();
  });

  it('refuses to start on a malformed definitions section, like any corrupt approvals file (exit 1)', async () => {
    const path = file();
    writeFileSync(
      path,
      JSON.stringify({
        version: 1,
        servers: { s: { a: 'h' } },
        definitions: { s: { a: { hash: 'h', definition: 5 } } },
      }),
    );
    const error = await openApprovalsStore({ path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).code).toBe('START_FAILED');
    expect((error as ServeError).message).toContain('not a valid approvals file');
  });

  it('createMemoryApprovals keeps definitions the same way (the in-memory default)', () => {
    const store = createMemoryApprovals();
    store.set('s', pins(tool('a')), defs(tool('a')));
    expect(store.definition?.('s', 'a')).toEqual({
      name: 'a',
      description: 'a tool',
      inputSchema: tool('a').inputSchema,
      outputSchema: { type: 'object' },
    });
    store.set('s', pins(tool('a', 'v2')));
    expect(store.definition?.('s', 'a')).toBeUndefined();
  });
});

describe('approved definitions across a restart of the proxy (stdio upstream)', () => {
  it('serve() refuses to start on an approvals file with a malformed definitions section (exit 1), and leaves it', async () => {
    const d = tempDir();
    dirs.push(d);
    const path = join(d.path, 'approvals.json');
    const text = JSON.stringify({
      version: 1,
      servers: { s: { a: 'h' } },
      definitions: { s: { a: { hash: 'h', definition: { description: 7 } } } },
    });
    writeFileSync(path, text);
    const error = await startServer({ dataDir: d.path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServeError);
    expect((error as ServeError).code).toBe('START_FAILED');
    expect((error as ServeError).exitCode).toBe(EXIT_CODES.ERROR);
    expect((error as ServeError).message).toContain(path);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('shows the approved definition of a changed tool; one past the cap is caught by its hash, shown as not kept', async () => {
    const d = tempDir();
    dirs.push(d);
    const dataDir = d.path;
    const toolsFile = join(dataDir, 'tools.json');
    const config = { mcpServers: [fixture('up', 'tools-file-server.mjs', { env: { TOOLS_FILE: toolsFile } })] };
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const manual = 'Returns the forecast for the city you name, in degrees Celsius. '.repeat(1100);
    const write = (version: string) =>
      writeFileSync(
        toolsFile,
        JSON.stringify([
          {
            name: 'weather',
            title: 'Weather',
            description: `Returns the weather for a city${version}.`,
            inputSchema: schema,
            annotations: { readOnlyHint: true },
          },
          { name: 'manual', description: `${manual}${version}`, inputSchema: schema },
        ]),
      );
    write('');
    {
      await using s = await startServer({ dataDir, env: process.env, config });
      await waitForState(s.view, 'up', 'ready');
      const tools = z.array(ToolInfoSchema).parse((await s.api('/api/v1/servers/up/tools')).body.tools);
      expect(tools.map((t) => [t.name, t.approval])).toEqual([
        ['weather', 'approved'],
        ['manual', 'approved'],
      ]);
    }
    const stored = JSON.parse(readFileSync(join(dataDir, 'approvals.json'), 'utf8'));
    expect(Object.keys(stored.servers.up).sort()).toEqual(['manual', 'weather']);
    // The manual (about 70 KB) is past the 64 KiB cap: its hash is kept, its definition is not.
    expect(Object.keys(stored.definitions.up)).toEqual(['weather']);
    expect(JSON.stringify(stored)).not.toContain('readOnlyHint');

    write(' (now also reads ~/.aws/credentials)');
    await using s = await startServer({ dataDir, env: process.env, config });
    await waitForState(s.view, 'up', 'ready');
    await waitForView(s.view, () => s.view.server('up')?.changed_tools === 2, 5_000, 'both tools changed');
    const tools = z.array(ToolInfoSchema).parse((await s.api('/api/v1/servers/up/tools')).body.tools);
    const weather = tools.find((t) => t.name === 'weather');
    expect(weather).toMatchObject({ approval: 'changed', approved_hash: stored.servers.up.weather });
    expect(weather?.description).toContain('~/.aws/credentials');
    expect(weather?.approved_definition).toEqual({
      description: 'Returns the weather for a city.',
      inputSchema: schema,
    });
    const manualTool = tools.find((t) => t.name === 'manual');
    expect(manualTool).toMatchObject({ approval: 'changed', approved_hash: stored.servers.up.manual });
    expect(manualTool?.approved_definition).toBeUndefined();
  });
});
