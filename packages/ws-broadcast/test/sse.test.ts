import { waitFor } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { API_KEY, publishCall, publishState, SseReader, startHub } from './helpers.js';

/** The seq part of an `EPOCH:SEQ` SSE id. */
const seqOf = (id: string | undefined): number => Number(id?.slice(id.lastIndexOf(':') + 1));

describe('SSE /events', () => {
  it('answers text/event-stream with hello first, then events with id = EPOCH:SEQ and event = type', async () => {
    await using hub = await startHub();
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    await using sse = await SseReader.open(hub.http('/events'));
    expect(sse.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(sse.response.headers.get('cache-control')).toContain('no-cache');
    expect(sse.response.headers.get('x-accel-buffering')).toBe('no');
    await sse.waitFor((evs) => evs.length === 1, 'hello');
    const e = hub.bus.epoch;
    expect(sse.events[0]).toMatchObject({ event: 'hello', id: `${e}:1` });
    expect(sse.data('hello')[0]).toMatchObject({ type: 'hello', protocol: 1, seq: 1, recovered: false });

    publishCall(hub.bus, 'beta');
    publishState(hub.bus, 'beta', 'idle', 'ready');
    await sse.waitFor((evs) => evs.length === 3, 'two events');
    expect(sse.events.slice(1).map((e) => [e.id, e.event])).toEqual([
      [`${e}:2`, 'tool_called'],
      [`${e}:3`, 'server_state_changed'],
    ]);
    expect(JSON.parse(sse.events[2]?.data as string)).toMatchObject({ seq: 3, server: 'beta' });
  });

  it('applies the server and types filters from the query, and legacy aliases for legacy=1', async () => {
    await using hub = await startHub();
    await using sse = await SseReader.open(hub.http('/events?server=beta&types=state_change,tool_called&legacy=1'));
    await sse.waitFor((evs) => evs.length === 1, 'hello');
    expect(sse.data('hello')[0].snapshot.servers.map((s: { name: string }) => s.name)).toEqual(['beta']);
    publishCall(hub.bus, 'alpha');
    publishState(hub.bus, 'beta', 'idle', 'ready');
    hub.bus.publish({ type: 'app_state_changed', data: { from: 'running', to: 'degraded' } });
    publishCall(hub.bus, 'beta');
    await sse.waitFor((evs) => evs.length === 3, 'two events');
    expect(sse.events.slice(1).map((e) => [seqOf(e.id), e.event])).toEqual([
      [2, 'state_change'],
      [4, 'tool_called'],
    ]);
  });

  it('gives each reader exactly its own events when a burst is coalesced into shared chunks', async () => {
    await using hub = await startHub();
    const readers = await Promise.all([
      SseReader.open(hub.http('/events')),
      SseReader.open(hub.http('/events')),
      SseReader.open(hub.http('/events?legacy=1')),
      SseReader.open(hub.http('/events?types=tool_called')),
      SseReader.open(hub.http('/events?server=beta')),
    ]);
    await Promise.all(readers.map((r) => r.waitFor((evs) => evs.length === 1, 'hello')));
    // One synchronous burst: every reader's messages of this tick are joined into one chunk.
    for (let i = 0; i < 12; i++) {
      if (i % 3 === 0) publishState(hub.bus, i % 2 ? 'alpha' : 'beta', 'idle', 'ready');
      else publishCall(hub.bus, i % 2 ? 'alpha' : 'beta');
    }
    const [plain, plain2, legacy, calls, beta] = readers as [SseReader, SseReader, SseReader, SseReader, SseReader];
    await Promise.all([plain, plain2, legacy].map((r) => r.waitFor((evs) => evs.length === 13, 'the burst')));
    await calls.waitFor((evs) => evs.length === 9, 'the calls');
    await beta.waitFor((evs) => evs.length === 7, "beta's events");
    const names = (r: SseReader) => r.events.slice(1).map((e) => `${seqOf(e.id)}:${e.event}`);
    const expected = Array.from(
      { length: 12 },
      (_, i) => `${i + 1}:${i % 3 === 0 ? 'server_state_changed' : 'tool_called'}`,
    );
    expect(names(plain)).toEqual(expected);
    expect(names(plain2)).toEqual(expected);
    expect(names(legacy)).toEqual(expected.map((n) => n.replace('server_state_changed', 'state_change')));
    expect(names(calls)).toEqual(expected.filter((n) => n.endsWith('tool_called')));
    expect(
      beta
        .data()
        .slice(1)
        .every((e) => e.server === 'beta'),
    ).toBe(true);
    expect(names(beta)).toEqual(expected.filter((_, i) => i % 2 === 0));
    for (const r of readers) await r.close();
  });

  it('resumes from an EPOCH:SEQ Last-Event-ID through the replay ring, with nothing in the URL', async () => {
    await using hub = await startHub();
    await using first = await SseReader.open(hub.http('/events'));
    publishCall(hub.bus, 'alpha');
    publishCall(hub.bus, 'alpha');
    await first.waitFor((evs) => evs.length === 3, 'two events');
    const lastId = first.events.at(-1)?.id as string;
    expect(lastId).toBe(`${hub.bus.epoch}:2`);
    await first.close();
    await waitFor(() => hub.b.stats().connections.sse === 0, { what: 'the first stream to end' });

    publishCall(hub.bus, 'beta');
    publishState(hub.bus, 'gamma', 'idle', 'ready');
    await using again = await SseReader.open(hub.http('/events'), { headers: { 'last-event-id': lastId } });
    await again.waitFor((evs) => evs.length === 3, 'hello and the two missed events');
    expect(again.events[0]).toMatchObject({ event: 'hello', id: lastId });
    expect(again.data('hello')[0]).toMatchObject({ recovered: true, seq: 4 });
    expect(again.events.slice(1).map((e) => seqOf(e.id))).toEqual([3, 4]);
    publishCall(hub.bus, 'alpha');
    await again.waitFor((evs) => evs.length === 4, 'the live event');
    expect(again.events[3]?.id).toBe(`${hub.bus.epoch}:5`);
    expect(hub.b.stats().replays).toBe(1);
  });

  it('resumes from since and epoch in the URL too, and sends a fresh hello for a bare-number Last-Event-ID', async () => {
    await using hub = await startHub();
    for (let i = 0; i < 3; i++) publishCall(hub.bus, 'alpha');
    await using bySince = await SseReader.open(hub.http(`/events?since=1&epoch=${hub.bus.epoch}`));
    await bySince.waitFor((evs) => evs.length === 3, 'replay');
    expect(bySince.events.map((e) => e.id)).toEqual([1, 2, 3].map((n) => `${hub.bus.epoch}:${n}`));
    await using noEpoch = await SseReader.open(hub.http(`/events?epoch=${hub.bus.epoch}`), {
      headers: { 'last-event-id': '1' },
    });
    await noEpoch.waitFor((evs) => evs.length === 1, 'hello');
    expect(noEpoch.data('hello')[0]).toMatchObject({ recovered: false, seq: 3 });
    expect(noEpoch.events[0]?.id).toBe(`${hub.bus.epoch}:3`);
  });

  it('sends a ": ping" comment every sseKeepaliveMs', async () => {
    await using hub = await startHub({ sseKeepaliveMs: 15_000 });
    await using sse = await SseReader.open(hub.http('/events'));
    await sse.waitFor((evs) => evs.length === 1, 'hello');
    hub.clock?.advance(14_999);
    hub.clock?.advance(1);
    await sse.waitFor((evs) => evs.some((e) => e.comment === 'ping'), 'a keepalive comment');
    hub.clock?.advance(15_000);
    await sse.waitFor((evs) => evs.filter((e) => e.comment === 'ping').length === 2, 'a second keepalive');
  });

  it('ends the stream when the client aborts', async () => {
    await using hub = await startHub();
    const sse = await SseReader.open(hub.http('/events'));
    await sse.waitFor((evs) => evs.length === 1, 'hello');
    expect(hub.b.stats().connections.sse).toBe(1);
    await sse.close();
    await waitFor(() => hub.b.stats().connections.sse === 0, { what: 'the stream to be dropped' });
    publishCall(hub.bus, 'alpha');
    expect(hub.b.stats().delivered).toBe(0);
  });

  it('answers 401 and 403 through the hooks, and 400 for a bad query', async () => {
    await using hub = await startHub({ auth: true });
    const noKey = await fetch(hub.http('/events'));
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const evil = await fetch(hub.http('/events'), { headers: { origin: 'http://evil.example', 'x-api-key': API_KEY } });
    expect(evil.status).toBe(403);
    expect(await evil.json()).toMatchObject({ code: 'FORBIDDEN_ORIGIN' });
    const bad = await fetch(hub.http('/events?types=nope'), { headers: { 'x-api-key': API_KEY } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toContain('unknown event type: nope');
    await using ok = await SseReader.open(hub.http(`/events?apikey=${API_KEY}`));
    await ok.waitFor((evs) => evs.length === 1, 'hello');
  });

  it('drops events for a stalled SSE reader within its limits and sends it a resync once it reads again', async () => {
    const limits = { send_buffer: 32, max_buffered_bytes: 32_768 };
    await using hub = await startHub({ options: limits });
    await using sse = await SseReader.open(hub.http('/events'), { paused: true });
    const pad = 'q'.repeat(2_000);
    let published = 0;
    while (!hub.b.inspect()[0]?.needsResync) {
      for (let i = 0; i < 50; i++) publishCall(hub.bus, 'alpha', `${published++}-${pad}`);
      await new Promise((resolve) => setImmediate(resolve));
      if (published > 200_000) throw new Error('the stalled reader never overflowed');
    }
    const info = hub.b.inspect()[0];
    expect(info?.peakQueued).toBeLessThanOrEqual(limits.send_buffer);
    expect(info?.peakQueuedBytes).toBeLessThanOrEqual(limits.max_buffered_bytes);
    sse.resume();
    const id = (seq: number) => `${hub.bus.epoch}:${seq}`;
    await sse.waitFor((evs) => evs.some((e) => e.event === 'resync' && e.id === id(published)), 'the resync');
    publishCall(hub.bus, 'beta');
    await sse.waitFor((evs) => evs.at(-1)?.id === id(published + 1), 'the next live event');
    // Every gap in the ids is announced by a resync that names the new position.
    let pos = -1;
    const silentGaps: string[] = [];
    for (const e of sse.events) {
      if (e.event === 'hello' || e.event === 'resync') pos = seqOf(e.id);
      else if (e.id !== undefined) {
        if (seqOf(e.id) !== pos + 1) silentGaps.push(`${pos} -> ${e.id}`);
        pos = seqOf(e.id);
      }
    }
    expect(silentGaps).toEqual([]);
    const resyncs = sse.events.filter((e) => e.event === 'resync');
    expect(resyncs.length).toBe(hub.b.stats().resyncs);
    expect(JSON.parse(resyncs.at(-1)?.data as string)).toMatchObject({ type: 'resync', seq: published });
    expect(hub.b.stats().dropped.by_type.tool_called).toBeGreaterThan(0);
  });
});
