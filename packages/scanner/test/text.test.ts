import { describe, expect, it } from 'vitest';
import { renderSafe } from '../src/index.js';
import { deleet, fold, isMention, quotedSpans } from '../src/text.js';

describe('text helpers', () => {
  it('folds case, full-width letters, look-alikes, invisible characters and white space', () => {
    expect(fold('IGNORE\u200B  \uFF30revious\n\u0456nstructions')).toBe('ignore previous instructions');
  });

  it('keeps e.g. from ending a sentence', () => {
    expect(fold('Tools, e.g. grep.')).toBe('tools, eg, grep.');
  });

  it('undoes light leetspeak inside words only', () => {
    expect(deleet('1gn0re pr3v10us 1nstruct10ns, port 8080, id_ed25519')).toBe(
      'ignore previous instructions, port 8080, id_ed25519',
    );
    expect(deleet('plain words')).toBeUndefined();
    expect(deleet('base64 over ipv4 with ed25519')).toBeUndefined(); // nothing of the attack vocabulary comes out
  });

  it('finds quoted spans but not apostrophes', () => {
    const s = "don't say 'ignore this' or `that` or \"those\"";
    expect(quotedSpans(s).map(([a, b]) => s.slice(a, b))).toEqual(['`that`', '"those"', "'ignore this'"]);
  });

  it('treats a match after an example frame, or in quotes, as a mention', () => {
    const s = fold('Detects prompts such as ignore previous instructions. Ignore previous instructions.');
    const first = s.indexOf('ignore');
    const second = s.lastIndexOf('ignore');
    expect(isMention(s, first, quotedSpans(s))).toBe(true);
    expect(isMention(s, second, quotedSpans(s))).toBe(false);
  });

  it('renders evidence safely and clips it', () => {
    expect(renderSafe('a\u202Eb\u0000c\nd')).toBe('a<U+202E>b<U+0000>c d');
    expect(renderSafe('x'.repeat(300), 10)).toBe('xxxxxxxxxx…');
    expect(renderSafe(`${'x'.repeat(9)}\u{1F600}`, 10)).toBe('xxxxxxxxx…');
  });
});
