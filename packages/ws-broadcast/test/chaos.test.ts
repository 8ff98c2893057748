import type { Duplex } from 'node:stream';
import { waitFor } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { publishCall, SeqClient, socketOf, startHub } from './helpers.js';

describe('forced disconnects', () => {
  it('leaves every client with a gapless seq sequence or an explicit resync across 1,000 forced reconnects', async () => {
    await using hub = await startHub({ realClock: true, replayBuffer: 200 });
    const serverSockets = new Map<number, Duplex>();
    hub.server.on('upgrade', (_req, socket: Duplex & { remotePort?: number }) => {
      if (socket.remotePort !== undefined) serverSockets.set(socket.remotePort, socket);
      socket.once('close', () => serverSockets.delete(socket.remotePort as number));
    });

    // A steady stream: a few events every turn of the event loop until the clients are done.
    let streaming = true;
    const stream = (async () => {
      let n = 0;
      while (streaming) {
        for (let i = 0; i < 4; i++) publishCall(hub.bus, n % 2 ? 'alpha' : 'beta', 'echo', n++);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const CLIENTS = 20;
    const CYCLES = 50;
    const silentGaps: string[] = [];
    let hellosRecovered = 0;
    let hellosFresh = 0;
    let resyncs = 0;
    let reconnects = 0;

    const runClient = async (k: number) => {
      let pos: number | undefined;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const c = SeqClient.open(hub.ws('/ws/events'), pos, hub.bus.epoch);
        await c.waitFor(() => c.hellos.length === 1, 'hello');
        const start = c.pos;
        // Let a few events arrive, then cut the connection from one side or the other, without a close handshake.
        await c.waitFor(() => c.pos >= start + 3 + ((k + cycle) % 7), 'some events');
        if ((k + cycle) % 2 === 0) {
          socketOf(c.ws).destroy();
        } else {
          serverSockets.get(socketOf(c.ws).localPort as number)?.destroy();
        }
        await c.waitFor(() => c.closed, 'the cut');
        silentGaps.push(...c.silentGaps.map((g) => `client ${k} cycle ${cycle}: ${g}`));
        if (c.hellos[0]?.recovered) hellosRecovered++;
        else hellosFresh++;
        resyncs += c.resyncs;
        reconnects++;
        pos = c.pos;
        // Every fifth time, stay away until the ring no longer covers the resume point: an explicit fresh hello.
        if (cycle % 5 === 4) {
          const away = pos;
          await waitFor(() => hub.bus.seq > away + 250, { what: 'the ring to move past the client' });
        }
      }
      // Finally stay connected and catch up with everything published.
      return SeqClient.open(hub.ws('/ws/events'), pos, hub.bus.epoch);
    };

    const finals = await Promise.all(Array.from({ length: CLIENTS }, (_, k) => runClient(k)));
    streaming = false;
    await stream;
    const last = hub.bus.seq;
    await Promise.all(finals.map((c) => c.waitFor(() => c.pos === last, 'the final catch-up')));
    for (const c of finals) silentGaps.push(...c.silentGaps);

    expect(reconnects).toBe(CLIENTS * CYCLES);
    expect(silentGaps).toEqual([]);
    // Most resumes come from the ring; any that could not are explicit (fresh hello or resync), never silent.
    expect(hellosRecovered).toBeGreaterThan(0);
    expect(hellosFresh).toBeGreaterThanOrEqual(CLIENTS * (CYCLES / 5));
    expect(hellosRecovered + hellosFresh).toBe(1_000);
    const finalRecovered = finals.filter((c) => c.hellos[0]?.recovered).length;
    expect(hub.b.stats().replays).toBe(hellosRecovered + finalRecovered);
    expect(resyncs).toBe(0); // default limits: a steady stream never overflows a reading client
    for (const c of finals) c.ws.terminate();
  }, 60_000);
});
