import { type Client, Mode } from './client.js';
import type { EndpointContext } from './context.js';
import { BroadcastError } from './errors.js';
import { problemResponse } from './http.js';
import { type LiveQuery, parseLiveQuery } from './query.js';
import { SSE_HIGH_WATER_MARK } from './transport.js';

/** The SSE endpoint (`GET /events`): one web `ReadableStream` per client, ended on abort or on close. */
export interface SseEndpoint {
  /** Answers one request: a `text/event-stream` response, or a problem+json refusal. */
  handle(request: Request): Promise<Response>;
  /** Ends every stream (on shutdown). */
  endAll(): void;
}

/**
 * Creates the SSE endpoint. The resume point comes from `Last-Event-ID` (`EPOCH:SEQ`, what a browser's
 * EventSource sends back on reconnect) or from `since` and `epoch` in the URL; the stream's own backpressure
 * (`desiredSize`) is what the client's queue waits on.
 */
export function createSseEndpoint(ctx: EndpointContext): SseEndpoint {
  const { registry, resume, liveness, authorize, checkOrigin } = ctx;

  const end = (c: Client): void => {
    if (!registry.has(c)) return;
    registry.remove(c);
    try {
      c.controller?.close();
    } catch {
      // Already closed or cancelled by the reader.
    }
  };

  const handle = async (request: Request): Promise<Response> => {
    if (ctx.isClosed()) return problemResponse(503, 'INTERNAL', 'the server is shutting down');
    if (checkOrigin && !checkOrigin(request)) {
      return problemResponse(403, 'FORBIDDEN_ORIGIN', 'this Origin may not open live connections');
    }
    if (authorize && !(await authorize(request))) {
      return problemResponse(401, 'UNAUTHORIZED', 'a valid API key is required');
    }
    if (ctx.isClosed()) return problemResponse(503, 'INTERNAL', 'the server is shutting down');
    let query: LiveQuery;
    try {
      query = parseLiveQuery(new URL(request.url).searchParams, {
        lastEventId: request.headers.get('last-event-id'),
      });
    } catch (error) {
      if (error instanceof BroadcastError) return problemResponse(400, 'BAD_REQUEST', error.message);
      throw error;
    }
    let client: Client | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          client = ctx.newClient('sse', Mode.Sse, query, {
            controller: controller as ReadableStreamDefaultController<Uint8Array>,
          });
        },
        pull() {
          client?.out.flush();
        },
        cancel() {
          if (client) registry.remove(client);
        },
      },
      { highWaterMark: SSE_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    // `start` runs inside the constructor, so the client exists here.
    const c = client as unknown as Client;
    registry.add(c);
    liveness.armKeepalive();
    resume.greet(c, query);
    const onAbort = () => end(c);
    if (request.signal.aborted) end(c);
    else {
      request.signal.addEventListener('abort', onAbort, { once: true });
      registry.onRemove(c, () => request.signal.removeEventListener('abort', onAbort));
    }
    return new Response(stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      },
    });
  };

  const endAll = (): void => {
    for (const c of [...registry.sse]) end(c);
  };

  return { handle, endAll };
}
