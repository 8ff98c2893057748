import { EVENT_TYPES } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { createStateView } from '@mcpproxy/stateview';
import { createWaitList, waitFor } from '@mcpproxy/testkit';
import { EventSource, type FetchLike } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { BroadcastError, createBroadcaster } from '../src/index.js';
import { type Frame, type Hub, publishCall, publishState, SseReader, startHub } from './helpers.js';

/** One message as an `EventSource` listener sees it. */
interface Received {
  event: string;
  /** `MessageEvent.lastEventId`: the `id:` of this message. */
  id: string;
  data: Frame;
}

/**
 * The `eventsource` package (the WHATWG `EventSource` for Node) recording every message, and every request it makes:
 * it reconnects on its own after a dropped or ended stream and sends the last `id:` it saw as `Last-Event-ID`, as a
 * browser does. Its requests go through a `fetch` the test can hold, so events can be published while the client is
 * known to be away and the reconnect happens exactly when the test lets it.
 */
class BrowserSse implements AsyncDisposable {
  readonly received: Received[] = [];
  /** The `Last-Event-ID` of each request, in order (`null` when the header was not sent). */
  readonly requests: (string | null)[] = [];
  readonly es: EventSource;
  readonly #waits = createWaitList();
  #gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(url: string) {
    const gatedFetch: FetchLike = async (input, init) => {
      this.requests.push(init.headers['Last-Event-ID'] ?? null);
      this.#waits.notify();
      if (this.#gate) await this.#gate.promise;
      const response = await fetch(input, init);
      if (response.status !== 200 || !response.body) return response;
      // `retry: 1` only shortens the client's default 3 s reconnect delay; browsers honour the same field.
      const retry = new TextEncoder().encode('retry: 1\n\n');
      const body = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          start(controller) {
            controller.enqueue(retry);
          },
        }),
      );
      return new Response(body, { status: response.status, headers: response.headers });
    };
    this.es = new EventSource(url, { fetch: gatedFetch });
    for (const type of ['hello', 'resync', ...EVENT_TYPES]) {
      this.es.addEventListener(type, (ev: MessageEvent) => {
        this.received.push({ event: type, id: ev.lastEventId, data: JSON.parse(ev.data as string) });
        this.#waits.notify();
      });
    }
  }

  /** Holds every request from now on until {@link release}: the client stays away while the test publishes. */
  hold(): void {
    let open = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.#gate = { promise, open };
  }

  release(): void {
    this.#gate?.open();
    this.#gate = undefined;
  }

  hellos(): Received[] {
    return this.received.filter((r) => r.event === 'hello');
  }

  /** Bus events received (not hello or resync), in order. */
  events(): Received[] {
    return this.received.filter((r) => r.event !== 'hello' && r.event !== 'resync');
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    await this.#waits.until(check, {
      what,
      timeoutMs,
      detail: () => `requests ${JSON.stringify(this.requests)}, got ${JSON.stringify(this.received).slice(0, 600)}`,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.es.close();
    this.release();
  }
}

/**
 * The first request sent no `Last-Event-ID`, and every reconnect sent `id`: a reconnect that fails (say, a pooled
 * socket the old server closed) is retried with the same id, as a browser does, so there may be more than one.
 */
function expectReconnectsFrom(sse: BrowserSse, id: string): void {
  expect(sse.requests[0]).toBeNull();
  expect(sse.requests.length).toBeGreaterThanOrEqual(2);
  expect([...new Set(sse.requests.slice(1))]).toEqual([id]);
}

const seqs = (rs: readonly Received[]): number[] => rs.map((r) => r.data.seq as number);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Connects a `BrowserSse`, waits for its hello, and has it see `n` live events. */
async function connected(hub: Hub, n: number): Promise<BrowserSse> {
  const sse = new BrowserSse(hub.http('/events'));
  await sse.waitFor(() => sse.hellos().length === 1, 'the first hello');
  for (let i = 0; i < n; i++) publishCall(hub.bus, 'alpha');
  await sse.waitFor(() => sse.events().length === n, `${n} live events`);
  return sse;
}

