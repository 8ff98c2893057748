import { writeFileSync } from 'node:fs';
import { chmod, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import type { Config } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { rejectionOf } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigService, createConfigService } from '../src/index.js';
import { readJson, server, tempDir } from './helpers.js';

let dir: string;
let file: string;
let cleanup: () => Promise<void>;
let svc: ConfigService | undefined;
beforeEach(async () => {
  ({ dir, file, cleanup } = await tempDir());
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  await cleanup();
});

const rejection = (promise: Promise<unknown>) => rejectionOf(promise, ConfigError);

const names = (config: Config) => config.mcpServers.map((s) => s.name);
const fileNames = async () => ((await readJson(file)).mcpServers as Array<{ name: string }>).map((s) => s.name);

describe('apply', () => {
  it('saves a recipe that mutates the draft and returns the new snapshot', async () => {
    svc = await createConfigService({ path: file, watch: false });
    const before = svc.snapshot();
    const after = await svc.apply((draft) => {
      draft.mcpServers.push(server('github'));
      draft.tools_limit = 25;
    });
    expect(after).toBe(svc.snapshot());
    expect(names(after)).toEqual(['github']);
    expect(after.tools_limit).toBe(25);
    expect(before.mcpServers).toEqual([]); // the previous snapshot is untouched
    expect(await readJson(file)).toMatchObject({ tools_limit: 25, mcpServers: [{ name: 'github', command: 'node' }] });
  });

  it('saves a recipe that returns the next config, and a plain next config', async () => {
    svc = await createConfigService({ path: file, watch: false });
    await svc.apply((current) => ({ ...current, quarantine_enabled: false }));
    expect((await readJson(file)).quarantine_enabled).toBe(false);
    const next = { ...svc.snapshot(), mcpServers: [server('x')] };
    await svc.apply(next);
    expect(await fileNames()).toEqual(['x']);
    expect(Object.isFrozen(next)).toBe(false); // the caller's object is not frozen behind its back
  });

  it('writes durations as strings and leaves defaults out of the file', async () => {
    svc = await createConfigService({ path: file, watch: false });
    await svc.apply((draft) => {
      draft.call_tool_timeout = 90_000;
    });
    const written = await readJson(file);
    expect(written.call_tool_timeout).toBe('90s');
    expect(written).not.toHaveProperty('init_timeout');
  });

  it('rejects an invalid result with the path and rule, and writes nothing', async () => {
    svc = await createConfigService({ path: file, watch: false });
    const before = await readFile(file, 'utf8');
    const error = await rejection(
      svc.apply((draft) => {
        draft.mcpServers.push(server('ok'), { ...server('bad'), name: 'has space' });
      }),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues).toEqual([expect.objectContaining({ path: 'mcpServers[1].name', rule: 'invalid_format' })]);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(svc.snapshot().mcpServers).toEqual([]);
  });

  it('rejects duplicate server names even when the file uses the object form', async () => {
    await writeFile(file, JSON.stringify({ mcpServers: { a: { command: 'x' } } }));
    svc = await createConfigService({ path: file, watch: false });
    const error = await rejection(
      svc.apply((draft) => {
        draft.mcpServers.push(server('a'));
      }),
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.issues?.[0]?.rule).toBe('unique_name');
  });

  it('keeps the servers form the file used (object keyed by name)', async () => {
    await writeFile(file, JSON.stringify({ mcpServers: { github: { command: 'gh' } } }));
    svc = await createConfigService({ path: file, watch: false });
    await svc.apply((draft) => {
      draft.mcpServers.push(server('memory'));
    });
    expect((await readJson(file)).mcpServers).toEqual({ github: { command: 'gh' }, memory: { command: 'node' } });
  });

  it('writes nothing and notifies nobody for a no-op recipe', async () => {
    await writeFile(file, '{ "mcpServers": [ ]   }');
    const bus = createEventBus();
    const events = bus.stream();
    svc = await createConfigService({ path: file, watch: false, bus });
    let calls = 0;
    svc.subscribe(() => calls++);
    const before = svc.snapshot();
    expect(await svc.apply(() => {})).toBe(before);
    expect(await svc.apply((draft) => ({ ...draft }))).toBe(before);
    expect(
      await svc.apply((draft) => {
        draft.tools_limit = 15;
      }),
    ).toBe(before);
    expect(await readFile(file, 'utf8')).toBe('{ "mcpServers": [ ]   }');
    expect(calls).toBe(0);
    expect(events.size).toBe(0);
    bus.close();
  });

  it('publishes config_reloaded {source:"api", ok:true} and notifies subscribers with the new and previous config', async () => {
    const bus = createEventBus();
    const events = bus.stream();
    svc = await createConfigService({ path: file, watch: false, bus });
    const seen: Array<[string[], string[]]> = [];
    svc.subscribe((config, previous) => seen.push([names(config), names(previous)]));
    await svc.apply((draft) => {
      draft.mcpServers.push(server('a'));
    });
    expect(seen).toEqual([[['a'], []]]);
    const event = await events.next();
    expect(event).toMatchObject({ type: 'config_reloaded', data: { source: 'api', ok: true } });
    bus.close();
  });

  it('keeps notifying other subscribers when one throws, and unsubscribe is idempotent', async () => {
    svc = await createConfigService({ path: file, watch: false });
    let reached = 0;
    svc.subscribe(() => {
      throw new Error('boom');
    });
    const off = svc.subscribe(() => reached++);
    await svc.apply((draft) => {
      draft.tools_limit = 20;
    });
    off();
    off();
    await svc.apply((draft) => {
      draft.tools_limit = 21;
    });
    expect(reached).toBe(1);
  });

  it('serialises 50 concurrent applies so every one lands, and a rejected one does not break the chain', async () => {
    svc = await createConfigService({ path: file, watch: false });
    const service = svc;
    const results = await Promise.allSettled(
      Array.from({ length: 51 }, (_, i) =>
        service.apply((draft) => {
          draft.mcpServers.push(i === 25 ? { ...server('x'), name: 'bad name' } : server(`s${i}`));
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((results[25] as PromiseRejectedResult).reason).toMatchObject({ code: 'INVALID_CONFIG' });
    const expected = Array.from({ length: 51 }, (_, i) => `s${i}`).filter((n) => n !== 's25');
    expect(await fileNames()).toEqual(expected);
    expect(names(svc.snapshot())).toEqual(expected);
  });

  it('detects a hand edit made between read and write (CONFLICT) and keeps the hand edit', async () => {
    svc = await createConfigService({ path: file, watch: false });
    const handWritten = `${JSON.stringify({ tools_limit: 77, mcpServers: [server('by-hand')] }, null, 2)}\n`;
    const error = await rejection(
      svc.apply((draft) => {
        writeFileSync(file, handWritten); // the person saves while the API change is being prepared
        draft.mcpServers.push(server('by-api'));
      }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(await readFile(file, 'utf8')).toBe(handWritten);
    // The conflicting edit is reloaded; a retry then builds on it.
    await svc.apply(() => {});
    expect(names(svc.snapshot())).toEqual(['by-hand']);
    await svc.apply((draft) => {
      draft.mcpServers.push(server('by-api'));
    });
    expect(await fileNames()).toEqual(['by-hand', 'by-api']);
    expect((await readJson(file)).tools_limit).toBe(77);
  });

  it('refuses to recreate a file deleted by hand (CONFLICT)', async () => {
    svc = await createConfigService({ path: file, watch: false });
    await unlink(file);
    const error = await rejection(
      svc.apply((draft) => {
        draft.tools_limit = 3;
      }),
    );
    expect(error.code).toBe('CONFLICT');
    expect(await readdir(dir)).toEqual([]);
  });

  it('saves with mode 0600 whatever the old mode, and leaves no temp file behind', async () => {
    svc = await createConfigService({ path: file, watch: false });
    await chmod(file, 0o644);
    await svc.apply((draft) => {
      draft.tools_limit = 9;
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['mcp_config.json']);
  });

  it('reports a failed save as CONFIG_WRITE_FAILED and keeps the old file and config', async () => {
    // A name this long is still a valid file, but its temp file's name exceeds NAME_MAX: the save fails even as root.
    const longFile = `${dir}/${'c'.repeat(240)}.json`;
    const original = JSON.stringify({ tools_limit: 11, mcpServers: [] });
    await writeFile(longFile, original);
    svc = await createConfigService({ path: longFile, watch: false });
    const error = await rejection(
      svc.apply((draft) => {
        draft.tools_limit = 12;
      }),
    );
    expect(error.code).toBe('CONFIG_WRITE_FAILED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENAMETOOLONG');
    expect(await readFile(longFile, 'utf8')).toBe(original);
    expect(svc.snapshot().tools_limit).toBe(11);
  });
});
