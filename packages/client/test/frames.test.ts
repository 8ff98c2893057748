import type { ServerSummary } from '@mcpproxy/contracts';
import { createFakeClock } from '@mcpproxy/contracts';
import { makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import { ClientError, createLiveClient, createRestClient, type ResetReason } from '../src/index.js';

// The real-server tests (live.test.ts) cover reconnects against mcpproxy itself; these drive frames the server sends
// only under load (resync, batch) or never (a silent socket), through a scripted socket.

class ScriptedSocket {
  static all: ScriptedSocket[] = [];
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  closedWith: number | undefined;
  constructor(readonly url: string) {
    ScriptedSocket.all.push(this);
  }
  receive(frame: unknown): void {
    (this.onmessage as ((e: { data: string }) => void) | null)?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    (this.onclose as ((e: { code: number }) => void) | null)?.({ code });
  }
  close(code?: number): void {
    this.closedWith = code ?? 1000;
  }
}

const row = (name: string, extra: Partial<ServerSummary> = {}): ServerSummary => ({ ...makeSummary(name), ...extra });
const app = { state: 'running' as const, started_at: null, version: '1.0.0' };
const hello = (seq: number, servers: ServerSummary[], epoch = 'e1', recovered = false) => ({
  type: 'hello',
  protocol: 1,
  epoch,
  seq,
  snapshot: { servers, app },
  recovered,
});
const changed = (seq: number, summary: ServerSummary) => ({
  seq,
  epoch: 'e1',
  type: 'server_state_changed',
  server: summary.name,
  time: '2026-01-01T00:00:00.000Z',
  data: { from: 'idle', to: summary.state, reason: 'test', retry_count: 0, summary },
});

function setup() {
  ScriptedSocket.all = [];
  const clock = createFakeClock();
  const live = createLiveClient({
    url: 'http://127.0.0.1:9',
    apiKey: 'k y',
    WebSocket: ScriptedSocket,
    clock,
    random: () => 0.5,
    fetch: () => Promise.reject(new Error('no polls here')),
  });
  const resets: ResetReason[] = [];
  live.onReset((r) => resets.push(r));
  const seqs: number[] = [];
  live.onEvent((e) => seqs.push(e.seq));
  return { live, clock, resets, seqs, socket: () => ScriptedSocket.all.at(-1) as ScriptedSocket };
}

describe('live client frames', () => {
  it('puts the key on the socket URL', () => {
    const { live, socket } = setup();
    expect(socket().url).toBe('ws://127.0.0.1:9/ws/events?apikey=k%20y');
    live.close();
  });

  it('applies batches in order and skips events it already has', () => {
    const { live, socket, seqs } = setup();
    socket().receive(hello(5, [row('a')]));
    socket().receive({
      type: 'batch',
      events: [changed(5, row('a', { state: 'error' })), changed(6, row('a', { state: 'ready' }))],
    });
    socket().receive(changed(6, row('a', { state: 'error' })));
    expect(seqs).toEqual([6]);
    expect(live.servers.get()[0]?.state).toBe('ready');
    expect(live.connection.get().seq).toBe(6);
    live.close();
  });

  it('replaces the copy on resync and says so', () => {
    const { live, socket, resets } = setup();
    socket().receive(hello(1, [row('a'), row('b')]));
    socket().receive({ type: 'resync', epoch: 'e1', seq: 40, snapshot: { servers: [row('c')], app }, dropped: 12 });
    expect(live.servers.get().map((s) => s.name)).toEqual(['c']);
    expect(live.connection.get().seq).toBe(40);
    expect(resets).toEqual(['fresh', 'resync']);
    live.close();
  });

  it('ignores control frames, junk and unknown shapes', () => {
    const { live, socket, seqs } = setup();
    socket().receive(hello(1, [row('a')]));
    const before = live.servers.get();
    socket().receive({ type: 'pong' });
    socket().receive({ type: 'error', code: 'BAD_JSON', message: 'x' });
    (socket().onmessage as ((e: { data: string }) => void) | null)?.({ data: 'not json' });
    socket().receive([1, 2]);
    expect(live.servers.get()).toBe(before);
    expect(seqs).toEqual([]);
    live.close();
  });

  it('gives up an attempt that brings no hello within connectTimeoutMs and retries', async () => {
    const { live, clock, socket } = setup();
    const first = socket();
    await clock.advanceAsync(10_000);
    expect(first.closedWith).toBe(1000);
    expect(live.connection.get()).toMatchObject({ status: 'reconnecting', lastError: 'no hello within 10000 ms' });
    await clock.advanceAsync(1_000);
    expect(ScriptedSocket.all).toHaveLength(2);
    live.close();
  });

  it('resumes from the last seq of the same epoch, and keeps its copy on a recovered hello', async () => {
    const { live, clock, socket, resets } = setup();
    socket().receive(hello(3, [row('a')]));
    socket().receive(changed(4, row('a', { state: 'ready' })));
    socket().drop();
    await clock.advanceAsync(1_000);
    const url = new URL(socket().url);
    expect([url.searchParams.get('since'), url.searchParams.get('epoch')]).toEqual(['4', 'e1']);
    socket().receive(hello(9, [row('zzz')], 'e1', true)); // the snapshot is not applied: the events follow
    socket().receive(changed(5, row('a', { state: 'error' })));
    expect(live.servers.get().map((s) => [s.name, s.state])).toEqual([['a', 'error']]);
    expect(resets).toEqual(['fresh']);
    live.close();
  });

  it('isolates a throwing listener', () => {
    const errors: unknown[] = [];
    ScriptedSocket.all = [];
    const live = createLiveClient({
      url: 'http://127.0.0.1:9',
      WebSocket: ScriptedSocket,
      clock: createFakeClock(),
      onListenerError: (e) => errors.push(e),
    });
    const seen: string[] = [];
    live.status.subscribe(() => {
      throw new Error('boom');
    });
    live.status.subscribe((s) => seen.push(s));
    (ScriptedSocket.all[0] as ScriptedSocket).receive(hello(1, []));
    expect(seen).toEqual(['live']);
    expect(errors).toHaveLength(1);
    live.close();
  });
});

describe('REST client timeouts', () => {
  it('fails with TIMEOUT when no answer comes within timeoutMs (fake clock)', async () => {
    const clock = createFakeClock();
    const hanging = (_url: string, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      });
    const api = createRestClient({ url: 'http://127.0.0.1:9', fetch: hanging, clock, timeoutMs: 5_000 });
    const pending = api.status().catch((e: unknown) => e);
    await clock.advanceAsync(5_000);
    const error = (await pending) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe('TIMEOUT');
    expect(clock.pending()).toBe(0);
  });

  it('says BAD_RESPONSE for an answer that does not match the API', async () => {
    const api = createRestClient({
      url: 'http://127.0.0.1:9',
      fetch: async () => new Response(JSON.stringify({ servers: 'nope' }), { status: 200 }),
    });
    await expect(api.listServers()).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 200 });
  });
});
