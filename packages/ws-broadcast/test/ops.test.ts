import { describe, expect, it } from 'vitest';
import { parseClientOp } from '../src/ops.js';

describe('parseClientOp', () => {
  it('answers the bare text ping with a bare pong, and {"op":"ping"} with a JSON pong', () => {
    expect(parseClientOp(' ping\n', 'events')).toEqual({ kind: 'text-pong' });
    expect(parseClientOp('{"op":"ping"}', 'events')).toEqual({ kind: 'pong' });
  });

  it('reads a subscribe: legacy type names resolve, an empty server list means every server', () => {
    const op = parseClientOp('{"op":"subscribe","types":["state_change"],"servers":[]}', 'events');
    expect(op.kind).toBe('subscribe');
    if (op.kind !== 'subscribe') return;
    expect([...(op.types ?? [])]).toEqual(['server_state_changed']);
    expect(op.servers).toBeNull();
  });

  it('leaves a filter the op does not name unchanged (undefined, not null)', () => {
    const op = parseClientOp('{"op":"subscribe","servers":["a"]}', 'servers');
    expect(op).toMatchObject({ kind: 'subscribe', types: undefined });
    if (op.kind === 'subscribe') expect([...(op.servers ?? [])]).toEqual(['a']);
  });

  it.each([
    ['not JSON', '{nope', 'BAD_JSON'],
    ['an array', '[1]', 'UNKNOWN_OP'],
    ['an unknown op', '{"op":"dance"}', 'UNKNOWN_OP'],
    ['no op', '{"types":[]}', 'UNKNOWN_OP'],
    ['an unknown type', '{"op":"subscribe","types":["nope"]}', 'BAD_REQUEST'],
    ['servers that are not strings', '{"op":"subscribe","servers":[1]}', 'BAD_REQUEST'],
  ])('refuses %s with its documented code', (_, text, code) => {
    expect(parseClientOp(text, 'events')).toMatchObject({ kind: 'error', code });
  });

  it('names the unknown op in its message', () => {
    expect(parseClientOp('{"op":"dance"}', 'events')).toMatchObject({ message: expect.stringContaining('"dance"') });
  });

  it('refuses an empty server list on /ws/servers, which needs at least one', () => {
    expect(parseClientOp('{"op":"subscribe","servers":[]}', 'servers')).toMatchObject({
      kind: 'error',
      code: 'BAD_REQUEST',
    });
  });
});
