import { lstat, mkdir, readlink, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BusEvent, systemClock } from '@mcpproxy/contracts';
import { createEventBus, type EventBus, type EventStream } from '@mcpproxy/events';
import { nextEvent } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigService, createConfigService } from '../src/index.js';
import { handEdit, readJson, server, tempDir } from './helpers.js';

// Issue 16, item 6: a symlinked config behaves the same whether it was a link at start or became one while running
// (dotfile managers link it in), and when the link is pointed elsewhere: hand edits of the target are reloaded,
// API writes go to the target through the link, and the link stays a link. Real files, real fs.watch, real time.

let dir: string;
let file: string;
let cleanup: () => Promise<void>;
let bus: EventBus;
let events: EventStream;
let svc: ConfigService | undefined;

beforeEach(async () => {
  ({ dir, file, cleanup } = await tempDir());
  bus = createEventBus();
  events = bus.stream({ types: ['config_reloaded'] });
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  bus.close();
  await cleanup();
});

const reloaded = (event: BusEvent) => (event.type === 'config_reloaded' ? event.data : undefined);
const names = () => svc?.snapshot().mcpServers.map((s) => s.name);

/** A config file in its own directory (as a dotfiles checkout would hold it). */
async function target(subdir: string, servers: string[]): Promise<string> {
  const d = join(dir, subdir);
  await mkdir(d, { recursive: true });
  const path = join(d, 'mcp_config.json');
  await writeFile(path, JSON.stringify({ mcpServers: servers.map((n) => server(n)) }));
  return path;
}

/** Points `link` at `to` in one step, the way `ln -sfn` users expect: a new link renamed over the old entry. */
async function relink(link: string, to: string): Promise<void> {
  const temp = `${link}.new-link`;
  await symlink(to, temp);
  await rename(temp, link);
}

async function expectLink(link: string, to: string): Promise<void> {
  expect((await lstat(link)).isSymbolicLink()).toBe(true);
  expect(await readlink(link)).toBe(to);
}

const start = () => createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });

describe('issue 16: a symlinked config', () => {
  it('linked at start: reloads hand edits of the target, saves through the link and keeps it', async () => {
    const real = await target('dotfiles', ['a']);
    await symlink(real, file);
    svc = await start();
    expect(names()).toEqual(['a']);

    await handEdit(real, { mcpServers: [server('a'), server('edited')] });
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['a', 'edited']);

    await svc.apply((draft) => {
      draft.mcpServers.push(server('by-api'));
    });
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'api', ok: true });
    await expectLink(file, real);
    expect(((await readJson(real)).mcpServers as { name: string }[]).map((s) => s.name)).toEqual([
      'a',
      'edited',
      'by-api',
    ]);
  });

  it('linked while running: picks up the target, then its hand edits, and API writes update the target', async () => {
    await writeFile(file, JSON.stringify({ mcpServers: [server('plain')] }));
    svc = await start();
    expect(names()).toEqual(['plain']);

    const real = await target('dotfiles', ['linked']);
    await relink(file, real);
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['linked']);

    // The target lives in another directory: its edits are seen too.
    await handEdit(real, { mcpServers: [server('linked'), server('edited')] });
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['linked', 'edited']);

    // Not a CONFLICT, and the link is not replaced by a regular file.
    await svc.apply((draft) => {
      draft.mcpServers.push(server('by-api'));
    });
    await svc.apply((draft) => {
      draft.tools_limit = 7;
    });
    await expectLink(file, real);
    const saved = await readJson(real);
    expect((saved.mcpServers as { name: string }[]).map((s) => s.name)).toEqual(['linked', 'edited', 'by-api']);
    expect(saved.tools_limit).toBe(7);
  });

  it('linked while running and written at once: one CONFLICT at most, then the save goes through the link', async () => {
    await writeFile(file, JSON.stringify({ mcpServers: [server('plain')] }));
    svc = await start();
    const real = await target('dotfiles', ['linked']);
    await relink(file, real);
    // Whether or not the debounced reload ran yet, the change lands in the target and the link stays.
    const change = (draft: { tools_limit: number }) => {
      draft.tools_limit = 9;
    };
    await svc.apply(change).catch(async (error: { code?: string }) => {
      expect(error.code).toBe('CONFLICT');
      await svc?.apply(change);
    });
    await expectLink(file, real);
    expect((await readJson(real)).tools_limit).toBe(9);
    expect(names()).toEqual(['linked']);
  });

  it('retargeted: follows the new target, reloads its edits, saves into it and leaves the old one alone', async () => {
    const first = await target('one', ['first']);
    const second = await target('two', ['second']);
    await symlink(first, file);
    svc = await start();
    expect(names()).toEqual(['first']);

    await relink(file, second);
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['second']);

    await handEdit(second, { mcpServers: [server('second'), server('edited')] });
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['second', 'edited']);

    await svc.apply((draft) => {
      draft.tools_limit = 11;
    });
    await expectLink(file, second);
    expect((await readJson(second)).tools_limit).toBe(11);
    expect((await readJson(first)).tools_limit).toBeUndefined();
    expect(((await readJson(first)).mcpServers as { name: string }[]).map((s) => s.name)).toEqual(['first']);
  });

  it('follows a chain of links and watches the directory of every hop', async () => {
    const real = await target('store', ['deep']);
    const middle = join(dir, 'middle');
    await mkdir(middle);
    const hop = join(middle, 'current.json');
    await symlink(real, hop);
    await symlink(hop, file);
    svc = await start();
    expect(names()).toEqual(['deep']);

    // Retargeting the middle hop is a change of the config too.
    const other = await target('store2', ['other']);
    await relink(hop, other);
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['other']);

    await svc.apply((draft) => {
      draft.tools_limit = 12;
    });
    await expectLink(file, hop);
    await expectLink(hop, other);
    expect((await readJson(other)).tools_limit).toBe(12);
  });

  it('creates the default config at the target of a dangling link, keeping the link', async () => {
    const d = join(dir, 'dotfiles');
    await mkdir(d);
    const real = join(d, 'mcp_config.json');
    await symlink(real, file);
    svc = await start();
    expect(names()).toEqual([]);
    await expectLink(file, real);
    expect((await readJson(real)).mcpServers).toEqual([]);
  });

  it('refuses a symlink loop with CONFIG_READ_FAILED', async () => {
    await symlink(file, `${file}.b`);
    await symlink(`${file}.b`, file);
    await expect(start()).rejects.toMatchObject({ code: 'CONFIG_READ_FAILED' });
  });
});
