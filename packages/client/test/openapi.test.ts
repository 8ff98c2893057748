import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REST_ROUTES } from '../src/index.js';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('the REST client and the server OpenAPI document', () => {
  it('agree on every (method, path): each documented route has a client method and each method a route', async () => {
    const response = await fetch(`${server.url}/api/v1/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        if (['get', 'post', 'put', 'patch', 'delete'].includes(method))
          documented.add(`${method.toUpperCase()} ${path}`);
      }
    }
    const client = new Set(Object.values(REST_ROUTES).map((r) => `${r.method} ${r.path}`));
    expect([...documented].filter((r) => !client.has(r)).sort(), 'routes without a client method').toEqual([]);
    expect([...client].filter((r) => !documented.has(r)).sort(), 'client methods without a route').toEqual([]);
    expect(client.size).toBe(Object.keys(REST_ROUTES).length);
  });
});
