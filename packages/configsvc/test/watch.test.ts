import { existsSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { type BusEvent, createFakeClock, systemClock } from '@mcpproxy/contracts';
import { createEventBus, type EventBus, type EventStream } from '@mcpproxy/events';
import { nextEvent, waitFor } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ConfigService, createConfigService } from '../src/index.js';
import { handEdit, readJson, server, tempDir, witness } from './helpers.js';

let file: string;
let cleanup: () => Promise<void>;
let bus: EventBus;
let events: EventStream;
let svc: ConfigService | undefined;
let watchers: Array<{ close: () => void }> = [];
beforeEach(async () => {
  ({ file, cleanup } = await tempDir());
  bus = createEventBus();
  events = bus.stream({ types: ['config_reloaded'] });
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
  for (const w of watchers) w.close();
  watchers = [];
  bus.close();
  await cleanup();
});

const reloaded = (event: BusEvent) => (event.type === 'config_reloaded' ? event.data : undefined);
const names = () => svc?.snapshot().mcpServers.map((s) => s.name);
const track = <T extends { close: () => void }>(w: T): T => {
  watchers.push(w);
  return w;
};

describe('watching hand edits (real fs.watch, real time)', () => {
  it('picks up a valid hand edit saved in place and publishes config_reloaded {source:"file", ok:true}', async () => {
    svc = await createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });
    const seen: string[][] = [];
    svc.subscribe((config) => seen.push(config.mcpServers.map((s) => s.name)));
    await writeFile(file, JSON.stringify({ mcpServers: [server('by-hand')] }));
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['by-hand']);
    expect(seen).toEqual([['by-hand']]);
  });

  it('keeps the last good config on an invalid edit and publishes ok:false with the path and rule', async () => {
    svc = await createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });
    await svc.apply((draft) => {
      draft.mcpServers.push(server('good'));
    });
    expect(reloaded(await nextEvent(events))).toMatchObject({ source: 'api', ok: true });
    const good = svc.snapshot();
    await handEdit(file, { mcpServers: [{ name: 'bad:name', command: 'x' }] });
    const data = reloaded(await nextEvent(events));
    expect(data).toMatchObject({ source: 'file', ok: false });
    expect(data?.error).toContain('mcpServers[0].name');
    expect(data?.error).toContain('(invalid_format)');
    expect(data?.issues).toEqual([expect.objectContaining({ path: 'mcpServers[0].name', rule: 'invalid_format' })]);
    expect(svc.snapshot()).toBe(good);
    // The bad edit stays on disk for the person to fix; an API change does not overwrite it.
    await expect(
      svc.apply((draft) => {
        draft.tools_limit = 5;
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    // Fixing the file is picked up.
    await handEdit(file, { mcpServers: [server('fixed')] });
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['fixed']);
  });

  it('reports malformed JSON from a hand edit with line and column', async () => {
    svc = await createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });
    await handEdit(file, '{\n  "mcpServers": [\n    {"name": "a" "command": "x"}\n  ]\n}\n');
    const data = reloaded(await nextEvent(events));
    expect(data).toMatchObject({ source: 'file', ok: false });
    expect(data?.error).toContain('line 3, column 18');
    expect(data?.error).toContain('(json_syntax)');
  });

  it('keeps the last good config when the file is deleted, says so, and does not recreate it', async () => {
    svc = await createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });
    const good = svc.snapshot();
    await unlink(file);
    const data = reloaded(await nextEvent(events));
    expect(data).toMatchObject({ source: 'file', ok: false });
    expect(data?.error).toContain('missing');
    expect(data?.issues).toEqual([expect.objectContaining({ rule: 'file_missing' })]);
    expect(svc.snapshot()).toBe(good);
    expect(existsSync(file)).toBe(false);
  });
});

