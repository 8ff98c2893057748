import type { ValidationIssue } from '@mcpproxy/contracts';
import type { JsonLocation } from './errors.js';

export type JsonParseResult =
  | { ok: true; value: unknown }
  | { ok: false; location: JsonLocation; issue: ValidationIssue };

/**
 * `JSON.parse` with a usable error: line and column of the first syntax error. Node 20's messages carry a
 * position only for some errors ("Unexpected token '}', …" has none) and quote the surrounding text, which may hold
 * a secret, so on failure a small scanner finds the offset and words the problem itself.
 */
export function parseJson(source: string): JsonParseResult {
  // Editors on Windows may save a byte-order mark; JSON.parse rejects it.
  const text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const found = locateSyntaxError(text) ?? fallbackLocation(text, error);
    const location = lineColumn(text, found.offset);
    return {
      ok: false,
      location,
      issue: {
        path: '',
        rule: 'json_syntax',
        message: `malformed JSON at line ${location.line}, column ${location.column}: ${found.message}`,
      },
    };
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): JsonLocation {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

interface Located {
  offset: number;
  message: string;
}

class SyntaxAt extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Walks the JSON grammar and returns the first error, or `undefined` if the text is valid. */
export function locateSyntaxError(text: string): Located | undefined {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new SyntaxAt(at, message);
  };
  const describe = (at: number): string =>
    at >= text.length ? 'end of input' : `character ${JSON.stringify(text[at])}`;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const string = () => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail('invalid escape in string');
      } else if (c < 0x20) fail('control character in string (write it as an escape such as \\n)');
      else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a double-quoted property name, found ${describe(i)}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after property name, found ${describe(i)}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === '}') fail('trailing comma before "}"');
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after property value, found ${describe(i)}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === ']') fail('trailing comma before "]"');
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after array element, found ${describe(i)}`);
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (!m) fail('invalid number');
      i += m![0].length;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail(`unexpected ${describe(i)}`);
  };

  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe(i)} after the JSON value`);
    return undefined;
  } catch (error) {
    if (error instanceof SyntaxAt) return { offset: error.offset, message: error.message };
    // A pathologically deep file can exhaust the stack here; JSON.parse's own position is the fallback.
    return undefined;
  }
}

function fallbackLocation(text: string, error: unknown): Located {
  const message = error instanceof Error ? error.message : String(error);
  const m = /at position (\d+)/.exec(message);
  return {
    offset: m ? Number(m[1]) : text.length,
    // Drop V8's quoted excerpt of the file: it may contain a secret.
    message: message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, ''),
  };
}
