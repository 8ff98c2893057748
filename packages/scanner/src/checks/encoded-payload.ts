// Decode-then-confirm: base64, hex and URL-encoded blobs are decoded, and flagged only when the decoded text is a
// shell command, a fetch to an outside host, a secret path or a directive to the model. An image, a hash or
// "hello world" in base64 is left alone: encoding is not suspicious, what it hides is.

import { classifyPayload } from '../patterns.js';
import { execAll, fold, renderSafe } from '../text.js';
import type { Check, RawFinding } from '../types.js';
import { findDirectives } from './directive.js';

const MAX_LAYERS = 3;
const MAX_CANDIDATES = 64;

// Lookbehinds make each run start once, not at every character of a long word.
const B64_RE = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RE = /(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}){8,}/g;
const ESCAPED_RE = /(?:\\x[0-9a-fA-F]{2}|\\u00[0-9a-fA-F]{2}){4,}/g;
const PCT_RE = /\S*(?:%[0-9a-fA-F]{2}\S*){3,}/g;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16 = new TextDecoder('utf-16le', { fatal: true });

function bytesToText(bytes: Uint8Array, ascii?: string): string | undefined {
  // PowerShell's -EncodedCommand is UTF-16LE: every other byte zero.
  let zeros = 0;
  for (let i = 1; i < bytes.length; i += 2) if (bytes[i] === 0) zeros++;
  try {
    if (bytes.length >= 8 && zeros >= bytes.length / 2 - 1) return utf16.decode(bytes);
    // Each control byte stays one control character in UTF-8 and the text has at most as many characters as
    // bytes, so more than a tenth of them means `readable` would refuse it: skip the decoder (random bytes).
    let controls = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i] as number;
      if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) controls++;
    }
    if (controls * 10 > bytes.length) return undefined;
    if (ascii !== undefined) return ascii; // ASCII is its own UTF-8: skip the decoder's fixed cost
    return validUtf8(bytes) ? utf8.decode(bytes) : undefined; // random bytes fail within a few, without a throw
  } catch {
    return undefined;
  }
}

/** The check a fatal UTF-8 decoder makes (WHATWG byte ranges), as a loop: cheaper than a decoder call that throws. */
function validUtf8(b: Uint8Array): boolean {
  const n = b.length;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => j < n && (b[j] as number) >= lo && (b[j] as number) <= hi;
  for (let i = 0; i < n; ) {
    const c = b[i] as number;
    if (c < 0x80) i++;
    else if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return false;
      i += 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2)) return false;
      i += 3;
    } else if (c >= 0xf0 && c <= 0xf4) {
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return false;
      i += 4;
    } else return false;
  }
  return true;
}

function fromBase64(s: string): string | undefined {
  let t = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (t.length % 4 === 1) return undefined;
  t += '='.repeat((4 - (t.length % 4)) % 4);
  let bin: string;
  try {
    bin = atob(t);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(bin.length);
  let high = false;
  for (let i = 0; i < bin.length; i++) {
    const c = bin.charCodeAt(i);
    bytes[i] = c;
    if (c >= 0x80) high = true;
  }
  return bytesToText(bytes, high ? undefined : bin);
}

function fromHex(s: string): string | undefined {
  const hex = s.replace(/\\x|\\u00/g, '');
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytesToText(bytes);
}

function fromPercent(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Mostly printable text: binary (images, hashes) decodes to noise and is skipped. */
function readable(s: string): boolean {
  if (s.length < 6) return false;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x09 || c === 0x0d || c >= 0xa0) ok++;
  }
  return ok / s.length >= 0.9;
}

/** 1 for characters of the base64/base64url alphabet, by char code (ASCII only). */
const B64_CHARS = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') B64_CHARS[ch.charCodeAt(0)] = 1;

/**
 * Whether the text could hold an encoded blob: a run of 16 base64 characters, a `\x`/`\u00` escape or a `%xx`.
 * A plain loop: a regex that must try a 16-character run at every position costs more than the rest of the check.
 */
function mayHoldBlob(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && B64_CHARS[c] === 1) {
      if (++run >= 16) return true;
    } else {
      run = 0;
      if (c === 0x25 || c === 0x5c) return true; // '%' or '\': URL encoding or escapes, confirmed by the decoders
    }
  }
  return false;
}

/**
 * Whether a base64-alphabet run is noise rather than a candidate: all hex (the hex decoder has it), one case only
 * (plain words), or identifier-like (camelCase or snake_case: no digit, `+`, `/` or `=`, under a quarter capitals;
 * base64 of text has all of these). One pass over the characters rather than four regex tests.
 */
