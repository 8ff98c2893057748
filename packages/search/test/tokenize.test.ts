import { describe, expect, it } from 'vitest';
import { analyze, STOP_WORDS, stem, tokenize } from '../src/index.js';

describe('tokenize', () => {
  it.each([
    ['get-sum', ['get', 'sum']],
    ['read_text_file', ['read', 'text', 'file']],
    ['readFileSync', ['read', 'file', 'sync']],
    ['ReadFileSync', ['read', 'file', 'sync']],
    ['HTTPServer', ['http', 'server']],
    ['XMLHttpRequest', ['xml', 'http', 'request']],
    ['base64Encode', ['base', '64', 'encode']],
    ['v2Api', ['v', '2', 'api']],
    ['mcp.server/tools:list', ['mcp', 'server', 'tools', 'list']],
  ])('splits %s into %j', (input, words) => {
    expect(tokenize(input)).toEqual(words);
  });

  it('keeps the plural of an acronym in one word instead of splitting off its s', () => {
    expect(tokenize('getURLs')).toEqual(['get', 'urls']);
    expect(tokenize('entityIDs')).toEqual(['entity', 'ids']);
  });

  it('lower-cases and drops punctuation and whitespace, keeping every word of prose', () => {
    expect(tokenize('  Echoes back the INPUT string!  ')).toEqual(['echoes', 'back', 'the', 'input', 'string']);
  });

  it('keeps non-ASCII letters inside words and lower-cases them', () => {
    expect(tokenize('Größe_ändern ÜberSicht')).toEqual(['größe', 'ändern', 'über', 'sicht']);
    expect(tokenize('検索ツール')).toEqual(['検索ツール']);
  });

  it('returns no words for empty, blank or punctuation-only text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' \t\n')).toEqual([]);
    expect(tokenize('__--..')).toEqual([]);
  });
});

describe('stem', () => {
  it.each([
    ['files', 'file'],
    ['directories', 'directory'],
    ['entities', 'entity'],
    ['relations', 'relation'],
    ['matches', 'match'],
    ['processes', 'process'],
    ['indexes', 'index'],
    ['sizes', 'size'],
    ['ids', 'id'],
  ])('folds the plural %s to %s', (plural, singular) => {
    expect(stem(plural)).toBe(singular);
  });

  it.each(['status', 'access', 'analysis', 'has', 'file', 'search', 'shoes', 'news'])('leaves %s alone', (word) => {
    expect(stem(word)).toBe(word);
  });
});

describe('analyze', () => {
  it('drops stop words and folds plurals, so a question meets the words of a tool', () => {
    expect(analyze('How do I list the files in a directory?')).toEqual(['list', 'file', 'directory']);
    expect(analyze('list_directory_with_sizes')).toEqual(['list', 'directory', 'size']);
  });

  it('keeps short words that can name what a tool does', () => {
    for (const word of ['all', 'new', 'on', 'off', 'up', 'get', 'set']) expect(STOP_WORDS.has(word)).toBe(false);
    expect(analyze('turn logging on or off')).toEqual(['turn', 'logging', 'on', 'off']);
  });
});