describe('watching with a fake clock', () => {
  it('debounces: a burst of edits within debounceMs is one reload of the last edit', async () => {
    const clock = createFakeClock();
    svc = await createConfigService({ path: file, bus, clock, debounceMs: 200 });
    const { seen } = track(witness(file));
    await handEdit(file, { mcpServers: [server('first')] });
    await waitFor(() => seen() >= 1 && clock.pending() === 1, { what: 'the first edit to arm the debounce timer' });
    await clock.advanceAsync(150);
    await handEdit(file, { mcpServers: [server('second')] });
    await waitFor(() => seen() >= 2, { what: 'the second edit' });
    await clock.advanceAsync(199); // 349 ms after the first edit, 199 ms after the second: still quiet
    await svc.apply(() => {}); // a no-op apply queues behind any reload a fired timer started
    expect(events.size).toBe(0);
    await clock.advanceAsync(1);
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'file', ok: true });
    expect(names()).toEqual(['second']);
    await svc.apply(() => {});
    expect(events.size).toBe(0);
  });

  it('does not reload its own writes: after applies, the only file reload is the later hand edit', async () => {
    const clock = createFakeClock();
    svc = await createConfigService({ path: file, bus, clock, debounceMs: 200 });
    const { seen } = track(witness(file));
    await svc.apply((draft) => {
      draft.mcpServers.push(server('api-1'));
    });
    await svc.apply((draft) => {
      draft.mcpServers.push(server('api-2'));
    });
    await waitFor(() => seen() >= 2 && clock.pending() === 1, { what: 'the watcher to see our own saves' });
    await clock.advanceAsync(200); // the debounced reload of our own save runs…
    await svc.apply(() => {}); // …and has finished once this barrier resolves
    const handWritten = JSON.parse(await readFile(file, 'utf8')) as { mcpServers: unknown[] };
    handWritten.mcpServers.push(server('by-hand'));
    await handEdit(file, handWritten);
    await waitFor(() => seen() >= 3 && clock.pending() === 1, { what: 'the hand edit' });
    await clock.advanceAsync(200);
    const published = [await nextEvent(events), await nextEvent(events), await nextEvent(events)].map(reloaded);
    expect(published).toEqual([
      { source: 'api', ok: true },
      { source: 'api', ok: true },
      { source: 'file', ok: true },
    ]);
    expect(names()).toEqual(['api-1', 'api-2', 'by-hand']);
    await svc.apply(() => {});
    expect(events.size).toBe(0);
  });

  it('reports one bad edit once, however many watch events it causes', async () => {
    const clock = createFakeClock();
    svc = await createConfigService({ path: file, bus, clock, debounceMs: 200 });
    const { seen } = track(witness(file));
    await handEdit(file, '{"mcpServers": ');
    await waitFor(() => seen() >= 1 && clock.pending() === 1, { what: 'the bad edit' });
    await clock.advanceAsync(200);
    expect(reloaded(await nextEvent(events))).toMatchObject({ ok: false });
    // Same bytes again (an editor re-saving): no second report.
    await handEdit(file, '{"mcpServers": ');
    await waitFor(() => seen() >= 2 && clock.pending() === 1, { what: 'the re-save' });
    await clock.advanceAsync(200);
    await svc.apply(() => {}).catch(() => {});
    expect(events.size).toBe(0);
  });

  it('turns watching off with watch:false', async () => {
    const clock = createFakeClock();
    svc = await createConfigService({ path: file, bus, clock, watch: false });
    const { seen } = track(witness(file));
    await handEdit(file, { mcpServers: [server('ignored')] });
    await waitFor(() => seen() >= 1, { what: 'the edit' });
    expect(clock.pending()).toBe(0);
    expect(names()).toEqual([]);
    // reload() picks it up on demand, as source "api".
    await svc.reload();
    expect(names()).toEqual(['ignored']);
    expect(reloaded(await nextEvent(events))).toEqual({ source: 'api', ok: true });
  });
});

describe('reload()', () => {
  it('rejects INVALID_CONFIG on a bad file, keeps the last good config and publishes ok:false', async () => {
    svc = await createConfigService({ path: file, bus, watch: false });
    const good = svc.snapshot();
    await writeFile(file, JSON.stringify({ tools_limit: 0, mcpServers: [] }));
    await expect(svc.reload()).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      issues: [expect.objectContaining({ path: 'tools_limit', rule: 'too_small' })],
    });
    expect(svc.snapshot()).toBe(good);
    expect(reloaded(await nextEvent(events))).toMatchObject({ source: 'api', ok: false });
  });

  it('rejects CONFIG_READ_FAILED when the file is gone', async () => {
    svc = await createConfigService({ path: file, bus, watch: false });
    await unlink(file);
    await expect(svc.reload()).rejects.toMatchObject({ code: 'CONFIG_READ_FAILED' });
  });

  it('keeps the written form after a reload that switched to the object form', async () => {
    svc = await createConfigService({ path: file, watch: false });
    await writeFile(file, JSON.stringify({ mcpServers: { a: { command: 'x' } } }));
    await svc.reload();
    await svc.apply((draft) => {
      draft.mcpServers.push(server('b'));
    });
    expect((await readJson(file)).mcpServers).toEqual({ a: { command: 'x' }, b: { command: 'node' } });
  });
});
