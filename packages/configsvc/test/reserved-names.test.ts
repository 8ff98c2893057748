import { writeFile } from 'node:fs/promises';
import { systemClock } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { nextEvent } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { createConfigService } from '../src/index.js';
import { handEdit, server, tempDir } from './helpers.js';

// Issue 16, item 5: a "__proto__" server in the object form of a hand-edited file used to vanish silently (the file
// was reported ok). It is refused with the name rule, and the last good config stays.

describe('issue 16: reserved server names in a hand-edited file', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'rejects a hand edit with a "%s" key in mcpServers and keeps the last good config',
    async (name) => {
      const { file, cleanup } = await tempDir();
      const bus = createEventBus();
      const events = bus.stream({ types: ['config_reloaded'] });
      await writeFile(file, JSON.stringify({ mcpServers: [server('good')] }));
      const svc = await createConfigService({ path: file, bus, clock: systemClock, debounceMs: 20 });
      try {
        const good = svc.snapshot();
        await handEdit(file, `{"mcpServers": {"ok": {"command": "x"}, "${name}": {"command": "y"}}}`);
        const event = await nextEvent(events);
        expect(event.type === 'config_reloaded' && event.data).toMatchObject({
          source: 'file',
          ok: false,
          issues: [expect.objectContaining({ path: `mcpServers.${name}`, rule: 'server_name' })],
        });
        expect(svc.snapshot()).toBe(good);
        // Starting on such a file fails the same way.
        await expect(createConfigService({ path: file, watch: false })).rejects.toMatchObject({
          code: 'INVALID_CONFIG',
          issues: [expect.objectContaining({ path: `mcpServers.${name}`, rule: 'server_name' })],
        });
      } finally {
        await svc.close();
        bus.close();
        await cleanup();
      }
    },
  );
});
