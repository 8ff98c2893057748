import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';

// Issue 16, three defects found by the fuzz suite, through the real server: timer durations past Node's 2^31−1 ms
// limit, server names made only of dots, and POST /config/validate dropping a top-level "__proto__" key.

const validate = (s: Awaited<ReturnType<typeof startServer>>, body: string) =>
  s.api('/api/v1/config/validate', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('issue 16: timer durations above 24d', () => {
  it.each([
    ['call_tool_timeout', '{"call_tool_timeout": "30d"}'],
    ['init_timeout', '{"init_timeout": "25d"}'],
    ['events.ping_interval', '{"events": {"ping_interval": "30d"}}'],
    [
      'mcpServers[0].health_check_interval',
      '{"mcpServers": [{"name": "a", "command": "x", "health_check_interval": "30d"}]}',
    ],
  ])('POST /config/validate refuses %s with rule duration_max', async (path, body) => {
    await using s = await startServer();
    const res = await validate(s, body);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      ok: false,
      issues: [
        expect.objectContaining({ path, rule: 'duration_max', message: expect.stringContaining('at most 24d') }),
      ],
    });
  });

  it('POST /config/validate keeps accepting a long activity.retention', async () => {
    await using s = await startServer();
    const res = await validate(s, '{"activity": {"retention": "365d"}, "call_tool_timeout": "24d"}');
    expect(res.body).toEqual({ ok: true, issues: [] });
  });

  it('PATCH of a server with a 30d init_timeout is refused and not saved', async () => {
    await using s = await startServer({ config: { mcpServers: [{ name: 'a', command: 'x', enabled: false }] } });
    const res = await s.api('/api/v1/servers/a', { method: 'PATCH', json: { init_timeout: '30d' } });
    expect([400, 422]).toContain(res.status);
    expect(JSON.stringify(res.body.issues)).toContain('duration_max');
    expect(await readFile(s.configPath, 'utf8')).not.toContain('init_timeout');
  });
});

describe('issue 16: server names made only of dots', () => {
  it.each(['.', '..', '...'])('POST /servers refuses the name "%s" with an issue at "name"', async (name) => {
    await using s = await startServer();
    const res = await s.api('/api/v1/servers', { method: 'POST', json: { name, command: 'x' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: 'name' })]);
    expect((await s.api('/api/v1/servers')).body.servers).toEqual([]);
  });
});

describe('issue 16: POST /config/validate and a top-level "__proto__" key', () => {
  it('refuses it as an unknown key, as the loader does', async () => {
    await using s = await startServer();
    const res = await validate(s, '{"__proto__": {"polluted": 1}}');
    expect(res.status, res.text).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: '', rule: 'unrecognized_keys' })]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still refuses a non-object body with 400', async () => {
    await using s = await startServer();
    for (const body of ['[]', '1', '"x"', 'null']) {
      const res = await validate(s, body);
      expect(res.status, `${body}: ${res.text}`).toBe(400);
    }
  });
});
