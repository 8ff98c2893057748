import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createRestClient, type RestClient } from '../src/index.js';
import { everything, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let api: RestClient;
beforeAll(async () => {
  server = await startServer({ mcpServers: [everything()] });
  api = createRestClient({ url: server.url });
});
afterAll(() => server.close());

async function rejection(promise: Promise<unknown>): Promise<ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

/** Resolves once the upstream is ready (from the server's own read model), so its tools are searchable. */
function readyTools(): Promise<void> {
  const view = server.running.services.view;
  const ready = () => view.server('everything')?.state === 'ready';
  return new Promise((resolve, reject) => {
    if (ready()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error('everything never became ready'));
    }, 20_000);
    const off = view.subscribe(() => {
      if (!ready()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

describe('createRestClient against a real server', () => {
  it('reads status, servers, one server, config and diagnostics', async () => {
    const status = await api.status();
    expect(status.servers.total).toBe(1);
    expect(status.epoch).toMatch(/\S/);
    const { servers } = await api.listServers();
    expect(servers.map((s) => s.name)).toEqual(['everything']);
    const detail = await api.getServer('everything');
    expect(detail.summary.name).toBe('everything');
    expect(detail.config.command).toBe(process.execPath);
    const config = await api.getConfig();
    expect(Array.isArray(config.mcpServers)).toBe(true);
    const { diagnostics } = await api.diagnostics();
    expect(Array.isArray(diagnostics)).toBe(true);
  });

  it('adds, patches, quarantines, approves and removes a server', async () => {
    const added = await api.addServer({ name: 'extra', command: 'true' });
    expect(added).toMatchObject({ name: 'extra', quarantined: true, state: 'quarantined' });
    const patched = await api.updateServer('extra', { groups: ['dev'] });
    expect(patched.groups).toEqual(['dev']);
    expect((await api.unquarantineServer('extra')).quarantined).toBe(false);
    expect((await api.disableServer('extra')).enabled).toBe(false);
    expect((await api.enableServer('extra')).enabled).toBe(true);
    expect((await api.quarantineServer('extra')).quarantined).toBe(true);
    const health = await api.serverHealth('extra');
    expect(health.name).toBe('extra');
    const bulk = await api.disableAll({ group: 'dev' });
    expect(bulk).toMatchObject({ total: 1, successful: 1, failed: 0 });
    expect(Object.keys((await api.enableAll({ group: 'dev' })).results)).toEqual(['extra']);
    await api.removeServer('extra');
    expect((await rejection(api.getServer('extra'))).code).toBe('NOT_FOUND');
  });

  it('searches, lists, approves and calls tools of a real upstream', async () => {
    await readyTools();
    const { tools } = await api.serverTools('everything');
    expect(tools.some((t) => t.name === 'echo')).toBe(true);
    const hits = await api.searchTools('echo', { limit: 3 });
    expect(hits.tools[0]?.name).toBe('everything:echo');
    expect((await api.approveTools('everything')).approved).toEqual([]);
    const result = await api.callTool('everything:echo', { message: 'hi' });
    expect(JSON.stringify(result.content)).toContain('hi');
    const restart = await api.restartAll();
    expect(restart.results.everything?.ok).toBe(true);
    expect((await api.restartServer('everything')).name).toBe('everything');
  });

  it('validates and reloads the config', async () => {
    expect(await api.validateConfig({ listen: '127.0.0.1:1' })).toEqual({ ok: true, issues: [] });
    const bad = await api.validateConfig({ tools_limit: 'many' });
    expect(bad.ok).toBe(false);
    expect(bad.issues[0]?.path).toBe('tools_limit');
    expect((await api.reloadConfig()).ok).toBe(true);
  });

  it('turns problem+json answers into a ClientError with code, status, detail and issues', async () => {
    const missing = await rejection(api.enableServer('nope'));
    expect(missing).toMatchObject({
      name: 'ClientError',
      code: 'NOT_FOUND',
      status: 404,
      request: 'POST /servers/nope/enable',
    });
    expect(missing.detail).toMatch(/\S/);
    const bad = await rejection(api.addServer({ name: 'bad:name', command: 'x' }));
    expect(bad).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    expect(bad.issues?.length).toBeGreaterThan(0);
    const unknownTool = await rejection(api.callTool('everything:nope', {}));
    expect(unknownTool.status).toBeGreaterThanOrEqual(400);
  });

  it('says UNREACHABLE when nothing listens, and UNAUTHORIZED for a wrong key', async () => {
    const down = createRestClient({ url: 'http://127.0.0.1:1' });
    const error = await rejection(down.status());
    expect(error).toMatchObject({ code: 'UNREACHABLE', status: 0 });
    const keyed = await startServer({ api_key: 'right-key' });
    try {
      const wrong = await rejection(createRestClient({ url: keyed.url, apiKey: 'wrong' }).status());
      expect(wrong).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      const right = await createRestClient({ url: `${keyed.url}/api/v1/`, apiKey: 'right-key' }).status();
      expect(right.servers.total).toBe(0);
    } finally {
      await keyed.close();
    }
  });

  it('builds the SSE URL with filters, resume point and key', () => {
    const url = createRestClient({ url: server.url, apiKey: 'k' }).eventsUrl({
      types: ['server_state_changed'],
      servers: ['a', 'b'],
      since: 3,
      epoch: 'e1',
    });
    expect(url).toBe(
      `${server.url}/api/v1/events?types=server_state_changed&server=a&server=b&since=3&epoch=e1&apikey=k`,
    );
  });
});
