import { z } from 'zod';
import type { BusEvent } from './events.js';
import { EventTypeSchema } from './events.js';
import type { Snapshot } from './summary.js';

/** Live protocol version sent in `hello`. */
export const LIVE_PROTOCOL_VERSION = 1;

/** First frame on every WS connection and first SSE event. */
export interface HelloFrame {
  type: 'hello';
  protocol: typeof LIVE_PROTOCOL_VERSION;
  epoch: string;
  seq: number;
  snapshot: Snapshot;
  /** True when the resume point was still in the replay buffer and the missed events follow. */
  recovered: boolean;
}

/** Sent to a client whose queue overflowed, once it drains: its state must be replaced by this snapshot. */
export interface ResyncFrame {
  type: 'resync';
  epoch: string;
  seq: number;
  snapshot: Snapshot;
  /** Events dropped for this client since its last resync. */
  dropped: number;
}

export interface BatchFrame {
  type: 'batch';
  events: BusEvent[];
}

export interface SubscribedFrame {
  type: 'subscribed';
  types: string[] | null;
  servers: string[] | null;
}

export interface PongFrame {
  type: 'pong';
}

/** Error codes of the live protocol, answered in-band; the connection stays open. */
export type LiveErrorCode = 'BAD_JSON' | 'UNKNOWN_OP' | 'BAD_REQUEST';

export interface ErrorFrame {
  type: 'error';
  code: LiveErrorCode;
  message: string;
}

/** Every frame the server sends on `/ws/events` and `/ws/servers`, besides plain events. */
export type ControlFrame = HelloFrame | ResyncFrame | BatchFrame | SubscribedFrame | PongFrame | ErrorFrame;

/** Client operations. */
export const ClientOpSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('subscribe'),
    types: z.array(z.union([EventTypeSchema, z.enum(['state_change', 'config_change'])])).optional(),
    servers: z.array(z.string()).optional(),
  }),
  z.object({ op: z.literal('ping') }),
]);
export type ClientOp = z.infer<typeof ClientOpSchema>;
