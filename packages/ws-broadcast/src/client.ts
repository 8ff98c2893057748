import type { Duplex } from 'node:stream';
import type { EventType } from '@mcpproxy/contracts';
import type { WebSocket } from 'ws';
import { frameText, sseMessage } from './codec.js';
import { type Counters, OutboundQueue, type QueueLimits } from './queue.js';
import { DeflateSink, RawSink, SseSink, type TickCoalescer } from './transport.js';

/** The endpoint a client is connected to. */
export type Endpoint = 'events' | 'servers' | 'mcp_status' | 'sse';

/** How bytes reach a client. */
export const Mode = {
  /** WebSocket without compression: pre-framed buffers written to the socket, shared by every client. */
  Raw: 0,
  /** WebSocket with permessage-deflate: `ws.send` of the pre-serialised string (ws compresses per client). */
  Deflate: 1,
  /** Server-sent events: pre-encoded chunks enqueued on a web `ReadableStream`. */
  Sse: 2,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** The transport of a new client: a WebSocket with its socket, or an SSE stream's controller. */
export type ClientTransport =
  | { ws: WebSocket; socket: Duplex; controller?: undefined }
  | { ws?: undefined; socket?: undefined; controller: ReadableStreamDefaultController<Uint8Array> };

export interface ClientInit {
  id: number;
  endpoint: Endpoint;
  mode: Mode;
  types: ReadonlySet<EventType> | null;
  servers: ReadonlySet<string> | null;
  legacy: boolean;
  limits: QueueLimits;
  counters: Counters;
  /** Called once the queue has drained while a resync is owed. */
  onResync: (client: Client) => void;
  /** Flushes corked raw and SSE output at the end of the tick. */
  coalescer: TickCoalescer;
  transport: ClientTransport;
}

/**
 * One live client: where it is connected, its filters, its position in the event stream and its liveness. What it
 * is sent goes through `out`, its bounded queue (`queue.ts`), to the transport's sink (`transport.ts`).
 */
export class Client {
  readonly id: number;
  readonly endpoint: Endpoint;
  readonly mode: Mode;
  readonly legacy: boolean;
  types: ReadonlySet<EventType> | null;
  servers: ReadonlySet<string> | null;
  /** Seq of the last event this client is past (delivered, filtered out or dropped). */
  lastSeq = 0;
  /** Clock time of the protocol ping not yet answered. */
  awaitingPongSince: number | undefined;
  /** The queue everything sent to this client goes through. */
  readonly out: OutboundQueue<Client>;
  readonly ws: WebSocket | undefined;
  readonly controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #sink: RawSink | DeflateSink | SseSink;

  constructor(init: ClientInit) {
    this.id = init.id;
    this.endpoint = init.endpoint;
    this.mode = init.mode;
    this.types = init.types;
    this.servers = init.servers;
    this.legacy = init.legacy;
    const t = init.transport;
    this.ws = t.ws;
    this.controller = t.controller;
    if (t.controller) {
      this.#sink = new SseSink(t.controller, init.legacy, init.coalescer);
    } else if (init.mode === Mode.Deflate) {
      this.#sink = new DeflateSink(t.ws, () => {
        if (this.out.queued > 0 || this.out.needsResync) this.out.flush();
      });
    } else {
      this.#sink = new RawSink(t.ws, t.socket, init.coalescer);
    }
    this.out = new OutboundQueue(this.#sink, init.limits, init.counters, init.onResync, this as Client);
  }

  /** Bytes handed to the transport and not yet flushed to the kernel. */
  get buffered(): number {
    return this.#sink.buffered;
  }

  /** Whether the client's filters let this event through. */
  accepts(type: EventType, server: string | undefined): boolean {
    if (this.types !== null && !this.types.has(type)) return false;
    if (this.servers !== null && (server === undefined || !this.servers.has(server))) return false;
    return true;
  }

  /**
   * Sends the frame that (re)starts the client's state, whatever its backpressure: `hello` or `resync`. `id` is the
   * SSE `id:` of the position the client stands at after it.
   */
  sendStart(event: 'hello' | 'resync', json: string, id: string): void {
    if (this.mode === Mode.Raw) {
      const frame = frameText(json);
      this.out.sendNow(frame, frame.length);
    } else if (this.mode === Mode.Deflate) {
      this.out.sendNow(json, json.length);
    } else {
      const msg = sseMessage(event, json, id);
      this.out.sendNow(msg, msg.length);
    }
  }

  /**
   * Sends a small control frame (`pong`, `error`, `subscribed`, OMNI2 `ping`) through the queue. `frame` is `json`
   * already framed, for frames built once for many clients.
   */
  sendControl(json: string, type: string, frame?: Buffer): void {
    if (this.mode === Mode.Deflate) {
      this.out.offerControl(json, json.length, type);
    } else {
      const f = frame ?? frameText(json);
      this.out.offerControl(f, f.length, type);
    }
  }

  /** Marks the client closed and releases its queue and anything its sink holds. */
  release(): void {
    this.out.release();
    this.#sink.release();
  }
}
