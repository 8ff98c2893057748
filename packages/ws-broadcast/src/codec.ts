import { type BusEvent, LEGACY_ALIASES } from '@mcpproxy/contracts';

const WS_OPCODE_TEXT_FIN = 0x81;

/**
 * Frames a text message as one unmasked, final WebSocket frame (RFC 6455 §5.2), header and payload in one buffer
 * so that a socket write is one syscall. Server frames are never masked, so the same bytes can go to every client.
 */
export function frameText(text: string): Buffer {
  const len = Buffer.byteLength(text);
  const header = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(header + len);
  out[0] = WS_OPCODE_TEXT_FIN;
  if (len < 126) {
    out[1] = len;
  } else if (len < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  out.write(text, header, 'utf8');
  return out;
}

/**
 * The SSE `id:` of a position in the stream: `EPOCH:SEQ`. The epoch makes the id mean one place in one process's
 * stream, so a browser's `Last-Event-ID` after a restart (a new epoch, seqs counted again from 1) can never be taken
 * for a position in the new stream.
 */
export const eventId = (epoch: string, seq: number): string => `${epoch}:${seq}`;

/** One SSE message: `id:` (when given), `event:`, and the JSON on one `data:` line (JSON has no raw newlines). */
export function sseMessage(event: string, json: string, id?: string): Buffer {
  return Buffer.from(
    id === undefined ? `event: ${event}\ndata: ${json}\n\n` : `id: ${id}\nevent: ${event}\ndata: ${json}\n\n`,
  );
}

/** The legacy alias of a type, if it has one. */
export function legacyAlias(type: string): string | undefined {
  return (LEGACY_ALIASES as Record<string, string | undefined>)[type];
}

/**
 * Every wire form of one event, each computed at most once and shared by every client that needs it: the JSON,
 * the WebSocket frame, the SSE message, and their legacy-alias variants.
 */
export class EncodedEvent {
  #json: string | undefined;
  #frame: Buffer | undefined;
  #sse: Buffer | undefined;
  #legacyJson: string | undefined;
  #legacyFrame: Buffer | undefined;
  #legacySse: Buffer | undefined;
  /** The alias of this event's type for `legacy=1` clients, if any. */
  readonly alias: string | undefined;

  constructor(readonly event: BusEvent) {
    this.alias = legacyAlias(event.type);
  }

  json(legacy = false): string {
    if (legacy && this.alias !== undefined) {
      this.#legacyJson ??= JSON.stringify({ ...this.event, type: this.alias });
      return this.#legacyJson;
    }
    this.#json ??= JSON.stringify(this.event);
    return this.#json;
  }

  frame(legacy = false): Buffer {
    if (legacy && this.alias !== undefined) {
      this.#legacyFrame ??= frameText(this.json(true));
      return this.#legacyFrame;
    }
    this.#frame ??= frameText(this.json());
    return this.#frame;
  }

  sse(legacy = false): Buffer {
    if (legacy && this.alias !== undefined) {
      this.#legacySse ??= sseMessage(this.alias, this.json(true), eventId(this.event.epoch, this.event.seq));
      return this.#legacySse;
    }
    this.#sse ??= sseMessage(this.event.type, this.json(), eventId(this.event.epoch, this.event.seq));
    return this.#sse;
  }
}

/** Encodings of past events (replays and batches), kept only while the event itself is alive (the bus ring). */
export class EncodingCache {
  readonly #cache = new WeakMap<BusEvent, EncodedEvent>();

  get(event: BusEvent): EncodedEvent {
    let enc = this.#cache.get(event);
    if (!enc) {
      enc = new EncodedEvent(event);
      this.#cache.set(event, enc);
    }
    return enc;
  }
}