describe('SSE resume with EventSource (Last-Event-ID = EPOCH:SEQ)', () => {
  it('resumes a dropped stream in the same epoch with every missed event, in order, exactly once', async () => {
    await using hub = await startHub();
    await using sse = await connected(hub, 3);
    const epoch = hub.bus.epoch;
    expect(sse.hellos()[0]).toMatchObject({ id: `${epoch}:0`, data: { recovered: false, seq: 0 } });
    expect(sse.events().map((r) => r.id)).toEqual([1, 2, 3].map((n) => `${epoch}:${n}`));

    // The connection drops (as on a network blip); the client comes back on its own.
    sse.hold();
    hub.server.closeAllConnections();
    await sse.waitFor(() => sse.requests.length === 2, 'the reconnect attempt');
    await waitFor(() => hub.b.stats().connections.sse === 0, { what: 'the server to drop the stream' });
    for (let i = 0; i < 5; i++) publishCall(hub.bus, i % 2 ? 'alpha' : 'beta', `missed-${i}`);
    sse.release();

    await sse.waitFor(() => sse.hellos().length === 2 && sse.events().length === 8, 'hello and the 5 missed events');
    expectReconnectsFrom(sse, `${epoch}:3`);
    const hello = sse.hellos()[1] as Received;
    expect(hello.id).toBe(`${epoch}:3`);
    expect(hello.data).toMatchObject({ type: 'hello', epoch, seq: 8, recovered: true });
    publishCall(hub.bus, 'alpha', 'live');
    await sse.waitFor(() => sse.events().length === 9, 'the next live event');

    expect(seqs(sse.events())).toEqual(range(1, 9));
    expect(sse.events().map((r) => r.id)).toEqual(range(1, 9).map((n) => `${epoch}:${n}`));
    expect(
      sse
        .events()
        .slice(3, 8)
        .map((r) => r.data.data.tool),
    ).toEqual([0, 1, 2, 3, 4].map((i) => `missed-${i}`));
    // The hello came before the first missed event, and nothing came twice.
    expect(sse.received.indexOf(hello)).toBe(4);
    expect(hub.b.stats().replays).toBe(1);
  });

  it('gives a fresh snapshot (recovered:false) when the gap is older than the replay buffer', async () => {
    await using hub = await startHub({ replayBuffer: 4 });
    await using sse = await connected(hub, 3);
    const epoch = hub.bus.epoch;

    sse.hold();
    hub.server.closeAllConnections();
    await sse.waitFor(() => sse.requests.length === 2, 'the reconnect attempt');
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    for (let i = 0; i < 9; i++) publishCall(hub.bus, 'beta');
    sse.release();

    await sse.waitFor(() => sse.hellos().length === 2, 'the second hello');
    expectReconnectsFrom(sse, `${epoch}:3`);
    const hello = sse.hellos()[1] as Received;
    expect(hello.id).toBe(`${epoch}:13`);
    expect(hello.data).toMatchObject({ epoch, seq: 13, recovered: false });
    // The snapshot carries what the client missed.
    expect(hello.data.snapshot.servers.find((s: { name: string }) => s.name === 'alpha')).toMatchObject({
      state: 'ready',
    });
    publishCall(hub.bus, 'alpha', 'live');
    await sse.waitFor(() => sse.events().length === 4, 'the next live event');
    expect(seqs(sse.events())).toEqual([1, 2, 3, 14]);
    expect(hub.b.stats().replays).toBe(0);
  });

  it('gives a fresh snapshot after a server restart on the same port (new epoch), never a replay of its seqs', async () => {
    const first = await startHub();
    await using sse = await connected(first, 3);
    const oldEpoch = first.bus.epoch;

    sse.hold();
    await first.close();
    await sse.waitFor(() => sse.requests.length === 2, 'the reconnect attempt');
    await using second = await startHub({ port: first.port });
    const newEpoch = second.bus.epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    // The new process has seqs past the client's 3: a seq-only resume would replay 4..6 of another stream.
    publishState(second.bus, 'gamma', 'idle', 'ready');
    for (let i = 0; i < 5; i++) publishCall(second.bus, 'beta');
    sse.release();

    await sse.waitFor(() => sse.hellos().length === 2, 'the hello of the new server');
    expectReconnectsFrom(sse, `${oldEpoch}:3`);
    const hello = sse.hellos()[1] as Received;
    expect(hello.id).toBe(`${newEpoch}:6`);
    expect(hello.data).toMatchObject({ epoch: newEpoch, seq: 6, recovered: false });
    expect(hello.data.snapshot.servers.find((s: { name: string }) => s.name === 'gamma')).toMatchObject({
      state: 'ready',
    });
    publishCall(second.bus, 'alpha', 'live');
    await sse.waitFor(() => sse.events().length === 4, 'the first live event of the new server');
    expect(sse.events().map((r) => r.id)).toEqual([`${oldEpoch}:1`, `${oldEpoch}:2`, `${oldEpoch}:3`, `${newEpoch}:7`]);
    expect(second.b.stats().replays).toBe(0);
  });
});

