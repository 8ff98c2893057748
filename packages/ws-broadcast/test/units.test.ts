import { makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import { BroadcastError, frameText, omni2Message, omni2Status } from '../src/index.js';
import { parseLiveQuery } from '../src/query.js';

describe('frameText', () => {
  it.each([0, 125, 126, 65_535, 65_536, 70_000])('frames a %i-byte text as one final unmasked frame', (len) => {
    const text = 'a'.repeat(len);
    const frame = frameText(text);
    expect(frame[0]).toBe(0x81);
    const [header, payloadLen] =
      len < 126
        ? [2, frame[1]]
        : len < 65_536
          ? [4, frame.readUInt16BE(2)]
          : [10, frame.readUInt32BE(2) * 2 ** 32 + frame.readUInt32BE(6)];
    expect(frame[1]! & 0x80).toBe(0);
    if (len >= 126) expect(frame[1]).toBe(len < 65_536 ? 126 : 127);
    expect(payloadLen).toBe(len);
    expect(frame.length).toBe(header + len);
    expect(frame.subarray(header).toString()).toBe(text);
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    const frame = frameText('é€😀');
    expect(frame[1]).toBe(2 + 3 + 4);
    expect(frame.subarray(2).toString('utf8')).toBe('é€😀');
  });
});

describe('parseLiveQuery', () => {
  it('reads types (with legacy aliases), repeated and comma-separated servers, since, epoch and legacy', () => {
    const q = parseLiveQuery(
      new URLSearchParams('types=tool_called,state_change&server=a&server=b,c&since=12&epoch=e1&legacy=1'),
    );
    expect([...(q.types ?? [])]).toEqual(['tool_called', 'server_state_changed']);
    expect([...(q.servers ?? [])]).toEqual(['a', 'b', 'c']);
    expect(q).toMatchObject({ since: 12, epoch: 'e1', legacy: true });
  });

  it('means everything when types and server are absent or empty', () => {
    expect(parseLiveQuery(new URLSearchParams('types=&server='))).toMatchObject({ types: null, servers: null });
  });

  it('prefers Last-Event-ID over since', () => {
    expect(parseLiveQuery(new URLSearchParams('since=3'), { lastEventId: '9' }).since).toBe(9);
  });

  it('refuses unknown types, a malformed since, and a missing server where one is required', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof BroadcastError ? error.code : 'other';
      }
      return 'none';
    };
    expect(code(() => parseLiveQuery(new URLSearchParams('types=nope')))).toBe('BAD_QUERY');
    expect(code(() => parseLiveQuery(new URLSearchParams('since=1.5')))).toBe('BAD_QUERY');
    expect(code(() => parseLiveQuery(new URLSearchParams(''), { requireServer: true }))).toBe('BAD_QUERY');
  });
});

describe('OMNI2 mapping', () => {
  it('maps every server state to an OMNI2 status', () => {
    expect(
      (['idle', 'connecting', 'ready', 'error', 'disabled', 'quarantined', 'stopped'] as const).map(omni2Status),
    ).toEqual(['unknown', 'unknown', 'healthy', 'unhealthy', 'disabled', 'quarantined', 'inactive']);
  });

  it('has nothing to say about tool calls, config reloads or servers_changed', () => {
    const base = { seq: 1, epoch: 'e', time: '2026-01-01T00:00:00.000Z' };
    expect(omni2Message({ ...base, type: 'tool_called', data: { tool: 't', duration_ms: 1, status: 'ok' } })).toBe(
      undefined,
    );
    expect(omni2Message({ ...base, type: 'servers_changed', data: {} })).toBe(undefined);
    expect(
      JSON.parse(
        omni2Message({
          ...base,
          type: 'connection_lost',
          server: 's',
          data: { error: 'boom', summary: makeSummary('s') },
        }) as string,
      ),
    ).toMatchObject({ type: 'health_event', mcp_name: 's', event_type: 'failure', data: { error: 'boom' } });
  });
});
