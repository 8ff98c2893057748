import type { BusEvent } from '@mcpproxy/contracts';
import { Client, type Endpoint, Mode } from '../src/client.js';
import { newCounters } from '../src/queue.js';
import type { ClientRegistry } from '../src/registry.js';
import { TickCoalescer } from '../src/transport.js';

/** A raw WebSocket client over fake socket objects: no network, every written frame kept and decoded. */
export interface FakeRawClient {
  c: Client;
  ws: { readyState: number; pings: number; terminated: boolean; ping(): void; terminate(): void };
  /** Every frame written so far, as the buffers given to the socket. */
  writes: Buffer[];
  /** Every frame's payload, parsed as JSON. */
  messages(): { type?: string; seq?: number; events?: { seq: number }[] }[];
}

const payload = (frame: Buffer): string => {
  const len = frame[1] as number;
  return frame.subarray(len < 126 ? 2 : len === 126 ? 4 : 10).toString('utf8');
};

export function fakeRawClient(
  registry: ClientRegistry,
  {
    endpoint = 'events',
    types = null,
    servers = null,
  }: { endpoint?: Endpoint; types?: ReadonlySet<never> | null; servers?: ReadonlySet<string> | null } = {},
): FakeRawClient {
  const writes: Buffer[] = [];
  const socket = {
    writableLength: 0,
    cork() {},
    uncork() {},
    write(b: Buffer) {
      writes.push(b);
    },
  };
  const ws = {
    readyState: 1,
    pings: 0,
    terminated: false,
    ping() {
      this.pings++;
    },
    terminate() {
      this.terminated = true;
    },
  };
  const c = new Client({
    id: registry.nextId(),
    endpoint,
    mode: Mode.Raw,
    types,
    servers,
    legacy: false,
    limits: { sendBuffer: 256, maxBufferedBytes: 1 << 20 },
    counters: newCounters(),
    onResync: () => {},
    coalescer: new TickCoalescer(),
    transport: { ws: ws as never, socket: socket as never },
  });
  registry.add(c);
  return { c, ws, writes, messages: () => writes.map((w) => JSON.parse(payload(w))) };
}

/** A stamped `tool_called` event on server `server`. */
export const toolCalled = (seq: number, server = 'a'): BusEvent => ({
  seq,
  epoch: 'e1',
  type: 'tool_called',
  server,
  time: '2026-01-01T00:00:00.000Z',
  data: { tool: 't', duration_ms: 1, status: 'ok' },
});
