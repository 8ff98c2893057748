/**
 * The handshake of a `/mcp/servers/{name}` session's own link: start the transport, send `initialize` and wait for
 * the upstream's answer, all within `init_timeout`. The session routes the answer here (see {@link LinkInit}); the
 * protocol version answered becomes the link's.
 */
import type { Clock, TimerHandle } from '@mcpproxy/contracts';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Msg } from './passthrough-rules.js';
import type { UpstreamLink } from './upstream-link.js';

/** The `initialize` a link is waiting to have answered, settled by the session's message routing. */
export interface LinkInit {
  id: RequestId;
  resolve(m: Msg): void;
  reject(error: Error): void;
}

/**
 * Starts `link`, sends `init` and resolves with `answered` (the upstream's answer), within `ms`. Rejects on a
 * spawn, transport or deadline failure; the deadline's timer is cleared either way.
 */
export async function handshake(
  link: UpstreamLink,
  init: Msg,
  answered: Promise<Msg>,
  ms: number,
  clock: Clock,
): Promise<Msg> {
  let timer: TimerHandle | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`connect + initialize took longer than ${ms} ms`)), ms);
  });
  try {
    const response = await Promise.race([
      (async () => {
        await link.transport.start();
        await link.transport.send(init);
        return answered;
      })(),
      deadline,
    ]);
    const version = (response.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof version === 'string') link.setProtocolVersion(version);
    return response;
  } finally {
    clock.clearTimeout(timer);
  }
}
