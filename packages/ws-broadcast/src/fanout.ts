import type { BusEvent, Clock, TimerHandle } from '@mcpproxy/contracts';
import { type Client, Mode } from './client.js';
import { type EncodedEvent, type EncodingCache, frameText } from './codec.js';
import { deliverOmni2 } from './omni2.js';
import type { ClientRegistry } from './registry.js';

/** A batch frame built at most once per flush, for every unfiltered client behind the whole window. */
interface SharedBatch {
  get(): { data: Buffer | string; bytes: number; types: string[] };
}

export interface FanoutOptions {
  registry: ClientRegistry;
  cache: EncodingCache;
  clock: Clock;
  /** `events.batch_window` in ms; 0 sends every event on its own. */
  batchWindow: number;
}

/** Event delivery: from one bus event (or a window of them) to every client's queue, each encoding built once. */
export interface Fanout {
  /** The bus subscriber: delivers a new event to every client, now or at the end of the batch window. */
  onEvent(event: BusEvent): void;
  /** Delivers past events (a replay or a catch-up) to one client, as one batch when batching is on. */
  deliverMany(c: Client, events: readonly BusEvent[]): void;
  /** Stops delivering and drops the pending window. */
  close(): void;
}

/**
 * Creates the fan-out. A client's `lastSeq` moves past every event it is offered, delivered or filtered out, so a
 * replay and a live event that overlap are sent once.
 */
export function createFanout({ registry, cache, clock, batchWindow }: FanoutOptions): Fanout {
  const { live, sse, omni } = registry;
  let closed = false;
  let batchTimer: TimerHandle | undefined;
  let batchPending: BusEvent[] = [];

  const deliverEvent = (c: Client, enc: EncodedEvent): void => {
    const ev = enc.event;
    if (ev.seq <= c.lastSeq) return;
    c.lastSeq = ev.seq;
    if (!c.accepts(ev.type, ev.server)) return;
    if (c.mode === Mode.Raw) {
      const frame = enc.frame(c.legacy);
      c.out.offer(frame, frame.length, ev.type, 1);
    } else if (c.mode === Mode.Sse) {
      const msg = enc.sse(c.legacy);
      c.out.offer(msg, msg.length, ev.type, 1, undefined, ev.seq);
    } else {
      const json = enc.json(c.legacy);
      c.out.offer(json, json.length, ev.type, 1);
    }
  };

  const batchJson = (events: readonly BusEvent[], legacy: boolean): string => {
    let out = '{"type":"batch","events":[';
    for (let i = 0; i < events.length; i++) {
      if (i > 0) out += ',';
      out += cache.get(events[i] as BusEvent).json(legacy);
    }
    return `${out}]}`;
  };

  /**
   * Sends a client the events it accepts out of `events` as one batch frame. `shared` holds the frame for clients
   * without filters that are behind the whole window, built once.
   */
  const deliverBatch = (c: Client, events: readonly BusEvent[], shared?: SharedBatch): void => {
    if (events.length === 0) return;
    const first = events[0] as BusEvent;
    const last = events[events.length - 1] as BusEvent;
    if (shared && c.types === null && c.servers === null && !c.legacy && c.lastSeq < first.seq) {
      c.lastSeq = last.seq;
      const s = shared.get();
      c.out.offer(s.data, s.bytes, 'batch', events.length, s.types);
      return;
    }
    const accepted: BusEvent[] = [];
    for (const ev of events) {
      if (ev.seq <= c.lastSeq) continue;
      c.lastSeq = ev.seq;
      if (c.accepts(ev.type, ev.server)) accepted.push(ev);
    }
    if (accepted.length === 0) return;
    const json = batchJson(accepted, c.legacy);
    const types = accepted.map((e) => e.type);
    if (c.mode === Mode.Raw) {
      const frame = frameText(json);
      c.out.offer(frame, frame.length, 'batch', accepted.length, types);
    } else {
      c.out.offer(json, json.length, 'batch', accepted.length, types);
    }
  };

  const deliverMany = (c: Client, events: readonly BusEvent[]): void => {
    if (batchWindow > 0 && (c.endpoint === 'events' || c.endpoint === 'servers')) {
      deliverBatch(c, events);
      return;
    }
    for (const ev of events) deliverEvent(c, cache.get(ev));
  };

  const flushBatch = (): void => {
    batchTimer = undefined;
    const events = batchPending;
    batchPending = [];
    if (events.length === 0 || closed) return;
    let built: { data: Buffer | string; bytes: number; types: string[] } | undefined;
    let builtJson: string | undefined;
    const types = events.map((e) => e.type);
    const rawShared: SharedBatch = {
      get() {
        builtJson ??= batchJson(events, false);
        if (!built) {
          const frame = frameText(builtJson);
          built = { data: frame, bytes: frame.length, types };
        }
        return built;
      },
    };
    const jsonShared: SharedBatch = {
      get() {
        builtJson ??= batchJson(events, false);
        return { data: builtJson, bytes: builtJson.length, types };
      },
    };
    for (const c of live) deliverBatch(c, events, c.mode === Mode.Raw ? rawShared : jsonShared);
  };

  const onEvent = (ev: BusEvent): void => {
    if (closed) return;
    const enc = cache.get(ev);
    if (live.size > 0) {
      if (batchWindow > 0) {
        batchPending.push(ev);
        batchTimer ??= clock.setTimeout(flushBatch, batchWindow);
      } else {
        for (const c of live) deliverEvent(c, enc);
      }
    }
    for (const c of sse) deliverEvent(c, enc);
    if (omni.size > 0) deliverOmni2(omni, ev);
  };

  const close = (): void => {
    closed = true;
    clock.clearTimeout(batchTimer);
    batchTimer = undefined;
    batchPending = [];
  };

  return { onEvent, deliverMany, close };
}
