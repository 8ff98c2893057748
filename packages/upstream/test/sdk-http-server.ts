// A small MCP server on the SDK's own Streamable HTTP server transport, in-process on 127.0.0.1:0, for the lean
// POST path tests: one SDK transport per session, optional JSON answers and event store, tools that stream
// progress and logging before their answer, ask the client for a sampling, or cut their stream and finish later.
// Every request is recorded (method, status, the headers that matter) and open sockets are counted.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CreateMessageResultSchema } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

export interface RecordedRequest {
  method: string;
  status: number;
  /** The JSON-RPC method of a POST's single message, if it had one. */
  rpc: string | undefined;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  lastEventId: string | undefined;
  /** Whether undici's fetch sent it (it adds `sec-fetch-mode`; node:http does not). */
  viaFetch: boolean;
  custom: string | undefined;
}

export interface SdkHttpServer {
  url: string;
  requests: RecordedRequest[];
  /**
   * Sockets the server holds open right now; with `leanOnly`, those that carried only node:http requests (fetch's
   * sockets belong to undici's global pool, which keeps idle ones for 4 s whoever used them).
   */
  openSockets(leanOnly?: boolean): number;
  /** Session ids the server knows. */
  sessions(): string[];
  /** Forgets every session (closing its transport): the next request with its id is answered 404. */
  expire(): Promise<void>;
  /** Resolves the `gate` the `progress` and `poll` tools wait on. */
  open(): void;
  /** Calls of the `hang` tool received, and those the client has since cancelled (by JSON-RPC request id). */
  hangs: { started: Array<string | number>; cancelled: Array<string | number> };
  close(): Promise<void>;
}

export interface SdkHttpServerOptions {
  /** Answer POSTs with one JSON body instead of an SSE stream. */
  json?: boolean;
  /** Keep events (ids, priming events, replay on GET with Last-Event-ID) and hint `retry: 10`. */
  eventStore?: boolean;
}

export async function startSdkHttpServer({ json = false, eventStore = false }: SdkHttpServerOptions = {}) {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const fetchSockets = new WeakSet<Socket>();
  const hangs: SdkHttpServer['hangs'] = { started: [], cancelled: [] };
  let release!: () => void;
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });

  function mcpServer(): McpServer {
    const server = new McpServer({ name: 'lean-fixture', version: '1.0.0' }, { capabilities: { logging: {} } });
    server.registerTool('echo', { inputSchema: { message: z.string() } }, ({ message }) => ({
      content: [{ type: 'text', text: `Echo: ${message}` }],
    }));
    server.registerTool('progress', {}, async (extra) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: 1 },
        });
      }
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'working' } });
      // Waits until the test saw the progress: a transport that held messages until the answer would never get here.
      await gate;
      return { content: [{ type: 'text', text: 'done' }] };
    });
    server.registerTool('sample', {}, async (extra) => {
      const sampled = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 },
        },
        CreateMessageResultSchema,
      );
      const text = sampled.content.type === 'text' ? sampled.content.text : '?';
      return { content: [{ type: 'text', text: `sampled: ${text}` }] };
    });
    server.registerTool('hang', {}, (extra) => {
      hangs.started.push(extra.requestId);
      // notifications/cancelled aborts the handler's signal.
      extra.signal.addEventListener('abort', () => hangs.cancelled.push(extra.requestId), { once: true });
      return new Promise(() => {});
    });
    server.registerTool('poll', {}, async (extra) => {
      // Ends this POST's stream (the client has an event id and resumes with a GET), then answers later.
      extra.closeSSEStream?.();
      await gate;
      return { content: [{ type: 'text', text: 'resumed' }] };
    });
    return server;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const record: RecordedRequest = {
      method: req.method ?? '?',
      status: 0,
      rpc: (body as { method?: string } | undefined)?.method,
      sessionId: header('mcp-session-id'),
      protocolVersion: header('mcp-protocol-version'),
      lastEventId: header('last-event-id'),
      viaFetch: req.headers['sec-fetch-mode'] !== undefined,
      custom: header('x-custom'),
    };
    requests.push(record);
    if (record.viaFetch) fetchSockets.add(req.socket);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const sessionId = record.sessionId;
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (sessionId && !transport) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    if (!transport) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: json,
        ...(eventStore ? { eventStore: new InMemoryEventStore(), retryInterval: 10 } : {}),
        onsessioninitialized: (id) => {
          transports.set(id, created);
        },
      });
      await mcpServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  }

  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  http.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const server: SdkHttpServer = {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    hangs,
    openSockets: (leanOnly = false) => [...sockets].filter((s) => !leanOnly || !fetchSockets.has(s)).length,
    sessions: () => [...transports.keys()],
    async expire() {
      const all = [...transports.values()];
      transports.clear();
      await Promise.all(all.map((t) => t.close()));
    },
    open() {
      release();
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    async close() {
      await server.expire();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
