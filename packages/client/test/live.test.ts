import type { BusEvent } from '@mcpproxy/contracts';
import { createFakeClock } from '@mcpproxy/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  createLiveClient,
  createRestClient,
  type LiveClient,
  type LiveClientOptions,
  type ResetReason,
  reconnectDelay,
} from '../src/index.js';
import { startServer, until } from './helpers.js';

/** `ws` with every socket kept, so a test can see the URLs and cut a connection from the client's side. */
function recordingSocket() {
  const sockets: WebSocket[] = [];
  class Recording extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: Recording, sockets };
}

/** A fetch that counts the polls of `/api/v1/servers`. */
function countingFetch() {
  const polls: string[] = [];
  const fn: typeof fetch = (input, init) => {
    const url = String(input);
    if (url.endsWith('/api/v1/servers')) polls.push(url);
    return fetch(input, init);
  };
  return { fetch: fn, polls };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(config: Record<string, unknown> = {}, extra: Partial<LiveClientOptions> = {}) {
  const server = await startServer(config);
  cleanups.push(() => server.close());
  const clock = createFakeClock();
  const recording = recordingSocket();
  const counting = countingFetch();
  const live = createLiveClient({
    url: server.url,
    WebSocket: recording.WebSocket,
    fetch: counting.fetch,
    clock,
    random: () => 0.5, // no spread: delays are exactly 1, 2, 4, 8, 16, 32 s
    ...extra,
  });
  cleanups.push(() => live.close());
  const resets: ResetReason[] = [];
  live.onReset((r) => resets.push(r));
  const events: BusEvent[] = [];
  live.onEvent((e) => events.push(e));
  const api = createRestClient({ url: server.url });
  return { server, clock, live, api, resets, events, ...recording, ...counting };
}

const names = (live: LiveClient) => live.servers.get().map((s) => s.name);

/** Waits until attempt `n` failed and the next one is scheduled. */
const failedAttempt = (live: LiveClient, n: number) =>
  until(live.connection, (c) => c.attempts === n && c.retryAt !== null);

describe('reconnectDelay', () => {
  it('goes 1, 2, 4, 8, 16, 32 s and stays at 32 s, spread by at most ±20 %', () => {
    const middle = [0, 1, 2, 3, 4, 5, 6, 9].map((f) => reconnectDelay(f, { random: () => 0.5 }));
    expect(middle).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 32_000, 32_000]);
    expect(reconnectDelay(0, { random: () => 0 })).toBe(800);
    expect(reconnectDelay(5, { random: () => 0.999_999 })).toBe(38_400);
  });
});

describe('createLiveClient against a real server', () => {
  it('loads the hello snapshot, applies events made through REST, and never polls while the socket is up', async () => {
    const { live, api, clock, polls, resets, events } = await setup({
      mcpServers: [{ name: 'alpha', command: 'true', quarantined: true }],
    });
    await until(live.status, (s) => s === 'live');
    expect(names(live)).toEqual(['alpha']);
    expect(resets).toEqual(['fresh']);

    await api.addServer({ name: 'beta', command: 'true' });
    const rows = await until(live.servers, (s) => s.some((r) => r.name === 'beta'));
    expect(rows.find((r) => r.name === 'beta')).toMatchObject({ quarantined: true, state: 'quarantined' });
    expect(Object.isFrozen(rows)).toBe(true);
    expect(events.some((e) => e.type === 'server_config_changed' && e.server === 'beta')).toBe(true);

    await clock.advanceAsync(10 * 60_000);
    expect(live.status.get()).toBe('live');
    expect(polls).toEqual([]);
  });

  it('resumes with since/epoch after a drop and replays the missed events without a gap', async () => {
    const { live, api, clock, sockets, resets, events } = await setup();
    const first = await until(live.connection, (c) => c.status === 'live');
    sockets[0]?.terminate();
    await until(live.status, (s) => s === 'reconnecting');

    await api.addServer({ name: 'missed', command: 'true' });
    await clock.advanceAsync(1_000);
    await until(live.status, (s) => s === 'live');
    const resumeUrl = new URL(sockets[1]?.url ?? '');
    expect(resumeUrl.searchParams.get('epoch')).toBe(first.epoch);
    expect(resumeUrl.searchParams.get('since')).toBe(String(first.seq));
    expect(names(live)).toEqual(['missed']);
    expect(resets).toEqual(['fresh']); // patched by the replayed events, not replaced
    const seqs = events.map((e) => e.seq);
    expect(seqs[0]).toBe((first.seq ?? 0) + 1);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('survives a server restart: backs off 1..32 s, polls every 30 s, then goes live on the new epoch', async () => {
    const { server, live, clock, polls, resets } = await setup({
      mcpServers: [{ name: 'old', command: 'true', quarantined: true }],
    });
    const first = await until(live.connection, (c) => c.status === 'live');
    await server.stop();
    await until(live.status, (s) => s === 'reconnecting');
    expect(live.connection.get().retryAt).toBe(clock.now() + 1_000);

    const delays = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];
    for (const [i, delay] of delays.entries()) {
      expect(live.status.get()).toBe('reconnecting');
      expect(polls).toEqual([]);
      await clock.advanceAsync(delay);
      await failedAttempt(live, i + 1);
    }
    // Every delay has passed: polling starts at once, and the socket is still retried every 32 s.
    expect(live.status.get()).toBe('polling');
    expect(live.connection.get().retryAt).toBe(clock.now() + 32_000);
    await until(live.connection, () => polls.length === 1);

    await server.start({ mcpServers: [{ name: 'new', command: 'true', quarantined: true }] });
    await clock.advanceAsync(30_000); // the poll comes before the next socket attempt
    await until(live.servers, (rows) => rows.some((r) => r.name === 'new'));
    expect(polls.length).toBe(2);
    expect(live.status.get()).toBe('polling');

    await clock.advanceAsync(2_000);
    const back = await until(live.connection, (c) => c.status === 'live');
    expect(back.epoch).not.toBe(first.epoch);
    expect(names(live)).toEqual(['new']);
    // The first poll found the server down; the second replaced the copy; the new hello replaced it again.
    expect(resets).toEqual(['fresh', 'poll', 'fresh']);

    const pollsWhenLive = polls.length;
    await clock.advanceAsync(5 * 60_000);
    expect(polls.length).toBe(pollsWhenLive);
  });

  it('close() cancels every timer, closes the socket and stops telling listeners', async () => {
    const { server, live, clock, sockets } = await setup();
    await until(live.status, (s) => s === 'live');
    await server.stop();
    await until(live.status, (s) => s === 'reconnecting');
    const seen: unknown[] = [];
    live.status.subscribe((s) => seen.push(s));
    live.close();
    live.close();
    expect(clock.pending()).toBe(0);
    await clock.advanceAsync(120_000);
    expect(sockets.length).toBe(1);
    expect(seen).toEqual([]);
  });

  it('closes a socket that is still connecting', async () => {
    const { live, sockets } = await setup();
    live.close();
    const socket = sockets[0] as WebSocket;
    await new Promise<void>((resolve) => {
      if (socket.readyState === WebSocket.CLOSED) resolve();
      else socket.once('close', () => resolve());
    });
    expect(socket.readyState).toBe(WebSocket.CLOSED);
  });
});
