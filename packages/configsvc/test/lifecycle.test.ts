import { writeFile } from 'node:fs/promises';
import { createFakeClock } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { nextEvent, waitFor } from '@mcpproxy/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createConfigService } from '../src/index.js';
import { handEdit, server, tempDir, witness } from './helpers.js';

let file: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ file, cleanup } = await tempDir());
});
afterEach(() => cleanup());

function thrown(fn: () => void): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('gates', () => {
  it('allows every write by default', async () => {
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    expect(() => svc.assertWritable('config')).not.toThrow();
    expect(() => svc.assertWritable('management')).not.toThrow();
  });

  it('refuses config and management writes with READ_ONLY when read_only_mode is on', async () => {
    await writeFile(file, JSON.stringify({ read_only_mode: true, disable_management: true, mcpServers: [] }));
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    expect(thrown(() => svc.assertWritable('config')).code).toBe('READ_ONLY');
    // read-only wins over disable_management: it forbids every config-changing operation
    expect(thrown(() => svc.assertWritable('management')).code).toBe('READ_ONLY');
  });

  it('refuses management writes with MANAGEMENT_DISABLED when disable_management is on', async () => {
    await writeFile(file, JSON.stringify({ disable_management: true, mcpServers: [] }));
    const svc = await createConfigService({ path: file, watch: false });
    await svc.close();
    expect(() => svc.assertWritable('config')).not.toThrow();
    expect(thrown(() => svc.assertWritable('management')).code).toBe('MANAGEMENT_DISABLED');
  });

  it('follows the current config: a change that turns read-only on closes the gate at once', async () => {
    const svc = await createConfigService({ path: file, watch: false });
    await svc.apply((draft) => {
      draft.read_only_mode = true;
    });
    await svc.close();
    expect(thrown(() => svc.assertWritable('config')).code).toBe('READ_ONLY');
  });
});

describe('close', () => {
  it('is idempotent, and later apply() and reload() reject CLOSED', async () => {
    const svc = await createConfigService({ path: file });
    await Promise.all([svc.close(), svc.close()]);
    await svc.close();
    await expect(
      svc.apply((draft) => {
        draft.tools_limit = 2;
      }),
    ).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(svc.reload()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(svc.snapshot().tools_limit).toBe(15);
  });

  it('waits for an in-flight apply to settle', async () => {
    const svc = await createConfigService({ path: file, watch: false });
    let settled = false;
    const pending = svc
      .apply((draft) => {
        draft.mcpServers.push(server('late'));
      })
      .then(() => {
        settled = true;
      });
    await svc.close();
    expect(settled).toBe(true);
    await pending;
    expect(svc.snapshot().mcpServers.map((s) => s.name)).toEqual(['late']);
  });

  it('is what Symbol.asyncDispose does', async () => {
    const svc = await createConfigService({ path: file, watch: false });
    await svc[Symbol.asyncDispose]();
    await expect(svc.apply(() => {})).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('stops watching: a later hand edit arms no timer and publishes nothing before a later marker', async () => {
    const clock = createFakeClock();
    const bus = createEventBus();
    const events = bus.stream({ types: ['config_reloaded', 'app_state_changed'] });
    const svc = await createConfigService({ path: file, bus, clock, debounceMs: 50 });
    const { seen, close } = witness(file);
    try {
      // While open, an edit arms the debounce timer…
      await handEdit(file, { mcpServers: [server('before-close')] });
      await waitFor(() => seen() >= 1 && clock.pending() === 1, { what: 'the watcher while open' });
      await svc.close();
      expect(clock.pending()).toBe(0); // …and close() clears it.
      await handEdit(file, { mcpServers: [server('after-close')] });
      await waitFor(() => seen() >= 2, { what: 'the edit after close' }); // the closed watcher would have seen it too
      expect(clock.pending()).toBe(0);
      await clock.advanceAsync(1_000);
      bus.publish({ type: 'app_state_changed', data: { from: 'running', to: 'stopping' } });
      expect((await nextEvent(events)).type).toBe('app_state_changed');
      expect(svc.snapshot().mcpServers).toEqual([]);
    } finally {
      close();
      bus.close();
    }
  });
});
