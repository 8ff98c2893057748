import type { Clock, Logger } from '@mcpproxy/contracts';
import type { Client, ClientTransport, Endpoint, Mode } from './client.js';
import type { Liveness } from './liveness.js';
import type { LiveQuery } from './query.js';
import type { ClientRegistry } from './registry.js';
import type { Resume } from './resume.js';
import type { BroadcasterOptions } from './types.js';

/** What the WebSocket and SSE endpoints share of one broadcaster (built in `broadcaster.ts`). */
export interface EndpointContext {
  registry: ClientRegistry;
  resume: Resume;
  liveness: Liveness;
  clock: Clock;
  logger: Logger;
  authorize: BroadcasterOptions['authorize'];
  checkOrigin: BroadcasterOptions['checkOrigin'];
  /** Whether the broadcaster is closing: new connections are refused. */
  isClosed(): boolean;
  /** A client with this broadcaster's limits, counters and coalescer, not yet registered. */
  newClient(endpoint: Endpoint, mode: Mode, query: LiveQuery, transport: ClientTransport): Client;
}
