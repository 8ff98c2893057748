import { type AppInfo, type Clock, LIVE_PROTOCOL_VERSION, type Logger, type ServerSummary } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { Client } from './client.js';
import { eventId } from './codec.js';
import type { Fanout } from './fanout.js';
import { omni2InitialStatus } from './omni2.js';
import type { LiveQuery } from './query.js';
import type { Counters } from './queue.js';
import type { LiveSnapshot, SnapshotSource } from './types.js';

export interface ResumeOptions {
  bus: EventBus;
  view: SnapshotSource;
  fanout: Pick<Fanout, 'deliverMany'>;
  counters: Counters;
  clock: Clock;
  logger: Logger;
}

/** Where a client's state starts: its first frame, a replay of what it missed, and the resync after a drop. */
export interface Resume {
  /** Sends `hello` (with the snapshot) and, when the client's `since`/`epoch` are in the bus's ring, the replay. */
  greet(c: Client, query: LiveQuery): void;
  /** Sends an OMNI2 client its `initial_status`. */
  greetOmni(c: Client): void;
  /** Sends a client that overflowed its queue a fresh snapshot (`resync`, or OMNI2's `initial_status`). */
  resync(c: Client): void;
}

/**
 * Creates the start/resume logic. A client stands at a seq: after the snapshot's seq, or after its `since` when
 * the bus still holds what followed; whatever the bus published beyond the view is caught up at once.
 */
export function createResume({ bus, view, fanout, counters, clock, logger }: ResumeOptions): Resume {
  const epochJson = JSON.stringify(bus.epoch);

  /** The unfiltered snapshot's JSON is built once per view change and shared by every client. */
  let snapCache: { servers: readonly ServerSummary[]; app: AppInfo; json: string } | undefined;
  const snapshotJson = (snap: LiveSnapshot, servers: ReadonlySet<string> | null): string => {
    if (servers) return JSON.stringify({ servers: snap.servers.filter((s) => servers.has(s.name)), app: snap.app });
    if (!snapCache || snapCache.servers !== snap.servers || snapCache.app !== snap.app) {
      snapCache = {
        servers: snap.servers,
        app: snap.app,
        json: JSON.stringify({ servers: snap.servers, app: snap.app }),
      };
    }
    return snapCache.json;
  };

  /** Brings a client from its position up to what the bus has published, if the view lagged behind the bus. */
  const catchUp = (c: Client): void => {
    if (bus.seq <= c.lastSeq) return;
    const missed = bus.since(c.lastSeq);
    if (missed) fanout.deliverMany(c, missed);
    else logger.warn('ws-broadcast: the view lags the bus beyond its replay ring', { seq: c.lastSeq, bus: bus.seq });
  };

  const greet = (c: Client, query: LiveQuery): void => {
    const snap = view.snapshot();
    const replay = query.since !== undefined && query.epoch === bus.epoch ? bus.since(query.since) : null;
    const recovered = replay !== null;
    const json =
      `{"type":"hello","protocol":${LIVE_PROTOCOL_VERSION},"epoch":${epochJson},"seq":${snap.seq},` +
      `"snapshot":${snapshotJson(snap, c.servers)},"recovered":${recovered}}`;
    // SSE: the hello's id is where the client stands after it: the resume point when the missed events follow (a
    // reconnect before they arrive asks for them again), else the snapshot's seq.
    c.sendStart('hello', json, eventId(bus.epoch, recovered ? (query.since as number) : snap.seq));
    if (replay) {
      counters.replays++;
      c.lastSeq = query.since as number;
      fanout.deliverMany(c, replay);
    } else {
      c.lastSeq = snap.seq;
    }
    catchUp(c);
  };

  const greetOmni = (c: Client): void => {
    const snap = view.snapshot();
    const now = new Date(clock.now()).toISOString();
    c.sendStart('hello', omni2InitialStatus(snap.servers, now), eventId(bus.epoch, snap.seq));
    c.lastSeq = snap.seq;
  };

  const resync = (c: Client): void => {
    const dropped = c.out.droppedSinceResync;
    c.out.needsResync = false;
    c.out.droppedSinceResync = 0;
    counters.resyncs++;
    if (c.endpoint === 'mcp_status') {
      greetOmni(c);
      return;
    }
    const snap = view.snapshot();
    const json =
      `{"type":"resync","epoch":${epochJson},"seq":${snap.seq},"snapshot":${snapshotJson(snap, c.servers)},` +
      `"dropped":${dropped}}`;
    c.sendStart('resync', json, eventId(bus.epoch, snap.seq));
    c.lastSeq = snap.seq;
    catchUp(c);
  };

  return { greet, greetOmni, resync };
}