function notBase64Text(s: string): boolean {
  let upper = 0;
  let lower = false;
  let allHex = true;
  let digitOrSign = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      upper++;
      if (c > 70) allHex = false;
    } else if (c >= 97 && c <= 122) {
      lower = true;
      if (c > 102) allHex = false;
    } else if (c >= 48 && c <= 57) {
      digitOrSign = true;
    } else {
      allHex = false;
      if (c === 43 || c === 47 || c === 61) digitOrSign = true; // '+', '/', '='
    }
  }
  return allHex || upper === 0 || !lower || (!digitOrSign && upper / s.length < 0.25);
}

interface Decoded {
  readonly encoding: string;
  readonly at: number;
  readonly text: string;
}

type Decode = (blob: string) => string | undefined;

/** Where a visit is: its depth, the offset in the field of the outermost blob, and the encodings so far. */
interface Layer {
  readonly depth: number;
  readonly at: number;
  readonly chain: string;
}

/** The blobs found so far; a class so that its methods exist once, not as closures per call. */
class Blobs {
  readonly out: Decoded[] = [];

  visit(s: string, layer: Layer): void {
    if (layer.depth >= MAX_LAYERS || this.out.length >= MAX_CANDIDATES) return;
    // execAll collects the matches before acting on them (visit recurses with the same regexes); matchAll would
    // clone each regex on every call.
    for (const m of execAll(HEX_RE, s)) this.tryOne(layer, 'hex', m, fromHex);
    if (s.includes('\\')) for (const m of execAll(ESCAPED_RE, s)) this.tryOne(layer, 'escaped hex', m, fromHex);
    for (const m of execAll(B64_RE, s)) {
      // Identifiers (list_directory_with_sizes) and plain words decode to noise; hex is handled above.
      if (!notBase64Text(m[0])) this.tryOne(layer, 'base64', m, fromBase64);
    }
    if (s.includes('%')) for (const m of execAll(PCT_RE, s)) this.tryOne(layer, 'URL encoding', m, fromPercent);
  }

  private tryOne(layer: Layer, encoding: string, m: RegExpExecArray, decode: Decode): void {
    if (this.out.length >= MAX_CANDIDATES) return;
    const blob = m[0];
    const decoded = decode(blob);
    if (decoded === undefined || !readable(decoded) || decoded === blob) return;
    const chain = layer.chain === '' ? encoding : `${layer.chain} → ${encoding}`;
    const at = layer.depth === 0 ? m.index : layer.at;
    this.out.push({ encoding: chain, at, text: decoded });
    this.visit(decoded, { depth: layer.depth + 1, at, chain });
  }
}

/** Every blob of `text` that decodes to readable text, up to {@link MAX_LAYERS} layers deep. */
export function decodeBlobs(text: string): Decoded[] {
  const blobs = new Blobs();
  blobs.visit(text, { depth: 0, at: 0, chain: '' });
  return blobs.out;
}

/** Encoded payloads confirmed by what they decode to. */
export const encodedPayloadCheck: Check = {
  id: 'encoded_payload',
  run({ view }) {
    const out: RawFinding[] = [];
    // No pre-test on the whole text: the test per field below reads the same characters (fewer: names are
    // skipped), and a pre-test that passes, as a long tool name makes it, would read them twice.
    for (const field of view.fields) {
      if (field.kind === 'name' || field.kind === 'param_name' || field.text.length < 16) continue;
      if (!mayHoldBlob(field.text)) continue;
      for (const d of decodeBlobs(field.text)) {
        const folded = fold(d.text);
        const payload = classifyPayload(folded);
        const directive =
          payload === undefined ? findDirectives(folded, { raw: d.text }).find((x) => !x.mention) : undefined;
        if (payload === undefined && directive === undefined) continue;
        const what =
          payload?.kind === 'shell'
            ? 'a shell command'
            : payload?.kind === 'secret_path'
              ? 'a secret path'
              : payload?.kind === 'fetch'
                ? 'a fetch to an outside host'
                : 'a directive to the model';
        out.push({
          check: 'encoded_payload',
          tier: 'hard',
          threat: 'obfuscated_payload',
          confidence: 0.93,
          evidence: `${d.encoding} at ${d.at} decodes to ${what}: "${renderSafe(d.text, 140)}"`,
          path: field.path,
          subject: folded,
          param: field.param,
        });
        if (out.length >= 16) return out;
      }
    }
    return out;
  },
};
