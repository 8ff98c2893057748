// The pieces under the lean POST path: the SSE parser (eventsource-parser 3 semantics, as the SDK's client reads
// SSE) at every chunk split, and the zod-free JSON-RPC check against the SDK's own schema.
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { toJsonRpcMessage } from '../src/jsonrpc.js';
import { type SseEvent, SseEventTooLargeError, SseParser } from '../src/sse-parser.js';

function parse(chunks: string[], maxEventSize = 1_000_000): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms), maxEventSize });
  for (const chunk of chunks) parser.feed(chunk);
  return { events, retries };
}

const STREAM = [
  '\uFEFF: a comment\n',
  'id: 1\nretry: 250\ndata: \n\n', // the SDK server's priming event: an id and one empty data line
  'event: message\ndata: {"a":1}\n\n',
  'data: line one\r\ndata:line two\r\n\r\n', // CRLF, and no space after the colon
  'id: 2\revent: other\rdata: x\r\r', // lone CR
  'data\nfoo: ignored\nretry: soon\nid: bad\0id\ndata: y\n\n', // a bare field, an unknown one, an invalid retry, NUL in id
  'id: 3\n\n', // no data line: not dispatched, and its id is not carried over
  'data: z\n\n',
  'data: never finished\n', // no blank line before the end: dropped
].join('');

const EXPECTED: SseEvent[] = [
  { id: '1', event: undefined, data: '' },
  { id: undefined, event: 'message', data: '{"a":1}' },
  { id: undefined, event: undefined, data: 'line one\nline two' },
  { id: '2', event: 'other', data: 'x' },
  { id: undefined, event: undefined, data: '\ny' },
  { id: undefined, event: undefined, data: 'z' },
];

describe('SseParser', () => {
  it('parses a stream fed whole', () => {
    expect(parse([STREAM])).toEqual({ events: EXPECTED, retries: [250] });
  });

  it('parses the same events whichever two chunks the stream arrives in', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      expect(parse([STREAM.slice(0, cut), STREAM.slice(cut)]).events, `cut at ${cut}`).toEqual(EXPECTED);
    }
  });

  it('parses the same events one character at a time', () => {
    expect(parse([...STREAM]).events).toEqual(EXPECTED);
  });

  it('dispatches each event as soon as its blank line arrives', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => events.push(e), maxEventSize: 100 });
    parser.feed('data: a\n');
    expect(events).toEqual([]);
    parser.feed('\ndata: b');
    expect(events.map((e) => e.data)).toEqual(['a']);
  });

  it('throws SseEventTooLargeError when one event or one unfinished line passes the limit', () => {
    expect(() => parse([`data: ${'x'.repeat(101)}\n\n`], 100)).toThrow(SseEventTooLargeError);
    expect(() => parse(['data: ', 'x'.repeat(60), 'x'.repeat(60)], 100)).toThrow('exceeds 100 characters');
    expect(() => parse(['data: 1234\n'.repeat(30)], 100)).toThrow(SseEventTooLargeError);
    // Many small events in one chunk are fine.
    expect(parse(['data: 1234\n\n'.repeat(30)], 100).events).toHaveLength(30);
  });
});

describe('toJsonRpcMessage', () => {
  const valid: unknown[] = [
    { id: 1, jsonrpc: '2.0', result: { content: [{ type: 'text', text: 'x' }], isError: false, z: 1 } },
    { result: { b: 1, a: 2 }, jsonrpc: '2.0', id: 'x' },
    { result: { _meta: { progressToken: 1, extra: true }, a: 1 }, jsonrpc: '2.0', id: 1 },
    { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 2, total: 3 } },
    { params: { b: 1, a: { c: 1 } }, method: 'x', jsonrpc: '2.0', id: 2 },
    {
      params: { _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't', drop: 1 } } },
      method: 'x',
      jsonrpc: '2.0',
      id: 2,
    },
    { jsonrpc: '2.0', id: 3, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 3, error: { message: 'm', code: -1, data: { x: 1 } } },
    { jsonrpc: '2.0', error: { message: 'm', code: -32700 } },
    { jsonrpc: '2.0', id: 3, error: { message: 'm', code: -1, extra: 'stripped by zod' } },
  ];
  const invalid: unknown[] = [
    { jsonrpc: '2.0', id: 1.5, result: {} },
    { jsonrpc: '2.0', id: 1, result: [] },
    { jsonrpc: '1.0', id: 1, result: {} },
    { jsonrpc: '2.0', id: 1, result: {}, extra: 1 },
    { jsonrpc: '2.0', id: 1, method: 2 },
    { jsonrpc: '2.0', id: null, method: 'x' },
    { jsonrpc: '2.0', id: 1, error: { code: 1.5, message: 'm' } },
    { jsonrpc: '2.0', id: 1, result: { _meta: { progressToken: {} } } },
    [],
    null,
    'text',
  ];

  it('returns what the SDK schema returns, with the same keys in the same order', () => {
    for (const message of valid) {
      const ours = toJsonRpcMessage(structuredClone(message));
      const sdk = JSONRPCMessageSchema.parse(structuredClone(message));
      expect(JSON.stringify(ours)).toBe(JSON.stringify(sdk));
    }
  });

  it('rejects what the SDK schema rejects, with its error', () => {
    for (const message of invalid) {
      const sdk = JSONRPCMessageSchema.safeParse(message);
      expect(sdk.success).toBe(false);
      expect(() => toJsonRpcMessage(message)).toThrow(sdk.error?.message);
    }
  });
});
