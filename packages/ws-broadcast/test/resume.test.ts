import type { StateView } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import { gaps, publishCall, publishState, startHub, TestClient } from './helpers.js';

const hello = (c: TestClient) => c.frame((f) => f.type === 'hello', 'hello');

describe('resume', () => {
  it('replays the missed events after hello with recovered:true, then goes live with no gap or duplicate', async () => {
    await using hub = await startHub();
    for (let i = 0; i < 5; i++) publishCall(hub.bus, 'alpha');
    const first = await TestClient.open(hub.ws('/ws/events'));
    expect((await hello(first)).seq).toBe(5);
    publishCall(hub.bus, 'alpha');
    await first.waitFor(() => first.events().length === 1);
    const lastSeen = first.events()[0].seq as number;
    await first.close();

    for (let i = 0; i < 4; i++) publishCall(hub.bus, 'beta');
    await using again = await TestClient.open(hub.ws(`/ws/events?since=${lastSeen}&epoch=${hub.bus.epoch}`));
    const h = await hello(again);
    expect(h).toMatchObject({ recovered: true, seq: 10, epoch: hub.bus.epoch });
    await again.waitFor(() => again.events().length === 4);
    publishState(hub.bus, 'gamma', 'idle', 'ready');
    await again.waitFor(() => again.events().length === 5);
    const seqs = again.events().map((e) => e.seq as number);
    expect(seqs).toEqual([7, 8, 9, 10, 11]);
    expect(again.frames[0].type).toBe('hello');
    expect(hub.b.stats().replays).toBe(1);
  });

  it('filters replayed events like live ones', async () => {
    await using hub = await startHub();
    publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'beta', 'idle', 'ready');
    publishCall(hub.bus, 'beta');
    await using c = await TestClient.open(
      hub.ws(`/ws/servers?server=beta&types=tool_called&since=0&epoch=${hub.bus.epoch}`),
    );
    expect((await hello(c)).recovered).toBe(true);
    await c.waitFor(() => c.events().length === 1);
    expect(c.events()[0]).toMatchObject({ seq: 3, server: 'beta', type: 'tool_called' });
  });

  it('sends a fresh snapshot with recovered:false when the ring no longer covers the resume point', async () => {
    await using hub = await startHub({ replayBuffer: 8 });
    for (let i = 0; i < 20; i++) publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    await using c = await TestClient.open(hub.ws(`/ws/events?since=3&epoch=${hub.bus.epoch}`));
    const h = await hello(c);
    expect(h).toMatchObject({ recovered: false, seq: 21 });
    expect(h.snapshot.servers[0]).toMatchObject({ name: 'alpha', state: 'ready' });
    publishCall(hub.bus, 'beta');
    await c.waitFor(() => c.events().length === 1);
    expect(c.events()[0].seq).toBe(22);
    expect(hub.b.stats().replays).toBe(0);
  });

  it('sends a fresh snapshot when the epoch differs (the process restarted) or is missing', async () => {
    await using hub = await startHub();
    for (let i = 0; i < 3; i++) publishCall(hub.bus, 'alpha');
    await using other = await TestClient.open(hub.ws('/ws/events?since=1&epoch=some-older-epoch'));
    expect(await hello(other)).toMatchObject({ recovered: false, seq: 3 });
    await using none = await TestClient.open(hub.ws('/ws/events?since=1'));
    expect(await hello(none)).toMatchObject({ recovered: false, seq: 3 });
    await using future = await TestClient.open(hub.ws(`/ws/events?since=99&epoch=${hub.bus.epoch}`));
    expect(await hello(future)).toMatchObject({ recovered: false, seq: 3 });
    publishCall(hub.bus, 'alpha');
    for (const c of [other, none, future]) {
      await c.waitFor(() => c.events().length === 1);
      expect(gaps([3, ...c.events().map((e) => e.seq as number)])).toEqual([]);
    }
  });

  it('resumes at the current seq with recovered:true and nothing to replay', async () => {
    await using hub = await startHub();
    publishCall(hub.bus, 'alpha');
    await using c = await TestClient.open(hub.ws(`/ws/events?since=1&epoch=${hub.bus.epoch}`));
    expect(await hello(c)).toMatchObject({ recovered: true, seq: 1 });
    publishCall(hub.bus, 'alpha');
    await c.waitFor(() => c.events().length === 1);
    expect(c.events()[0].seq).toBe(2);
  });

  it('catches a client up from the ring when the view lags the bus', async () => {
    let frozen: ReturnType<StateView['snapshot']> | undefined;
    await using hub = await startHub({
      wrapView: (view) => ({ snapshot: () => frozen ?? view.snapshot() }),
    });
    publishCall(hub.bus, 'alpha');
    frozen = hub.view.snapshot();
    publishState(hub.bus, 'beta', 'idle', 'ready');
    publishCall(hub.bus, 'beta');
    await using c = await TestClient.open(hub.ws('/ws/events'));
    expect(await hello(c)).toMatchObject({ seq: 1, recovered: false });
    await c.waitFor(() => c.events().length === 2);
    publishCall(hub.bus, 'gamma');
    await c.waitFor(() => c.events().length === 3);
    expect(c.events().map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it('sends replayed events as one batch frame when batching', async () => {
    await using hub = await startHub({ options: { batch_window: 20 } });
    for (let i = 0; i < 4; i++) publishCall(hub.bus, 'alpha');
    await using c = await TestClient.open(hub.ws(`/ws/events?since=1&epoch=${hub.bus.epoch}`));
    expect((await hello(c)).recovered).toBe(true);
    const batch = await c.frame((f) => f.type === 'batch');
    expect(batch.events.map((e: { seq: number }) => e.seq)).toEqual([2, 3, 4]);
  });
});
