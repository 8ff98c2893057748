/** Why the broadcaster refused something. */
export type BroadcastErrorCode =
  /** An option is out of range (e.g. `send_buffer` < 1), or the bus epoch cannot be written in an SSE `id:`. */
  | 'INVALID_OPTIONS'
  /** A query parameter of a live endpoint is malformed (unknown type, bad `since`, missing `server`). */
  | 'BAD_QUERY';

/** The one error class of `@mcpproxy/ws-broadcast`. */
export class BroadcastError extends Error {
  constructor(
    readonly code: BroadcastErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BroadcastError';
  }
}
