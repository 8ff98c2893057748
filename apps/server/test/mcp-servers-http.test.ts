// /mcp/servers/{name} in front of a Streamable HTTP upstream: the session's own upstream link is
// @mcpproxy/upstream's openTransport (URL credentials as a Basic header, the negotiated protocol version on every
// request, the upstream session DELETEd when the client's session ends).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { connectClient, startProxy, type TestProxy, textOf, waitFor, waitReady } from './fixtures/mcp-harness.js';

interface Seen {
  method: string;
  session: string | undefined;
  version: string | undefined;
  authorization: string | undefined;
}

/** A Streamable HTTP MCP server on 127.0.0.1:0 with an `echo` tool, recording every request it gets. */
async function remoteUpstream() {
  const seen: Seen[] = [];
  /** Session ids in the order their `initialize` was answered. */
  const sessions: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const header = (req: IncomingMessage, name: string) => req.headers[name] as string | undefined;
  const server: Server = createServer(async (req, res) => {
    const session = header(req, 'mcp-session-id');
    seen.push({
      method: req.method ?? '',
      session,
      version: header(req, 'mcp-protocol-version'),
      authorization: header(req, 'authorization'),
    });
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
      const mcp = new McpServer({ name: 'remote', version: '1.0.0' });
      mcp.registerTool(
        'echo',
        { description: 'Echoes', inputSchema: { message: z.string() } },
        async ({ message }) => ({
          content: [{ type: 'text', text: `remote: ${message}` }],
        }),
      );
      await mcp.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    seen,
    sessions,
    close: async () => {
      for (const transport of transports.values()) await transport.close().catch(() => {});
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('/mcp/servers/{name} over a Streamable HTTP upstream', () => {
  let upstream: Awaited<ReturnType<typeof remoteUpstream>>;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await remoteUpstream();
    proxy = await startProxy({
      config: {
        mcpServers: [
          {
            name: 'remote',
            protocol: 'streamable-http',
            url: `http://alice:hunter2@127.0.0.1:${upstream.port}/mcp`,
            quarantined: false,
          },
        ],
      },
    });
    await waitReady(proxy, 'remote');
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('opens its own upstream session with the Basic credentials and version, and DELETEs it when the session ends', async () => {
    const actorSessions = upstream.sessions.length;
    // A client with capabilities gets a link of its own.
    const c = await connectClient(proxy.url, '/mcp/servers/remote', {
      options: { capabilities: { roots: { listChanged: true } } },
    });
    let linkSession: string | undefined;
    try {
      expect((await c.client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
      expect(textOf(await c.client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('remote: hi');
      linkSession = upstream.sessions[actorSessions];
      expect(linkSession).toBeDefined();
    } finally {
      await c.close();
    }
    await waitFor(
      () => upstream.seen.some((r) => r.method === 'DELETE' && r.session === linkSession),
      'the upstream session DELETE',
    );
    const basic = `Basic ${Buffer.from('alice:hunter2').toString('base64')}`;
    const ofLink = upstream.seen.filter((r) => r.session === linkSession);
    expect(ofLink.length).toBeGreaterThanOrEqual(3);
    for (const request of ofLink) {
      expect(request.authorization).toBe(basic);
      expect(request.version).toBe(c.transport.protocolVersion);
    }
  });

  it("shares the actor's upstream session with a client that declares no capabilities", async () => {
    const before = upstream.sessions.length;
    const actorSession = upstream.sessions[0];
    const seen = upstream.seen.length;
    const c = await connectClient(proxy.url, '/mcp/servers/remote');
    try {
      expect(c.client.getServerVersion()).toEqual({ name: 'remote', version: '1.0.0' });
      expect(textOf(await c.client.callTool({ name: 'echo', arguments: { message: 'shared' } }))).toBe(
        'remote: shared',
      );
    } finally {
      await c.close();
    }
    expect(upstream.sessions.length).toBe(before);
    const posts = upstream.seen.slice(seen).filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const request of posts) expect(request.session).toBe(actorSession);
  });
});
