import { ACTOR_API_CODES, ActorError, type ActorErrorCode } from '@mcpproxy/actor';
import { ConfigError, type ConfigErrorCode } from '@mcpproxy/configsvc';
import { jsonEqual, parseServerConfig, UpstreamError } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { classifyFailure, failureKindOfCode } from '../src/diagnose.js';
import { ManagementError, toManagementError } from '../src/index.js';
import { mergePatch } from '../src/merge.js';

describe('ManagementError and toManagementError', () => {
  it('keeps code, name, cause, issues and the HTTP status', () => {
    const cause = new Error('disk');
    const issues = [{ path: 'url', rule: 'custom', message: 'must be an http:// or https:// URL' }];
    const error = new ManagementError('INVALID_CONFIG', 'bad', { cause, issues });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ManagementError', code: 'INVALID_CONFIG', status: 422, cause, issues });
    expect(toManagementError(error)).toBe(error);
  });

  it('maps every ConfigError code, keeping the validation issues', () => {
    const expected: Record<ConfigErrorCode, string> = {
      INVALID_CONFIG: 'INVALID_CONFIG',
      CONFLICT: 'CONFLICT',
      READ_ONLY: 'READ_ONLY',
      MANAGEMENT_DISABLED: 'MANAGEMENT_DISABLED',
      CONFIG_WRITE_FAILED: 'INTERNAL',
      CONFIG_READ_FAILED: 'INTERNAL',
      CLOSED: 'INTERNAL',
    };
    for (const [code, api] of Object.entries(expected)) {
      const source = new ConfigError(code as ConfigErrorCode, `config ${code}`, {
        issues: [{ path: 'mcpServers[0].url', rule: 'custom', message: 'x' }],
      });
      const mapped = toManagementError(source);
      expect({ code, mapped: mapped.code }).toEqual({ code, mapped: api });
      expect(mapped.cause).toBe(source);
      expect(mapped.message).toBe(`config ${code}`);
      expect(mapped.issues).toEqual(source.issues);
    }
  });

  it('maps every ActorError code through ACTOR_API_CODES', () => {
    for (const [code, api] of Object.entries(ACTOR_API_CODES)) {
      const mapped = toManagementError(new ActorError(code as ActorErrorCode, code));
      expect({ code, mapped: mapped.code }).toEqual({ code, mapped: api });
    }
  });

  it('recognises errors of another copy of a package by name and code', () => {
    const foreign = Object.assign(new Error('circuit open'), { name: 'ActorError', code: 'CIRCUIT_OPEN' });
    expect(toManagementError(foreign).code).toBe('CIRCUIT_OPEN');
    const unknownCode = Object.assign(new Error('?'), { name: 'ActorError', code: 'NEW_THING' });
    expect(toManagementError(unknownCode).code).toBe('INTERNAL');
  });

  it('maps upstream timeouts to UPSTREAM_TIMEOUT, other upstream errors to UPSTREAM_UNAVAILABLE, the rest to INTERNAL', () => {
    expect(toManagementError(new UpstreamError('CALL_TIMEOUT', 't')).code).toBe('UPSTREAM_TIMEOUT');
    expect(toManagementError(new UpstreamError('INIT_TIMEOUT', 't')).code).toBe('UPSTREAM_TIMEOUT');
    expect(toManagementError(new UpstreamError('CLOSED', 'c')).code).toBe('UPSTREAM_UNAVAILABLE');
    const odd = toManagementError('a string');
    expect(odd).toMatchObject({ code: 'INTERNAL', message: 'a string', cause: 'a string' });
  });
});

describe('mergePatch', () => {
  it('merges objects recursively, replaces arrays and scalars, and removes keys given null', () => {
    const target = { args: ['a', 'b'], env: { A: '1', B: '2' }, headers: {}, enabled: true, url: 'x' };
    const patch = { args: ['c'], env: { B: null, C: '3' }, enabled: false, url: null, groups: ['g'] };
    expect(mergePatch(target, patch)).toEqual({
      args: ['c'],
      env: { A: '1', C: '3' },
      headers: {},
      enabled: false,
      groups: ['g'],
    });
    expect(target.env).toEqual({ A: '1', B: '2' });
  });

  it('keeps a "__proto__" key a plain key instead of changing the prototype', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "env": {"A": "1"}}');
    const merged = mergePatch({}, patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(merged)).toContain('__proto__');
    expect(parseServerConfig({ name: 'a', command: 'x', ...merged }).ok).toBe(false);
  });

  it('compares JSON values structurally, ignoring key order and undefined members', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
  });
});

describe('classifyFailure', () => {
  it("trusts the actor's init_timeout reason over any message", () => {
    expect(classifyFailure('init_timeout', 'whatever')).toBe('INIT_TIMEOUT');
  });

  it('reads the wording of @mcpproxy/upstream errors', () => {
    expect(classifyFailure('connect_failed', 'command "nope" not found on PATH')).toBe('COMMAND_NOT_FOUND');
    expect(classifyFailure('connect_failed', 'command "/opt/x/bin/srv" not found')).toBe('COMMAND_NOT_FOUND');
    expect(classifyFailure('connect_failed', 'spawn nope ENOENT')).toBe('COMMAND_NOT_FOUND');
    expect(
      classifyFailure('connect_failed', "https://h/mcp requires authentication (HTTP 401); check the server's headers"),
    ).toBe('AUTH_REQUIRED');
    expect(classifyFailure('connect_failed', 'tools/list: the upstream requires authentication')).toBe('AUTH_REQUIRED');
    expect(
      classifyFailure('connect_failed', '"x" did not finish connect, initialize and tools/list within 30000 ms'),
    ).toBe('INIT_TIMEOUT');
    expect(classifyFailure(undefined, 'initialize timed out after 30000 ms')).toBe('INIT_TIMEOUT');
  });

  it('leaves other failures unclassified', () => {
    expect(classifyFailure('connect_failed', 'Streamable HTTP connection to https://h/mcp failed: ECONNREFUSED')).toBe(
      undefined,
    );
    expect(classifyFailure('connection_lost', null)).toBeUndefined();
  });
});

describe('failureKindOfCode', () => {
  it("names the kinds the actor's codes prove and nothing for the others", () => {
    expect(failureKindOfCode('COMMAND_NOT_FOUND')).toBe('COMMAND_NOT_FOUND');
    expect(failureKindOfCode('INIT_TIMEOUT')).toBe('INIT_TIMEOUT');
    expect(failureKindOfCode('AUTH_REQUIRED')).toBe('AUTH_REQUIRED');
    for (const code of ['CONNECT_FAILED', 'CLOSED', 'CALL_FAILED', 'PROTOCOL_ERROR', 'PING_TIMEOUT'] as const) {
      expect(failureKindOfCode(code)).toBeUndefined();
    }
  });
});
