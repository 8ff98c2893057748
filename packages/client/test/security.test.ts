import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError, createRestClient, type RestClient } from '../src/index.js';
import { everything, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let api: RestClient;
beforeAll(async () => {
  server = await startServer({ mcpServers: [everything()] });
  api = createRestClient({ url: server.url });
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
});
afterAll(() => server.close());

describe('the REST client and the tool scanner (issue 13)', () => {
  it('rescans a server: every tool of a real benign server comes back clean', async () => {
    const scan = await api.scanServer('everything');
    expect(scan.scanner).toBe(true);
    expect(scan.block_on).toBe('hard');
    expect(scan.results.length).toBeGreaterThan(3);
    expect(scan.counts).toEqual({ block: 0, review: 0, clean: scan.results.length });
    expect(scan.results.find((r) => r.tool === 'echo')).toMatchObject({ server: 'everything', verdict: 'clean' });
  });

  it('lists findings (none for a benign server) and answers NOT_FOUND for an unknown server', async () => {
    const findings = await api.securityFindings();
    expect(findings).toMatchObject({ scanner: true, results: [] });
    const error = await api.scanServer('nope').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).status).toBe(404);
  });
});
