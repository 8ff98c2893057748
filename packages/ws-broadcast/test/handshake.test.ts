import { waitFor } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { API_KEY, publishCall, publishState, rawRequest, startHub, TestClient, upgradeRequest } from './helpers.js';

describe('hello', () => {
  it('sends hello with the snapshot, epoch and seq as the first frame', async () => {
    await using hub = await startHub();
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    await using c = await TestClient.open(hub.ws('/ws/events'));
    const hello = await c.frame((f) => f.type === 'hello');
    expect(c.frames[0]).toBe(hello);
    expect(hello).toMatchObject({ type: 'hello', protocol: 1, epoch: hub.bus.epoch, seq: 1, recovered: false });
    expect(hello.snapshot.app).toMatchObject({ state: 'running', version: 'test' });
    expect(hello.snapshot.servers.map((s: { name: string }) => s.name)).toEqual(['alpha', 'beta', 'gamma']);
    expect(hello.snapshot.servers[0].state).toBe('ready');
  });

  it('follows hello with live events in seq order', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await c.frame((f) => f.type === 'hello');
    publishState(hub.bus, 'alpha', 'idle', 'connecting');
    publishCall(hub.bus, 'beta');
    publishState(hub.bus, 'alpha', 'connecting', 'ready');
    await c.waitFor(() => c.events().length === 3);
    expect(c.events().map((e) => [e.seq, e.type, e.server])).toEqual([
      [1, 'server_state_changed', 'alpha'],
      [2, 'tool_called', 'beta'],
      [3, 'server_state_changed', 'alpha'],
    ]);
    expect(c.events()[2]).toMatchObject({ epoch: hub.bus.epoch, data: { to: 'ready', summary: { state: 'ready' } } });
  });

  it('counts connections by endpoint in stats()', async () => {
    await using hub = await startHub();
    await using a = await TestClient.open(hub.ws('/ws/events'));
    await using b = await TestClient.open(hub.ws('/ws/servers?server=alpha'));
    await using m = await TestClient.open(hub.ws('/ws/mcp-status'));
    await Promise.all([a, b, m].map((c) => c.waitFor((f) => f.length > 0)));
    expect(hub.b.stats().connections).toEqual({ events: 1, servers: 1, mcp_status: 1, sse: 0 });
    await b.close();
    await waitFor(() => hub.b.stats().connections.servers === 0, { what: 'servers connection to go' });
    expect(hub.b.stats().connections).toEqual({ events: 1, servers: 0, mcp_status: 1, sse: 0 });
  });
});

describe('/ws/servers', () => {
  it('answers 400 before the upgrade when no server= is given', async () => {
    await using hub = await startHub();
    const res = await rawRequest(hub.port, upgradeRequest('/ws/servers', []));
    expect(res).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(res).not.toContain('101');
    expect(JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
  });

  it('holds only the selected servers in the snapshot and sends only their events', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/servers?server=alpha&server=gamma'));
    const hello = await c.frame((f) => f.type === 'hello');
    expect(hello.snapshot.servers.map((s: { name: string }) => s.name)).toEqual(['alpha', 'gamma']);
    publishCall(hub.bus, 'beta');
    publishCall(hub.bus, 'alpha');
    hub.bus.publish({ type: 'app_state_changed', data: { from: 'running', to: 'degraded' } });
    publishCall(hub.bus, 'gamma');
    await c.waitFor(() => c.events().length === 2);
    expect(c.events().map((e) => e.server)).toEqual(['alpha', 'gamma']);
  });
});

describe('upgrade refusals', () => {
  it('answers 404 on the socket for an unknown path', async () => {
    await using hub = await startHub();
    const res = await rawRequest(hub.port, upgradeRequest('/ws/nope', []));
    expect(res).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it('answers 400 with a clear message for an unknown event type', async () => {
    await using hub = await startHub();
    const res = await rawRequest(hub.port, upgradeRequest('/ws/events?types=tool_called,bogus', []));
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4));
    expect(body.detail).toContain('unknown event type: bogus');
  });

  it('answers 400 for a malformed since', async () => {
    await using hub = await startHub();
    const res = await rawRequest(hub.port, upgradeRequest('/ws/events?since=-3&epoch=x', []));
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('never sends 101 to a raw upgrade without an API key (401)', async () => {
    await using hub = await startHub({ auth: true });
    const res = await rawRequest(hub.port, upgradeRequest('/ws/events', []));
    expect(res).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(res).not.toMatch(/101 Switching Protocols/);
    expect(res).toContain('"code":"UNAUTHORIZED"');
  });

  it('never sends 101 to a raw upgrade without a Sec-WebSocket-Key', async () => {
    await using hub = await startHub({ auth: true });
    const res = await rawRequest(hub.port, upgradeRequest('/ws/events', [`X-API-Key: ${API_KEY}`], false));
    expect(res).toMatch(/^HTTP\/1\.1 400 /);
    expect(res).not.toMatch(/101 Switching Protocols/);
    const noKeyNoAuth = await rawRequest(hub.port, upgradeRequest('/ws/events', [], false));
    expect(noKeyNoAuth).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('never sends 101 to a raw upgrade from a foreign Origin (403), even with a valid key', async () => {
    await using hub = await startHub({ auth: true });
    const res = await rawRequest(
      hub.port,
      upgradeRequest('/ws/events', ['Origin: http://evil.example', `Authorization: Bearer ${API_KEY}`]),
    );
    expect(res).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(res).not.toMatch(/101 Switching Protocols/);
    expect(res).toContain('"code":"FORBIDDEN_ORIGIN"');
    expect(hub.b.stats().connections.events).toBe(0);
  });

  it('accepts the key as Bearer, X-API-Key or ?apikey= through the app hook', async () => {
    await using hub = await startHub({ auth: true });
    const bearer = await TestClient.open(hub.ws('/ws/events'), { headers: { authorization: `Bearer ${API_KEY}` } });
    const header = await TestClient.open(hub.ws('/ws/events'), { headers: { 'x-api-key': API_KEY } });
    const query = await TestClient.open(hub.ws(`/ws/events?apikey=${API_KEY}`), {
      headers: { origin: `http://127.0.0.1:${hub.port}` },
    });
    for (const c of [bearer, header, query]) {
      await c.frame((f) => f.type === 'hello');
      await c.close();
    }
    await expect(TestClient.open(hub.ws('/ws/events?apikey=wrong'))).rejects.toThrow('unexpected response 401');
  });

  it('waits for an async authorize hook before upgrading', async () => {
    let release!: (ok: boolean) => void;
    const decision = new Promise<boolean>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    await using hub = await startHub({
      authorize: () => {
        calls++;
        return decision;
      },
    });
    const opening = TestClient.open(hub.ws('/ws/events'));
    await waitFor(() => calls === 1, { what: 'the hook to be called' });
    expect(hub.b.stats().connections.events).toBe(0);
    release(true);
    await using c = await opening;
    await c.frame((f) => f.type === 'hello');
  });
});
