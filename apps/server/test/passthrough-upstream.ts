// A real Streamable HTTP MCP server on 127.0.0.1:0 for the passthrough tests, on the SDK's low-level `Server` so a
// tool can fail with a JSON-RPC error (McpServer would turn a throw into an isError result) and can send
// server-to-client requests on the standalone GET stream (no relatedRequestId), as the conformance suite's
// reference server does for requests not tied to the call.
import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

export interface SeenRequest {
  method: string;
  session: string | undefined;
}

export interface ScriptedUpstream {
  url: string;
  /** Every HTTP request, in order. */
  seen: SeenRequest[];
  /** Session ids in the order their `initialize` was answered. */
  sessions: string[];
  /** Names of the tools called, in order. */
  calls: string[];
  /** Server-to-client requests sent on a standalone stream that did not exist (lost). */
  lost(): number;
  close(): Promise<void>;
}

const TOOLS = [
  { name: 'echo', description: 'Echoes', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
  { name: 'fail', description: 'Fails with a JSON-RPC error', inputSchema: { type: 'object' } },
  { name: 'slow', description: 'Answers only when cancelled', inputSchema: { type: 'object' } },
  { name: 'sample_standalone', description: 'Samples over the standalone stream', inputSchema: { type: 'object' } },
  { name: 'elicit_standalone', description: 'Elicits over the standalone stream', inputSchema: { type: 'object' } },
  { name: 'touch_resources', description: 'Announces a new resource list', inputSchema: { type: 'object' } },
  {
    name: 'count',
    description: 'Reports progress 1..n, then answers',
    inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
  },
] as const;

function text(t: string): CallToolResult {
  return { content: [{ type: 'text', text: t }] };
}

function mcpServer(calls: string[]): Server {
  const server = new Server(
    { name: 'scripted', version: '1.0.0' },
    { capabilities: { tools: {}, resources: { listChanged: true } } },
  );
  server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: [] }));
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...TOOLS] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    calls.push(request.params.name);
    switch (request.params.name) {
      case 'echo':
        return text(`scripted: ${String(request.params.arguments?.message)}`);
      case 'fail':
        throw new McpError(ErrorCode.InternalError, 'tool blew up');
      case 'slow':
        await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve()));
        return text('cancelled');
      case 'sample_standalone': {
        // No relatedRequestId: the request goes on the session's standalone GET stream.
        const result = await server.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
          maxTokens: 5,
        });
        return text(`sampled: ${result.content.type === 'text' ? result.content.text : '?'}`);
      }
      case 'touch_resources':
        await server.sendResourceListChanged();
        return text('touched');
      case 'count': {
        // Progress and the answer back to back, as a fast server writes them.
        const n = Number(request.params.arguments?.n ?? 3);
        const token = request.params._meta?.progressToken;
        for (let i = 1; i <= n && token !== undefined; i++) {
          void extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i },
          });
        }
        return text(`counted to ${n}`);
      }
      case 'elicit_standalone': {
        const result = await server.elicitInput({
          message: 'Your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
        });
        return text(`elicited: ${result.action} ${JSON.stringify(result.content ?? {})}`);
      }
      default:
        throw new McpError(ErrorCode.InvalidParams, `no tool ${request.params.name}`);
    }
  });
  return server;
}

export interface ScriptedUpstreamOptions {
  /**
   * Holds every GET (standalone stream) this long before handling it: a slow path for the stream, which widens the
   * window in which a client that does not wait for its stream loses what the server sends there. @default 0
   */
  getDelayMs?: number;
}

/** Starts the upstream; one SDK transport and `Server` per session. */
export async function scriptedUpstream({ getDelayMs = 0 }: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const seen: SeenRequest[] = [];
  const sessions: string[] = [];
  const calls: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let lost = 0;
  const header = (req: IncomingMessage, name: string) => req.headers[name] as string | undefined;
  const http: HttpServer = createServer(async (req, res) => {
    const session = header(req, 'mcp-session-id');
    seen.push({ method: req.method ?? '', session });
    let transport = session === undefined ? undefined : transports.get(session);
    if (!transport) {
      if (session !== undefined || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.push(id);
          transports.set(id, created);
        },
        onsessionclosed: (id) => {
          transports.delete(id);
        },
      });
      // The SDK drops a standalone message when no GET stream is open; count those losses.
      const send = created.send.bind(created);
      created.send = async (message, options) => {
        const standalone = options?.relatedRequestId === undefined && 'method' in message && 'id' in message;
        const inner = (created as unknown as { _webStandardTransport?: { _streamMapping?: Map<string, unknown> } })
          ._webStandardTransport;
        const streams = inner?._streamMapping;
        if (standalone && streams && !streams.has('_GET_stream')) lost++;
        return send(message, options);
      };
      await mcpServer(calls).connect(created);
      transport = created;
    }
    if (req.method === 'GET' && getDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, getDelayMs));
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    sessions,
    calls,
    lost: () => lost,
    close: async () => {
      for (const transport of transports.values()) await transport.close().catch(() => {});
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
