import { makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import { eventId } from '../src/codec.js';
import { BroadcastError, frameText, omni2Message, omni2Status } from '../src/index.js';
import { parseEventId, parseLiveQuery } from '../src/query.js';

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

  it('takes the resume point from an EPOCH:SEQ Last-Event-ID over since and epoch in the URL', () => {
    expect(parseLiveQuery(new URLSearchParams('since=3&epoch=old'), { lastEventId: 'e1:9' })).toMatchObject({
      since: 9,
      epoch: 'e1',
    });
  });

  it('resumes nothing from a malformed Last-Event-ID, even with since and epoch in the URL', () => {
    const q = parseLiveQuery(new URLSearchParams('since=3&epoch=e1'), { lastEventId: '9' });
    expect(q).toMatchObject({ since: undefined, epoch: undefined });
  });

  it('falls back to since and epoch when Last-Event-ID is empty (EventSource sends none then)', () => {
    expect(parseLiveQuery(new URLSearchParams('since=3&epoch=e1'), { lastEventId: '' })).toMatchObject({
      since: 3,
      epoch: 'e1',
    });
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

describe('SSE event ids', () => {
  it('reads back what eventId writes, for every seq up to the largest safe integer', () => {
    for (const seq of [0, 1, 42, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(parseEventId(eventId('3f9a0c1d2e4b5a6c', seq))).toEqual({ epoch: '3f9a0c1d2e4b5a6c', since: seq });
    }
  });

  it('splits at the last colon, so an epoch with colons of its own still parses', () => {
    expect(parseEventId('a:b:7')).toEqual({ epoch: 'a:b', since: 7 });
  });

  it.each([
    ['a bare number', '12'],
    ['garbage', 'not-an-id'],
    ['empty', ''],
    ['a colon alone', ':'],
    ['a missing seq', 'e1:'],
    ['a missing epoch', ':12'],
    ['a negative seq', 'e1:-1'],
    ['a signed seq', 'e1:+1'],
    ['leading zeros', 'e1:007'],
    ['a fraction', 'e1:1.5'],
    ['an exponent', 'e1:1e3'],
    ['spaces', 'e1: 12'],
    ['hex', 'e1:0x10'],
    ['a seq past the largest safe integer', 'e1:9007199254740993'],
    ['a huge seq', `e1:${'9'.repeat(40)}`],
    ['a trailing colon', 'e1:12:'],
    ['an overlong id', `${'e'.repeat(300)}:1`],
  ])('reads no position from %s', (_, id) => {
    expect(parseEventId(id)).toBeUndefined();
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
