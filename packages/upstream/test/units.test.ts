import { describe, expect, it } from 'vitest';
import { redactUrl, secretScrubber, splitCredentials, urlSecrets } from '../src/http.js';
import { childEnvironment, LineRing, stderrSuffix } from '../src/stdio.js';

describe('childEnvironment', () => {
  it('inherits only PATH, HOME, USER, LANG and TERM, then lays the server env over them', () => {
    const base = {
      PATH: '/usr/bin',
      HOME: '/home/me',
      USER: 'me',
      LANG: 'C.UTF-8',
      TERM: 'xterm',
      AWS_SECRET_ACCESS_KEY: 'nope',
      NODE_OPTIONS: '--inspect',
    };
    expect(childEnvironment(base, { TOKEN: 't', TERM: 'dumb' })).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/me',
      USER: 'me',
      LANG: 'C.UTF-8',
      TERM: 'dumb',
      TOKEN: 't',
    });
  });

  it('skips missing variables and exported shell functions', () => {
    expect(childEnvironment({ PATH: '/bin', HOME: '() { evil; }' }, {})).toEqual({ PATH: '/bin' });
  });
});

describe('LineRing', () => {
  it('keeps the last lines across chunk boundaries, with a trailing partial line last', () => {
    const ring = new LineRing(3);
    ring.push('one\ntw');
    ring.push('o\r\nthree\nfour\nfi');
    expect(ring.lines()).toEqual(['three', 'four', 'fi']);
    ring.push('ve\n');
    expect(ring.lines()).toEqual(['three', 'four', 'five']);
  });

  it('cuts a runaway line so memory stays bounded', () => {
    const ring = new LineRing(2);
    ring.push('x'.repeat(100_000));
    const [line] = ring.lines();
    expect(line?.length).toBeLessThanOrEqual(4097);
  });

  it('formats the last non-empty lines for an error message', () => {
    expect(stderrSuffix(['a', '', 'b', 'c'], 2)).toBe('; stderr: b | c');
    expect(stderrSuffix([])).toBe('');
  });
});

describe('URL and secret handling', () => {
  it('redacts user info and query values', () => {
    expect(redactUrl(new URL('https://u:p@h.example/mcp?key=abc&x=1'))).toBe('https://h.example/mcp?key=***&x=***');
  });

  it('moves URL credentials into a Basic header unless one is configured', () => {
    const split = splitCredentials(new URL('http://al%40ce:p%3Ass@h/mcp'), { 'X-A': '1' });
    expect(split.url.href).toBe('http://h/mcp');
    expect(split.headers).toEqual({ 'X-A': '1', Authorization: `Basic ${btoa('al@ce:p:ss')}` });
    const kept = splitCredentials(new URL('http://a:b@h/'), { authorization: 'Bearer t' });
    expect(kept.headers).toEqual({ authorization: 'Bearer t' });
  });

  it('scrubs every secret of four or more characters, longest first', () => {
    const scrub = secretScrubber(['abcd', 'abcdefgh', 'xy', ...urlSecrets(new URL('http://h/?token=tok-123'))]);
    expect(scrub('saw abcdefgh and abcd and xy and tok-123')).toBe('saw *** and *** and xy and ***');
  });
});
