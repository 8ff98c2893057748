/**
 * The floor of an HTTP-to-HTTP hop in Node (issue 15): a byte forwarder that does no MCP work at all. Every request
 * goes to the upstream on the same path over a keep-alive agent, headers copied; the answer's bytes are piped back.
 * Nothing is parsed. What it costs per call is what any gateway written on `node:http` pays before doing anything of
 * its own, so the bench shows it beside mcpproxy's HTTP paths.
 *
 * `node --import tsx floor-proxy.ts UPSTREAM_ORIGIN` prints `listening on PORT`.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';

const upstream = new URL(process.argv[2] ?? 'http://127.0.0.1:3001');
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

function copy(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * Sends the request upstream; a kept-alive socket the upstream closed meanwhile (its idle timeout) is retried once on
 * a new one, as any keep-alive client must.
 */
function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, retry: boolean): void {
  const headers = copy(req.headers);
  if (body.length > 0) headers['content-length'] = String(body.length);
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, copy(up.headers));
      up.pipe(res);
    },
  );
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (retry && out.reusedSocket && error.code === 'ECONNRESET') return forward(req, res, body, false);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  // The client went away before its answer was written (a closed event stream): the upstream request ends too.
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  out.end(body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => forward(req, res, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), true));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening on ${typeof address === 'object' && address ? address.port : 0}\n`);
});
const stop = () => {
  server.close();
  agent.destroy();
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
