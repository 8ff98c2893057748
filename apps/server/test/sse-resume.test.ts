import { type BusEvent, EVENT_TYPES } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import { EventSource, type FetchLike } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedConnector, startServer, tempDir } from './helpers.js';

const KEY = 'sse-resume-key';

interface Received {
  event: string;
  /** `MessageEvent.lastEventId`: the `id:` of this message. */
  id: string;
  // biome-ignore lint/suspicious/noExplicitAny: test frames are inspected loosely.
  data: any;
}

/**
 * The `eventsource` package (WHATWG `EventSource` for Node) as a browser would use it (`?apikey=` in the URL), with
 * its requests going through a `fetch` the test can hold, and its stream one the test can cut, as a network drop
 * would. It reconnects on its own with the last `id:` it saw as `Last-Event-ID`.
 */
class BrowserSse implements AsyncDisposable {
  readonly received: Received[] = [];
  /** The `Last-Event-ID` of each request, in order (`null` when none was sent). */
  readonly requests: (string | null)[] = [];
  readonly es: EventSource;
  readonly #waiters = new Set<() => void>();
  #gate: { promise: Promise<void>; open: () => void } | undefined;
  #cut: ((error: Error) => void) | undefined;

  constructor(url: string) {
    const gatedFetch: FetchLike = async (input, init) => {
      this.requests.push(init.headers['Last-Event-ID'] ?? null);
      this.#notify();
      if (this.#gate) await this.#gate.promise;
      const response = await fetch(input, init);
      if (response.status !== 200 || !response.body) return response;
      const body = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          start: (controller) => {
            // `retry: 1` only shortens the client's default 3 s reconnect delay; browsers honour the same field.
            controller.enqueue(new TextEncoder().encode('retry: 1\n\n'));
            this.#cut = (error) => controller.error(error);
          },
        }),
      );
      return new Response(body, { status: response.status, headers: response.headers });
    };
    this.es = new EventSource(url, { fetch: gatedFetch });
    for (const type of ['hello', 'resync', ...EVENT_TYPES]) {
      this.es.addEventListener(type, (ev: MessageEvent) => {
        this.received.push({ event: type, id: ev.lastEventId, data: JSON.parse(ev.data as string) });
        this.#notify();
      });
    }
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Holds every request from now on until {@link release}. */
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

  /** Breaks the current stream as a network failure would (the client then reconnects). */
  drop(): void {
    this.#cut?.(new Error('network drop'));
  }

  hellos(): Received[] {
    return this.received.filter((r) => r.event === 'hello');
  }

  calls(): Received[] {
    return this.received.filter((r) => r.event === 'tool_called');
  }

  waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const got = JSON.stringify(this.received).slice(0, 600);
        reject(new Error(`timed out waiting for ${what}; requests ${JSON.stringify(this.requests)}, got ${got}`));
      }, timeoutMs);
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve();
      };
      this.#waiters.add(waiter);
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

function publishCall(bus: EventBus, tool: string): BusEvent {
  return bus.publish({ type: 'tool_called', server: 'one', data: { tool, duration_ms: 1, status: 'ok' } }) as BusEvent;
}

const dirs: { cleanup(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

describe.each(['/events', '/api/v1/events'])('SSE resume on the real server (%s)', (route) => {
  it('resumes an EventSource across a dropped connection with every missed event, once, in order', async () => {
    await using s = await startServer({ connector: scriptedConnector({}), config: { api_key: KEY } });
    const epoch = s.bus.epoch;
    // Filtered to tool calls so the server's own events (system metrics, state changes) cannot interleave.
    await using sse = new BrowserSse(`${s.url}${route}?types=tool_called&apikey=${KEY}`);
    await sse.waitFor(() => sse.hellos().length === 1, 'the first hello');
    const before = [publishCall(s.bus, 'a'), publishCall(s.bus, 'b')];
    await sse.waitFor(() => sse.calls().length === 2, 'two live calls');
    expect(sse.calls().map((r) => r.id)).toEqual(before.map((e) => `${epoch}:${e.seq}`));

    sse.hold();
    sse.drop();
    await sse.waitFor(() => sse.requests.length === 2, 'the reconnect attempt');
    const missed = ['c', 'd', 'e', 'f'].map((tool) => publishCall(s.bus, tool));
    sse.release();

    await sse.waitFor(() => sse.calls().length === 6, 'the missed calls');
    expectReconnectsFrom(sse, `${epoch}:${before[1]?.seq}`);
    expect(sse.hellos()[1]).toMatchObject({
      id: `${epoch}:${before[1]?.seq}`,
      data: { type: 'hello', epoch, recovered: true },
    });
    const after = publishCall(s.bus, 'g');
    await sse.waitFor(() => sse.calls().length === 7, 'the next live call');
    expect(sse.calls().map((r) => r.data.data.tool)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(sse.calls().map((r) => r.id)).toEqual([...before, ...missed, after].map((e) => `${epoch}:${e.seq}`));
    expect(s.running.services.broadcaster.stats().replays).toBe(1);
  });

  it('gives an EventSource a fresh snapshot after the server restarts on the same port', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const first = await startServer({
      dataDir: dataDir.path,
      connector: scriptedConnector({}),
      config: { api_key: KEY },
    });
    const port = new URL(first.url).port;
    const oldEpoch = first.bus.epoch;
    await using sse = new BrowserSse(`${first.url}${route}?types=tool_called&apikey=${KEY}`);
    await sse.waitFor(() => sse.hellos().length === 1, 'the first hello');
    const last = [publishCall(first.bus, 'a'), publishCall(first.bus, 'b')].at(-1) as BusEvent;
    await sse.waitFor(() => sse.calls().length === 2, 'two live calls');

    sse.hold();
    await first.close();
    await sse.waitFor(() => sse.requests.length === 2, 'the reconnect attempt');
    await using second = await startServer({
      dataDir: dataDir.path,
      connector: scriptedConnector({}),
      config: { api_key: KEY, listen: `127.0.0.1:${port}` },
    });
    const newEpoch = second.bus.epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    // Enough calls that the new process has seqs past the client's: a seq-only resume would replay them.
    let newest = last;
    for (let i = 0; i <= last.seq; i++) newest = publishCall(second.bus, `new-${i}`);
    sse.release();

    await sse.waitFor(() => sse.hellos().length === 2, 'the hello of the restarted server');
    expectReconnectsFrom(sse, `${oldEpoch}:${last.seq}`);
    const hello = sse.hellos()[1] as Received;
    expect(hello.data).toMatchObject({ epoch: newEpoch, recovered: false });
    expect(hello.data.seq).toBeGreaterThanOrEqual(newest.seq);
    expect(hello.id).toBe(`${newEpoch}:${hello.data.seq}`);
    const live = publishCall(second.bus, 'live');
    await sse.waitFor(() => sse.calls().length === 3, 'the first live call of the new server');
    expect(sse.calls().map((r) => r.data.data.tool)).toEqual(['a', 'b', 'live']);
    expect(sse.calls()[2]?.id).toBe(`${newEpoch}:${live.seq}`);
    expect(second.running.services.broadcaster.stats().replays).toBe(0);
  });
});
