import net from 'node:net';
import { makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it, vi } from 'vitest';
import { publishCall, publishState, startHub, TestClient } from './helpers.js';

const hello = (c: TestClient) => c.frame((f) => f.type === 'hello', 'hello');

describe('filters', () => {
  it('sends only the types named in types=', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events?types=tool_called,app_state_changed'));
    await hello(c);
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    publishCall(hub.bus, 'alpha');
    hub.bus.publish({ type: 'app_state_changed', data: { from: 'running', to: 'degraded' } });
    await c.waitFor(() => c.events().length === 2);
    expect(c.events().map((e) => e.type)).toEqual(['tool_called', 'app_state_changed']);
  });

  it('changes filters at runtime with the subscribe op and acknowledges it', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await hello(c);
    c.send(JSON.stringify({ op: 'subscribe', types: ['tool_called'], servers: ['beta'] }));
    const ack = await c.frame((f) => f.type === 'subscribed');
    expect(ack).toEqual({ type: 'subscribed', types: ['tool_called'], servers: ['beta'] });
    publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'beta', 'idle', 'ready');
    publishCall(hub.bus, 'beta');
    await c.waitFor(() => c.events().length === 1);
    expect(c.events()[0]).toMatchObject({ type: 'tool_called', server: 'beta', seq: 3 });

    c.send(JSON.stringify({ op: 'subscribe', types: [], servers: [] }));
    expect(await c.frame((f) => f.type === 'subscribed' && f.types === null)).toEqual({
      type: 'subscribed',
      types: null,
      servers: null,
    });
    publishState(hub.bus, 'gamma', 'idle', 'ready');
    await c.waitFor(() => c.events().length === 2);
    expect(c.events()[1]).toMatchObject({ type: 'server_state_changed', server: 'gamma' });
  });

  it('sends legacy aliases only to clients that ask with legacy=1', async () => {
    await using hub = await startHub();
    await using modern = await TestClient.open(hub.ws('/ws/events'));
    await using legacy = await TestClient.open(hub.ws('/ws/events?legacy=1'));
    await using legacyFiltered = await TestClient.open(hub.ws('/ws/events?legacy=1&types=config_change'));
    await Promise.all([hello(modern), hello(legacy), hello(legacyFiltered)]);
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    hub.bus.publish({
      type: 'server_config_changed',
      server: 'alpha',
      data: { change: 'updated', summary: makeSummary('alpha', { state: 'ready' }) },
    });
    publishCall(hub.bus, 'alpha');
    await Promise.all([modern, legacy].map((c) => c.waitFor(() => c.events().length === 3)));
    await legacyFiltered.waitFor(() => legacyFiltered.events().length === 1);
    expect(modern.events().map((e) => e.type)).toEqual([
      'server_state_changed',
      'server_config_changed',
      'tool_called',
    ]);
    expect(legacy.events().map((e) => e.type)).toEqual(['state_change', 'config_change', 'tool_called']);
    expect(legacy.events()[0]).toMatchObject({ seq: 1, data: { from: 'idle', to: 'ready' } });
    expect(legacyFiltered.events()[0]).toMatchObject({ type: 'config_change', seq: 2 });
  });
});

