import { describe, expect, it } from 'vitest';
import { type Counters, newCounters, OutboundQueue, type Sink } from '../src/queue.js';

/** A sink with no socket: it records writes and keeps up only while `open` says so. */
class FakeSink implements Sink {
  gone = false;
  open = true;
  written: (Buffer | string)[] = [];
  writable(): boolean {
    return this.open;
  }
  write(data: Buffer | string): void {
    this.written.push(data);
  }
}

function setup(limits = { sendBuffer: 3, maxBufferedBytes: 1_000 }) {
  const sink = new FakeSink();
  const counters: Counters = newCounters();
  let resyncs = 0;
  const q: OutboundQueue<string> = new OutboundQueue(
    sink,
    limits,
    counters,
    (owner) => {
      expect(owner).toBe('the client');
      resyncs++;
      q.needsResync = false;
      q.droppedSinceResync = 0;
    },
    'the client',
  );
  return { sink, counters, q, resyncs: () => resyncs };
}

describe('OutboundQueue', () => {
  it('writes straight through while the sink keeps up, and counts deliveries', () => {
    const { sink, counters, q } = setup();
    q.offer('a', 1, 'tool_called', 1);
    q.offer('b', 1, 'batch', 5, ['x', 'x', 'x', 'x', 'x']);
    expect(sink.written).toEqual(['a', 'b']);
    expect(counters.delivered).toBe(6);
    expect(q.queued).toBe(0);
  });

  it('queues while the sink is backpressured and flushes in order when it keeps up again', () => {
    const { sink, counters, q } = setup();
    sink.open = false;
    q.offer('a', 10, 't', 1);
    q.offer('b', 20, 't', 1);
    expect(sink.written).toEqual([]);
    expect([q.queued, q.queuedBytes, q.peakQueued, q.peakQueuedBytes]).toEqual([2, 30, 2, 30]);
    sink.open = true;
    q.flush();
    expect(sink.written).toEqual(['a', 'b']);
    expect([q.queued, q.queuedBytes, counters.delivered]).toEqual([0, 0, 2]);
  });

  it('keeps order: a message offered while others wait queues behind them even if the sink has room', () => {
    const { sink, q } = setup();
    sink.open = false;
    q.offer('a', 1, 't', 1);
    sink.open = true;
    q.offer('b', 1, 't', 1);
    expect(sink.written).toEqual([]);
    q.flush();
    expect(sink.written).toEqual(['a', 'b']);
  });

  it('drops everything queued when the message limit would be passed, counts it by type, and owes a resync', () => {
    const { sink, counters, q, resyncs } = setup();
    sink.open = false;
    q.offer('a', 1, 'tool_called', 1);
    q.offer('b', 1, 'batch', 2, ['tool_called', 'connection_lost']);
    q.offer('c', 1, 'connection_lost', 1);
    q.offer('d', 1, 'tool_called', 1);
    expect(q.needsResync).toBe(true);
    expect(q.queued).toBe(0);
    expect(counters.droppedTotal).toBe(5);
    expect(Object.fromEntries(counters.droppedByType)).toEqual({ tool_called: 3, connection_lost: 2 });
    expect([q.droppedSinceResync, q.droppedTotal]).toEqual([5, 5]);
    // While the resync is owed, new events are dropped too, not queued.
    q.offer('e', 1, 'tool_called', 1);
    expect([q.queued, counters.droppedTotal]).toEqual([0, 6]);
    expect(resyncs()).toBe(0);
    sink.open = true;
    q.flush();
    expect(resyncs()).toBe(1);
    expect(sink.written).toEqual([]);
  });

  it('overflows on the byte limit as well as on the message limit', () => {
    const { sink, q } = setup({ sendBuffer: 100, maxBufferedBytes: 25 });
    sink.open = false;
    q.offer('a', 20, 't', 1);
    q.offer('b', 10, 't', 1);
    expect(q.needsResync).toBe(true);
    expect(q.droppedTotal).toBe(2);
  });

  it('still sends control frames while a resync is owed, and never counts them as dropped', () => {
    const { sink, counters, q } = setup({ sendBuffer: 1, maxBufferedBytes: 1_000 });
    sink.open = false;
    q.offer('a', 1, 't', 1);
    q.offerControl('pong', 4, 'pong');
    expect(q.needsResync).toBe(true);
    expect(counters.droppedTotal).toBe(1);
    expect(counters.droppedByType.has('pong')).toBe(false);
    sink.open = true;
    q.offerControl('pong', 4, 'pong');
    expect(sink.written).toEqual(['pong']);
  });

  it('does not ask for the resync until the queue is empty and the sink has room', () => {
    const { sink, q, resyncs } = setup({ sendBuffer: 2, maxBufferedBytes: 1_000 });
    sink.open = false;
    q.offer('a', 1, 't', 1);
    q.offer('b', 1, 't', 1);
    q.offer('c', 1, 't', 1);
    q.offerControl('err', 3, 'error');
    q.flush();
    expect(resyncs()).toBe(0);
    sink.open = true;
    q.flush();
    expect(sink.written).toEqual(['err']);
    expect(resyncs()).toBe(1);
  });

  it('sendNow writes past backpressure; keepalive writes only when idle', () => {
    const { sink, q } = setup();
    sink.open = false;
    q.sendNow('hello', 5);
    q.keepalive(Buffer.from(': ping'));
    expect(sink.written).toEqual(['hello']);
  });

  it('writes and queues nothing once released or once the sink is gone', () => {
    const { sink, q } = setup();
    sink.gone = true;
    q.offer('a', 1, 't', 1);
    q.sendNow('b', 1);
    sink.gone = false;
    q.release();
    q.offer('c', 1, 't', 1);
    q.offerControl('d', 1, 'pong');
    expect(sink.written).toEqual([]);
    expect(q.queued).toBe(0);
  });

  it('stays bounded through a long stall: never more than the limit queued', () => {
    const { sink, q } = setup({ sendBuffer: 8, maxBufferedBytes: 1_000_000 });
    sink.open = false;
    for (let i = 0; i < 10_000; i++) {
      q.offer(`m${i}`, 2, 't', 1);
      expect(q.queued).toBeLessThanOrEqual(8);
      if (q.needsResync) q.needsResync = false;
    }
    expect(q.peakQueued).toBe(8);
  });
});
