import type { EventId, EventStore, StreamId } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface Stored {
  seq: number;
  streamId: StreamId;
  message: JSONRPCMessage;
}

/**
 * A per-session, bounded in-memory {@link EventStore}: it keeps the last `capacity` messages sent on any of the
 * session's SSE streams so a client that lost a stream can resume with `Last-Event-ID` (SEP-1699). Memory is
 * bounded per session; an event older than the ring cannot be replayed (the stream then resumes from now).
 */
export function createSessionEventStore(capacity: number): EventStore {
  const ring: Stored[] = [];
  let seq = 0;
  const parse = (id: EventId): { streamId: StreamId; seq: number } | undefined => {
    const at = id.lastIndexOf('#');
    if (at <= 0) return undefined;
    const n = Number(id.slice(at + 1));
    return Number.isSafeInteger(n) ? { streamId: id.slice(0, at), seq: n } : undefined;
  };
  return {
    async storeEvent(streamId, message) {
      seq += 1;
      ring.push({ seq, streamId, message });
      if (ring.length > capacity) ring.shift();
      return `${streamId}#${seq}`;
    },
    async getStreamIdForEventId(eventId) {
      return parse(eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const last = parse(lastEventId);
      if (!last) throw new Error(`unknown event id ${lastEventId}`);
      for (const e of [...ring]) {
        if (e.streamId === last.streamId && e.seq > last.seq) await send(`${e.streamId}#${e.seq}`, e.message);
      }
      return last.streamId;
    },
  };
}
