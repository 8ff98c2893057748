export { createBroadcaster } from './broadcaster.js';
export type { Endpoint } from './client.js';
export { frameText } from './codec.js';
export type { BroadcastErrorCode } from './errors.js';
export { BroadcastError } from './errors.js';
export type { Omni2HealthStatus, Omni2ServerRow, Omni2Status } from './omni2.js';
export { omni2Message, omni2Status } from './omni2.js';
export type {
  Broadcaster,
  BroadcasterOptions,
  BroadcastSettings,
  BroadcastStats,
  ClientInfo,
  LiveRequest,
  LiveSnapshot,
  SnapshotSource,
} from './types.js';
