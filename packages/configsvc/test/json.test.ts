import { describe, expect, it } from 'vitest';
import { locateSyntaxError, parseJson } from '../src/json.js';

function locationOf(text: string) {
  const result = parseJson(text);
  if (result.ok) throw new Error('expected a syntax error');
  return { ...result.location, message: result.issue.message };
}

describe('malformed JSON', () => {
  it.each([
    ['a missing value', '{\n  "a": }', 2, 8],
    ['a trailing comma', '{"a": 1,}', 1, 9],
    ['a missing comma between properties', '{\n "listen": "x"\n "b": 1}', 3, 2],
    ['an empty file', '', 1, 1],
    ['an unterminated string', '{"a": "b', 1, 7],
    ['text after the value', '{"a": 1} x', 1, 10],
    ['CRLF line endings', '{\r\n"a":\r\n}', 3, 1],
    ['a misspelt literal', '{"enabled": tru}', 1, 13],
    ['a leading zero', '{"n": 01}', 1, 8],
    ['a raw newline inside a string (at the newline)', '{"a": "x\ny"}', 1, 9],
  ])('reports %s with its line and column', (_name, text, line, column) => {
    const at = locationOf(text);
    expect({ line: at.line, column: at.column }).toEqual({ line, column });
    expect(at.message).toContain(`line ${at.line}, column ${at.column}`);
  });

  it('never quotes the file in its message, which may hold a secret', () => {
    const at = locationOf('{"api_key": "s3cr3t-value" "listen": ""}');
    expect(at.message).not.toContain('s3cr3t');
  });

  it('accepts a file that starts with a byte-order mark', () => {
    expect(parseJson('\uFEFF{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
  });

  it('agrees with JSON.parse on which texts are valid, over thousands of random corruptions', () => {
    const base = JSON.stringify(
      { listen: '127.0.0.1:8080', n: -1.5e3, ok: true, nil: null, s: 'a\\"b\u00e9', list: [1, [2, {}], []] },
      null,
      2,
    );
    const alphabet = '{}[]:,"\\ 0123456789-+.eEtrufalsn\n\tx';
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let invalid = 0;
    for (let round = 0; round < 4000; round++) {
      let text = base;
      for (let edits = 1 + random(2); edits > 0; edits--) {
        const at = random(text.length + 1);
        const op = random(3);
        const ch = alphabet[random(alphabet.length)] ?? '';
        if (op === 0) text = text.slice(0, at) + text.slice(at + 1);
        else if (op === 1) text = text.slice(0, at) + ch + text.slice(at);
        else text = text.slice(0, at) + ch + text.slice(at + 1);
      }
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
        invalid++;
      }
      const located = locateSyntaxError(text);
      expect(located === undefined, `text: ${JSON.stringify(text)}`).toBe(valid);
      if (located) expect(located.offset).toBeLessThanOrEqual(text.length);
    }
    expect(invalid).toBeGreaterThan(1000);
  });
});