describe('SSE resume from a raw Last-Event-ID', () => {
  /** A hub at seq 5 (alpha ready at 1, then 4 calls). */
  async function hubAt5(): Promise<Hub> {
    const hub = await startHub();
    publishState(hub.bus, 'alpha', 'idle', 'ready');
    for (let i = 0; i < 4; i++) publishCall(hub.bus, 'beta');
    return hub;
  }

  it.each<[string, (epoch: string) => string, string?]>([
    ['a bare number', () => '3'],
    ['a bare number with the epoch in the URL', () => '3', 'epoch'],
    ['garbage', () => 'hello world'],
    ['an empty id', () => ''],
    ['a huge seq', (e) => `${e}:${'9'.repeat(30)}`],
    ['a seq past the largest safe integer', (e) => `${e}:9007199254740993`],
    ['the largest safe integer (past the bus)', (e) => `${e}:${Number.MAX_SAFE_INTEGER}`],
    ['a seq just past the bus', (e) => `${e}:6`],
    ['a negative seq', (e) => `${e}:-1`],
    ['leading zeros', (e) => `${e}:03`],
    ['a fraction', (e) => `${e}:3.0`],
    ['EPOCH: with the seq missing', (e) => `${e}:`],
    ['a missing epoch', () => ':3'],
    ['extra colons after', (e) => `${e}:3:`],
    ['extra colons inside', (e) => `${e}::3`],
    ['two positions', (e) => `${e}:3:4`],
    ['another epoch', () => '0123456789abcdef:3'],
    ['the epoch without a colon', (e) => e],
    ['4 KiB of garbage', () => 'x:'.repeat(2048)],
    ['garbage while the URL holds a valid since and epoch', () => 'nonsense', 'since'],
  ])('answers %s with a fresh snapshot and no replay', async (_, makeId, url) => {
    await using hub = await hubAt5();
    const epoch = hub.bus.epoch;
    const query = url === 'epoch' ? `?epoch=${epoch}` : url === 'since' ? `?since=2&epoch=${epoch}` : '';
    await using sse = await SseReader.open(hub.http(`/events${query}`), {
      headers: { 'last-event-id': makeId(epoch) },
    });
    expect(sse.response.status).toBe(200);
    await sse.waitFor((evs) => evs.length >= 1, 'hello');
    expect(sse.events[0]).toMatchObject({ event: 'hello', id: `${epoch}:5` });
    expect(sse.data('hello')[0]).toMatchObject({ epoch, seq: 5, recovered: false });
    publishCall(hub.bus, 'alpha', 'live');
    await sse.waitFor((evs) => evs.some((e) => e.id === `${epoch}:6`), 'the live event');
    // Nothing was replayed between the hello and the live event.
    expect(sse.events.map((e) => e.id)).toEqual([`${epoch}:5`, `${epoch}:6`]);
    expect(hub.b.stats().replays).toBe(0);
  });

  it("resumes from the hello's own id with nothing to replay, then goes live", async () => {
    await using hub = await hubAt5();
    const epoch = hub.bus.epoch;
    const first = await SseReader.open(hub.http('/events'));
    await first.waitFor((evs) => evs.length === 1, 'hello');
    const helloId = first.events[0]?.id as string;
    expect(helloId).toBe(`${epoch}:5`);
    await first.close();
    await using again = await SseReader.open(hub.http('/events'), { headers: { 'last-event-id': helloId } });
    await again.waitFor((evs) => evs.length === 1, 'hello');
    expect(again.events[0]).toMatchObject({ event: 'hello', id: helloId });
    expect(again.data('hello')[0]).toMatchObject({ seq: 5, recovered: true });
    publishCall(hub.bus, 'alpha');
    await again.waitFor((evs) => evs.length === 2, 'the live event');
    expect(again.events[1]?.id).toBe(`${epoch}:6`);
  });

  it('replays through the filters from an id in the buffer, and the resumed stream ids stay EPOCH:SEQ', async () => {
    await using hub = await hubAt5();
    const epoch = hub.bus.epoch;
    await using sse = await SseReader.open(hub.http('/events?types=server_state_changed&legacy=1'), {
      headers: { 'last-event-id': `${epoch}:0` },
    });
    await sse.waitFor((evs) => evs.length === 2, 'hello and the one matching missed event');
    expect(sse.events.map((e) => [e.event, e.id])).toEqual([
      ['hello', `${epoch}:0`],
      ['state_change', `${epoch}:1`],
    ]);
    expect(sse.data('hello')[0]).toMatchObject({ recovered: true });
  });
});

describe('epoch check', () => {
  it('refuses a bus whose epoch could not be written in an SSE id', () => {
    for (const epoch of ['a\nb', 'a\rb', 'a\0b']) {
      const bus = createEventBus({ epoch });
      const view = createStateView({ bus });
      try {
        let error: unknown;
        try {
          createBroadcaster({ bus, view });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(BroadcastError);
        expect((error as BroadcastError).code).toBe('INVALID_OPTIONS');
      } finally {
        view.close();
        bus.close();
      }
    }
  });
});
