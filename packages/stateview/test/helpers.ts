import type { BusEvent, EventDataMap, EventEnvelope, EventType } from '@mcpproxy/contracts';

let nextSeq = 1;

/** A stamped envelope as the bus would deliver it, for driving reducers without a bus. */
export function envelope<K extends EventType>(
  type: K,
  data: EventDataMap[K],
  { server, seq = nextSeq++ }: { server?: string; seq?: number } = {},
): EventEnvelope<K> & BusEvent {
  const event = { seq, epoch: 'test-epoch', type, time: '2026-01-01T00:00:00.000Z', data } as EventEnvelope<K>;
  if (server !== undefined) event.server = server;
  return event as EventEnvelope<K> & BusEvent;
}

/** Every object and array reachable from `value`, including `value` itself. */
export function reachableObjects(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(value);
  for (const child of Object.values(value)) reachableObjects(child, out);
  return out;
}
