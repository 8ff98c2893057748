import type { Client } from './client.js';
import type { BroadcastStats, ClientInfo } from './types.js';

/**
 * The clients of one broadcaster, grouped the way events reach them: `live` (`/ws/events` and `/ws/servers`, the
 * native protocol), `omni` (`/ws/mcp-status`, the OMNI2 dialect) and `sse` (`/events`). Removing a client releases
 * its queue and runs the clean-up registered for it (a `'drain'` or `abort` listener), once.
 */
export class ClientRegistry {
  /** `/ws/events` and `/ws/servers` clients. */
  readonly live = new Set<Client>();
  /** `/ws/mcp-status` clients. */
  readonly omni = new Set<Client>();
  /** `/events` (SSE) clients. */
  readonly sse = new Set<Client>();
  readonly #disposers = new Map<Client, () => void>();
  #serversEndpoint = 0;
  #nextId = 1;

  /** The id of the next client. */
  nextId(): number {
    return this.#nextId++;
  }

  add(c: Client): void {
    this.#setOf(c).add(c);
    if (c.endpoint === 'servers') this.#serversEndpoint++;
  }

  /** Runs `dispose` when `c` is removed. */
  onRemove(c: Client, dispose: () => void): void {
    this.#disposers.set(c, dispose);
  }

  has(c: Client): boolean {
    return this.#setOf(c).has(c);
  }

  /** Removes a client; a second call does nothing. */
  remove(c: Client): void {
    if (!this.#setOf(c).delete(c)) return;
    if (c.endpoint === 'servers') this.#serversEndpoint--;
    c.release();
    const dispose = this.#disposers.get(c);
    this.#disposers.delete(c);
    dispose?.();
  }

  /** Connections per endpoint. */
  connections(): BroadcastStats['connections'] {
    return {
      events: this.live.size - this.#serversEndpoint,
      servers: this.#serversEndpoint,
      mcp_status: this.omni.size,
      sse: this.sse.size,
    };
  }

  /** Every client's position, queue and liveness, for diagnostics. */
  inspect(): ClientInfo[] {
    return [...this.live, ...this.omni, ...this.sse].map((c) => ({
      id: c.id,
      endpoint: c.endpoint,
      lastSeq: c.lastSeq,
      queued: c.out.queued,
      queuedBytes: c.out.queuedBytes,
      peakQueued: c.out.peakQueued,
      peakQueuedBytes: c.out.peakQueuedBytes,
      buffered: c.buffered,
      needsResync: c.out.needsResync,
      dropped: c.out.droppedTotal,
      awaitingPong: c.awaitingPongSince !== undefined,
    }));
  }

  #setOf(c: Client): Set<Client> {
    return c.endpoint === 'sse' ? this.sse : c.endpoint === 'mcp_status' ? this.omni : this.live;
  }
}