describe('client ops', () => {
  it('answers {"op":"ping"} with {"type":"pong"} and the text ping with pong', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await hello(c);
    c.send('{"op":"ping"}');
    expect(await c.frame((f) => f?.type === 'pong')).toEqual({ type: 'pong' });
    c.send('ping');
    expect(await c.frame((f) => f === 'pong')).toBe('pong');
  });

  it('answers bad JSON, unknown ops and invalid subscribes with error frames and keeps the connection', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await hello(c);
    c.send('{not json');
    expect(await c.frame((f) => f?.type === 'error')).toMatchObject({ type: 'error', code: 'BAD_JSON' });
    c.send('{"op":"explode"}');
    expect(await c.frame((f) => f?.code === 'UNKNOWN_OP')).toMatchObject({
      message: expect.stringContaining('explode'),
    });
    c.send('[1,2]');
    await c.waitFor((fs) => fs.filter((f) => f?.code === 'UNKNOWN_OP').length === 2);
    c.send('{"op":"subscribe","types":["bogus"]}');
    expect(await c.frame((f) => f?.code === 'BAD_REQUEST')).toMatchObject({ type: 'error' });
    publishCall(hub.bus, 'alpha');
    await c.waitFor(() => c.events().length === 1);
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('refuses to empty the server list of a /ws/servers client', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/servers?server=alpha'));
    await hello(c);
    c.send('{"op":"subscribe","servers":[]}');
    expect(await c.frame((f) => f?.type === 'error')).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('closes with 1009 when a client frame exceeds max_message_size', async () => {
    await using hub = await startHub({ options: { max_message_size: 1024 } });
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await hello(c);
    c.send(JSON.stringify({ op: 'ping', pad: 'x'.repeat(2000) }));
    expect((await c.closed()).code).toBe(1009);
  });
});

describe('batching', () => {
  it('sends one batch frame per batch_window when batch_window > 0', async () => {
    await using hub = await startHub({ options: { batch_window: 50 } });
    await using c = await TestClient.open(hub.ws('/ws/events'));
    await using filtered = await TestClient.open(hub.ws('/ws/events?types=tool_called'));
    await Promise.all([hello(c), hello(filtered)]);
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    publishCall(hub.bus, 'alpha');
    publishCall(hub.bus, 'beta');
    hub.clock?.advance(50);
    const batch = await c.frame((f) => f.type === 'batch');
    expect(batch.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    const fb = await filtered.frame((f) => f.type === 'batch');
    expect(fb.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3]);
    publishCall(hub.bus, 'gamma');
    hub.clock?.advance(50);
    await c.waitFor(() => c.frames.filter((f) => f.type === 'batch').length === 2);
    expect(c.frames.filter((f) => f.type !== 'batch' && f.type !== 'hello')).toEqual([]);
    expect(c.events().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('serialisation', () => {
  it('serialises and frames each event once and writes the same buffer to every client', async () => {
    await using hub = await startHub();
    const clients = await Promise.all(Array.from({ length: 5 }, () => TestClient.open(hub.ws('/ws/events'))));
    await Promise.all(clients.map(hello));
    const write = vi.spyOn(net.Socket.prototype, 'write');
    const stringify = vi.spyOn(JSON, 'stringify');
    const marker = 'marker-tool-7d1f';
    const ev = publishCall(hub.bus, 'alpha', marker);
    await Promise.all(clients.map((c) => c.waitFor(() => c.events().length === 1)));
    const written = write.mock.calls
      .map((args) => args[0])
      .filter((chunk): chunk is Buffer => Buffer.isBuffer(chunk) && chunk.includes(marker));
    expect(written).toHaveLength(5);
    expect(new Set(written).size).toBe(1);
    expect(stringify.mock.calls.filter((args) => args[0] === ev)).toHaveLength(1);
    for (const c of clients) {
      expect(c.events()[0]).toMatchObject({ seq: ev.seq, data: { tool: marker } });
      await c.close();
    }
  });
});

describe('stats', () => {
  it('counts every event handed to a client as delivered, and nothing as dropped for clients that keep up', async () => {
    await using hub = await startHub();
    const clients = await Promise.all([
      TestClient.open(hub.ws('/ws/events')),
      TestClient.open(hub.ws('/ws/events?types=tool_called')),
      TestClient.open(hub.ws('/ws/servers?server=beta')),
    ]);
    await Promise.all(clients.map(hello));
    publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'beta', 'idle', 'ready');
    publishCall(hub.bus, 'beta');
    const [all, calls, beta] = clients as [TestClient, TestClient, TestClient];
    await all.waitFor(() => all.events().length === 3);
    await calls.waitFor(() => calls.events().length === 2);
    await beta.waitFor(() => beta.events().length === 2);
    expect(hub.b.stats()).toMatchObject({
      delivered: 7,
      dropped: { total: 0, by_type: {} },
      resyncs: 0,
      replays: 0,
    });
    for (const c of clients) await c.close();
  });
});

describe('permessage-deflate', () => {
  it('negotiates compression when enabled and still delivers every frame', async () => {
    await using hub = await startHub({ options: { permessage_deflate: true } });
    await using c = await TestClient.open(hub.ws('/ws/events'));
    expect(c.ws.extensions).toContain('permessage-deflate');
    await hello(c);
    for (let i = 0; i < 20; i++) publishCall(hub.bus, 'alpha', `tool-${i}-${'y'.repeat(1500)}`);
    await c.waitFor(() => c.events().length === 20);
    expect(c.events().map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    c.send('{"op":"ping"}');
    await c.frame((f) => f?.type === 'pong');
  });

  it('does not negotiate compression when disabled', async () => {
    await using hub = await startHub();
    await using c = await TestClient.open(hub.ws('/ws/events'));
    expect(c.ws.extensions).toBe('');
  });
});
