import type { OperationName } from '@mcpproxy/management';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { createSessionEventStore } from '../src/mcp/event-store.js';
import { QUARANTINE_OPERATIONS, toolAllowed, UPSTREAM_OPERATIONS } from '../src/mcp/index.js';

const msg = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });

describe('session event store (Last-Event-ID resumption)', () => {
  it('replays the events of the same stream after the given id, oldest first', async () => {
    const store = createSessionEventStore(10);
    const a1 = await store.storeEvent('a', msg(1));
    await store.storeEvent('b', msg(2));
    await store.storeEvent('a', msg(3));
    await store.storeEvent('a', msg(4));
    const sent: unknown[] = [];
    const stream = await store.replayEventsAfter(a1, {
      send: async (_id, m) => {
        sent.push((m as unknown as { params: { n: number } }).params.n);
      },
    });
    expect(stream).toBe('a');
    expect(sent).toEqual([3, 4]);
    expect(await store.getStreamIdForEventId?.(a1)).toBe('a');
  });

  it('keeps only the last `capacity` events, so memory per session is bounded', async () => {
    const store = createSessionEventStore(2);
    const first = await store.storeEvent('s', msg(1));
    for (let i = 2; i <= 5; i++) await store.storeEvent('s', msg(i));
    const sent: number[] = [];
    await store.replayEventsAfter(first, {
      send: async (_id, m) => {
        sent.push((m as unknown as { params: { n: number } }).params.n);
      },
    });
    expect(sent).toEqual([4, 5]);
    await expect(store.replayEventsAfter('garbage', { send: async () => {} })).rejects.toThrow();
  });
});

describe('management tool visibility', () => {
  const gate = (allowedOps: OperationName[]) => ({ allowed: (op: OperationName) => allowedOps.includes(op) });

  it('lists a management tool only while one of its write operations is allowed for an agent', () => {
    expect(toolAllowed(gate(['addServer']), UPSTREAM_OPERATIONS)).toBe(true);
    expect(toolAllowed(gate([]), UPSTREAM_OPERATIONS)).toBe(false);
    expect(toolAllowed(gate(['quarantineServer']), QUARANTINE_OPERATIONS)).toBe(true);
    expect(toolAllowed(gate(['addServer', 'removeServer']), QUARANTINE_OPERATIONS)).toBe(false);
  });

  it('offers no operation that approves: quarantine_security cannot unquarantine and upstream_servers cannot approve', () => {
    const ops = [...Object.values(UPSTREAM_OPERATIONS), ...Object.values(QUARANTINE_OPERATIONS)];
    expect(ops).not.toContain('unquarantineServer');
    expect(ops).not.toContain('approveTools');
  });
});
