// The request path alone: client CPU per callTool over the SDK's in-memory transport with an in-process responder
// that answers every tools/call at once (in a microtask) with server-everything's echo result. No socket, no JSON
// and no upstream process, so what differs between the two targets is only what runs per request on the client
// side: the SDK Client's request() (Protocol: AbortController, timeout entry, closures, zod) under the connection's
// #track, or the connection's own request path. The responder's own cost is the same for both.
import type { BenchRow } from '@mcpproxy/bench-kit';
import { percentile } from '@mcpproxy/bench-kit';
import { silentLogger, systemClock } from '@mcpproxy/contracts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type JSONRPCMessage, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { SdkConnection } from '../src/connection.js';

const SERIAL = 10_000;
const PARALLEL = 20_000;
const CONCURRENCY = 16;

const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function inMemoryConnection(ownRequests: boolean): Promise<SdkConnection> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  serverSide.onmessage = (message) => {
    if (!('id' in message) || !('method' in message)) return;
    const { id } = message;
    const reply = (result: Record<string, unknown>) =>
      queueMicrotask(() => void serverSide.send({ jsonrpc: '2.0', id, result } as JSONRPCMessage));
    if (message.method === 'initialize') {
      reply({
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: { tools: {} },
        serverInfo: { name: 'm', version: '1' },
      });
    } else if (message.method === 'tools/list') {
      reply({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] });
    } else if (message.method === 'tools/call') {
      const args = (message.params as { arguments: { message: string } }).arguments;
      reply({ content: [{ type: 'text', text: `Echo: ${args.message}` }] });
    }
  };
  await serverSide.start();
  const connection = new SdkConnection({
    name: 'mem',
    protocol: 'stdio',
    client: new Client({ name: 'mcpproxy', version: '0.1.0' }, { capabilities: {} }),
    transport: clientSide,
    clock: systemClock,
    logger: silentLogger,
    callTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    ownRequests,
  });
  await connection.initialize(10_000, undefined);
  if ((connection.ownRequests !== undefined) !== ownRequests) throw new Error('the request path is not the one asked');
  return connection;
}

async function burst(connection: SdkConnection, calls: number, concurrency: number): Promise<number> {
  let next = 0;
  const cpu0 = ownCpu();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next++;
        await connection.callTool('echo', { message: 'bench' });
      }
    }),
  );
  return (ownCpu() - cpu0) / calls;
}

/** Rows comparing the own request path with the SDK Client's request(), interleaved rounds, medians. */
export async function requestPathRows(rounds: number): Promise<BenchRow[]> {
  const targets = { sdk: await inMemoryConnection(false), own: await inMemoryConnection(true) };
  const samples: Record<'sdk' | 'own', { serial: number[]; parallel: number[] }> = {
    sdk: { serial: [], parallel: [] },
    own: { serial: [], parallel: [] },
  };
  for (const connection of Object.values(targets)) await burst(connection, 2_000, 4);
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? (['sdk', 'own'] as const) : (['own', 'sdk'] as const)) {
      samples[name].serial.push(await burst(targets[name], SERIAL, 1));
      samples[name].parallel.push(await burst(targets[name], PARALLEL, CONCURRENCY));
    }
  }
  for (const connection of Object.values(targets)) await connection.close();
  const m = (xs: number[]) => percentile(xs, 50);
  const us = (v: number) => `${v.toFixed(1)} µs`;
  return (['serial', 'parallel'] as const).map((kind) => ({
    name: `request path alone, CPU per callTool (in-memory, ${kind === 'serial' ? 'c=1' : `c=${CONCURRENCY}`}), own request path`,
    value: us(m(samples.own[kind])),
    unit: 'CPU/call',
    baseline: { name: "SDK Client's request() under #track", value: us(m(samples.sdk[kind])) },
    ratio: m(samples.own[kind]) / m(samples.sdk[kind]),
  }));
}
