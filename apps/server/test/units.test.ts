import { describe, expect, it } from 'vitest';
import { allowedHostsFor, createLogger, createSecurity } from '../src/index.js';
import { maskApiKeyInUrl } from '../src/security.js';

describe('logger', () => {
  it('writes JSON lines and scrubs every secret value from messages, fields and nested values', () => {
    const lines: string[] = [];
    let secrets: readonly string[] = ['tok-123456', 'has"quote\\and-slash'];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (l) => lines.push(l) },
      secrets: () => secrets,
    });
    logger.info('connecting with tok-123456', { detail: { deep: ['x tok-123456 y'] } });
    logger.child({ component: 'c' }).warn('odd', { value: 'has"quote\\and-slash' });
    logger.debug('headers', { headers: { Authorization: 'Bearer other' }, api_key: 'plain-key', env: { A: 'b' } });
    secrets = ['later-secret'];
    logger.error('a later-secret appears');
    const text = lines.join('');
    expect(lines).toHaveLength(4);
    for (const line of lines) JSON.parse(line);
    expect(text).not.toContain('tok-123456');
    expect(text).not.toContain('quote\\\\and');
    expect(text).not.toContain('Bearer other');
    expect(text).not.toContain('plain-key');
    expect(text).not.toContain('later-secret');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'info', msg: 'connecting with ***' });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: 'warn', component: 'c', value: '***' });
    expect(JSON.parse(lines[2] as string)).toMatchObject({ headers: { Authorization: '***' }, api_key: '***' });
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (l) => lines.push(l) } });
    logger.debug('no');
    logger.info('no');
    logger.warn('yes');
    expect(lines).toHaveLength(1);
  });
});

describe('security checks', () => {
  it('accepts the listen host:port and the loopback names with the same port only', () => {
    const hosts = allowedHostsFor({ host: '127.0.0.1', port: 8080 });
    expect([...hosts].sort()).toEqual(['127.0.0.1:8080', '[::1]:8080', 'localhost:8080']);
    expect(allowedHostsFor({ host: '::1', port: 9 }).has('[::1]:9')).toBe(true);
    const wide = allowedHostsFor({ host: '0.0.0.0', port: 80 });
    expect(wide.has('localhost')).toBe(true);
    expect(wide.has('127.0.0.1:80')).toBe(true);
    expect(wide.has('0.0.0.0:80')).toBe(false);
  });

  it('checks Origin against the own origins and allowed_origins; requests without Origin pass', () => {
    const sec = createSecurity({
      address: () => ({ host: '127.0.0.1', port: 8080 }),
      apiKey: () => undefined,
      allowedOrigins: () => ['https://App.Example.com/'],
    });
    expect(sec.originAllowed(undefined)).toBe(true);
    expect(sec.originAllowed('http://localhost:8080')).toBe(true);
    expect(sec.originAllowed('https://app.example.com')).toBe(true);
    expect(sec.isCorsOrigin('https://app.example.com')).toBe(true);
    expect(sec.isCorsOrigin('http://localhost:8080')).toBe(false);
    expect(sec.originAllowed('http://evil.com')).toBe(false);
    expect(sec.originAllowed('null')).toBe(false);
    expect(sec.hostAllowed(undefined)).toBe(false);
  });

  it('masks the apikey value of a URL or path for logs, and leaves one without it as it is', () => {
    expect(maskApiKeyInUrl('/x?a=1&apikey=s3cret&b=2')).toBe('/x?a=1&apikey=***&b=2');
    expect(maskApiKeyInUrl('/x?APIKEY=s3cret#f')).toBe('/x?APIKEY=***#f');
    expect(maskApiKeyInUrl('/odd&apikey=s3cret')).toBe('/odd&apikey=***');
    expect(maskApiKeyInUrl('/mcp/servers/everything')).toBe('/mcp/servers/everything');
    expect(maskApiKeyInUrl('/x?a=apikey')).toBe('/x?a=apikey');
  });

  it('takes the key from Bearer, X-API-Key or ?apikey=; without a key, only a loopback listener is open', () => {
    let key: string | undefined = 's3cret';
    let host = '127.0.0.1';
    const sec = createSecurity({ address: () => ({ host, port: 1 }), apiKey: () => key });
    const h = (init: Record<string, string>) => new Headers(init);
    expect(sec.keyAllowed(h({ authorization: 'Bearer s3cret' }), '/x')).toBe(true);
    expect(sec.keyAllowed(h({ authorization: 'bearer  s3cret' }), '/x')).toBe(true);
    expect(sec.keyAllowed(h({ 'x-api-key': 's3cret' }), '/x')).toBe(true);
    expect(sec.keyAllowed(h({}), '/x?a=1&apikey=s3cret')).toBe(true);
    expect(sec.keyAllowed(h({ authorization: 'Bearer s3cret2' }), '/x')).toBe(false);
    expect(sec.keyAllowed(h({ authorization: 'Basic s3cret' }), '/x')).toBe(false);
    expect(sec.keyAllowed(h({}), '/x')).toBe(false);
    key = undefined;
    expect(sec.keyAllowed(h({}), '/x')).toBe(true);
    host = '0.0.0.0';
    expect(sec.keyRequired()).toBe(true);
    expect(sec.keyAllowed(h({ authorization: 'Bearer anything' }), '/x')).toBe(false);
  });
});
