import { describe, expect, it } from 'vitest';
import { jsonEqual } from '../src/index.js';

describe('jsonEqual', () => {
  it('ignores key order but not array order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });

  it('counts undefined members as absent, as JSON does', () => {
    expect(jsonEqual({ a: 1, d: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, d: undefined })).toBe(true);
    expect(jsonEqual({ a: undefined }, { a: null })).toBe(false);
  });

  it('tells arrays, objects, null and primitives apart', () => {
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual(1, '1')).toBe(false);
    expect(jsonEqual({ a: { b: 1 } }, { a: { b: 2 } })).toBe(false);
    expect(jsonEqual({ a: 1 }, { b: 1 })).toBe(false);
  });

  it('does not take an inherited property for an own one', () => {
    expect(jsonEqual({ constructor: Object }, {})).toBe(false);
    expect(jsonEqual({ toString: 1 }, { valueOf: 1 })).toBe(false);
  });
});
