import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createRestClient, type RestClient } from '../src/index.js';
import { everything, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let api: RestClient;
let cli: RestClient;
beforeAll(async () => {
  server = await startServer({ mcpServers: [everything()] });
  api = createRestClient({ url: server.url });
  cli = createRestClient({ url: server.url, clientName: 'cli' });
  const view = server.running.services.view;
  await new Promise<void>((resolve, reject) => {
    const ready = () => view.server('everything')?.state === 'ready';
    if (ready()) return resolve();
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
  await api.callTool('everything:echo', { message: 'from the api' });
  await cli.callTool('everything:echo', { message: 'from the cli' });
  await server.running.services.activity.log?.flush();
});
afterAll(() => server.close());

describe('the REST client and the activity log (issue 14)', () => {
  it('lists calls with their surface: clientName "cli" marks the CLI', async () => {
    const page = await api.listActivity({ server: 'everything', tool: 'echo', limit: 10 });
    expect(page.records.map((r) => r.surface)).toEqual(['cli', 'rest']);
    expect(page.next_cursor).toBeNull();
    const one = await api.getActivity(page.records[0]?.id as number);
    expect(one.arguments).toBe('{"message":"from the cli"}');
  });

  it('pages with the cursor, counts in stats and streams the export', async () => {
    const first = await api.listActivity({ kind: 'tool_call', limit: 1 });
    expect(first.records).toHaveLength(1);
    const second = await api.listActivity({ kind: 'tool_call', limit: 1, cursor: first.next_cursor as string });
    expect(second.records[0]?.id).toBeLessThan(first.records[0]?.id as number);
    const stats = await api.activityStats({ group_by: 'tool', window: '1h' });
    expect(stats.groups.find((g) => g.key === 'everything:echo')?.calls).toBe(2);
    let text = '';
    for await (const chunk of await api.exportActivity({ kind: 'tool_call', format: 'ndjson' })) text += chunk;
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).surface),
    ).toEqual(['rest', 'cli']);
  });

  it('rejects a malformed filter with BAD_REQUEST', async () => {
    const error = await api.listActivity({ status: 'great' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('BAD_REQUEST');
  });
});
