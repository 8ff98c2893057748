// Hidden Unicode, on the RAW text (before any normalisation removes the evidence): characters a person reviewing
// a tool cannot see but a model reads, or that reorder what the person sees.

import { rawText } from '../doc.js';
import { codePointName, renderSafe } from '../text.js';
import type { Check, RawFinding, TextField } from '../types.js';

/**
 * Fast pre-test: most fields have none of these, and skip the per-character walk. Without the `u` flag the class
 * holds every surrogate code unit, so it also finds tag characters, astral variation selectors and astral private
 * use (planes 14–16), which are written with surrogates: one test covers them all.
 */
const ANY_RE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: the class lists combining and format characters on purpose, one by one
  /[\u00AD\u034F\u061C\u115F\u1160\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB\uE000-\uF8FF\uD800-\uDFFF]/;

type Category = 'tag' | 'bidi' | 'mark' | 'zero_width' | 'private_use' | 'variation' | 'surrogate' | 'annotation';

const LETTER_RE = /\p{L}/u;
const JOINING_SCRIPT_RE =
  /[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{Script=Khmer}\p{Script=Mongolian}\p{Script=Hebrew}]/u;
const EMOJI_RE = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|[\u{1F1E6}-\u{1F1FF}]/u;
const LATIN_RE = /[A-Za-z]/;

function categoryOf(cp: number): Category | undefined {
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return 'bidi';
  if (cp === 0x200e || cp === 0x200f || cp === 0x061c) return 'mark';
  if (
    (cp >= 0x200b && cp <= 0x200d) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    cp === 0xfeff ||
    cp === 0x180e ||
    cp === 0x034f ||
    cp === 0x00ad ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0
  ) {
    return 'zero_width';
  }
  if ((cp >= 0xe000 && cp <= 0xf8ff) || (cp >= 0xf0000 && cp <= 0x10fffd)) return 'private_use';
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return 'variation';
  if (cp >= 0xd800 && cp <= 0xdfff) return 'surrogate';
  if (cp >= 0xfff9 && cp <= 0xfffb) return 'annotation';
  return undefined;
}

interface Hit {
  readonly cp: number;
  readonly at: number;
}

/** Renders the first few code points as `U+200B at 14, U+200C at 15 …`. */
function positions(hits: readonly Hit[]): string {
  const shown = hits
    .slice(0, 4)
    .map((h) => `${codePointName(h.cp)} at ${h.at}`)
    .join(', ');
  return hits.length > 4 ? `${shown} …` : shown;
}

/** Tag characters mirror ASCII (U+E0041 is "A"): decoding them shows what was smuggled. */
function decodeTags(hits: readonly Hit[]): string {
  return hits.map((h) => (h.cp >= 0xe0020 && h.cp <= 0xe007e ? String.fromCharCode(h.cp - 0xe0000) : '')).join('');
}

/** Two zero-width characters alternating as 0 and 1: decode eight at a time when that gives readable text. */
function decodeBinary(hits: readonly Hit[]): string | undefined {
  const kinds = [...new Set(hits.map((h) => h.cp))];
  if (kinds.length !== 2 || hits.length < 16) return undefined;
  for (const zero of kinds) {
    let out = '';
    for (let i = 0; i + 8 <= hits.length; i += 8) {
      let byte = 0;
      for (let j = 0; j < 8; j++) byte = (byte << 1) | ((hits[i + j] as Hit).cp === zero ? 0 : 1);
      out += String.fromCharCode(byte);
    }
    if (/^[\x20-\x7E]+$/.test(out)) return out;
  }
  return undefined;
}

function scanField(field: TextField): RawFinding[] {
  const text = field.text;
  if (!ANY_RE.test(text)) return [];
  const byCat = new Map<Category, Hit[]>();
  let zwInsideWord = 0;
  let prev = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let cp = code;
    let width = 1;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = ((code - 0xd800) << 10) + (next - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    const ch = text.slice(i, i + width);
    const cat = categoryOf(cp);
    if (cat !== undefined) {
      let benign = false;
      const next = text.slice(i + width, i + width + 2);
      if (cat === 'zero_width') {
        // A byte-order mark first in a field is an editor artefact; ZWJ/ZWNJ join emoji and shape Arabic or
        // Indic script, which legitimate text needs.
        if (cp === 0xfeff && i === 0) benign = true;
        if ((cp === 0x200d || cp === 0x200c) && (EMOJI_RE.test(prev) || JOINING_SCRIPT_RE.test(prev))) benign = true;
        if (cp === 0x00ad && LETTER_RE.test(prev) && LETTER_RE.test(next) && !LATIN_RE.test(prev)) benign = true;
        if (!benign && LATIN_RE.test(prev) && LATIN_RE.test(next.charAt(0))) zwInsideWord++;
      }
      if (cat === 'variation' && (cp === 0xfe0f || cp === 0xfe0e) && !categoryOf(prev.codePointAt(0) ?? 0)) {
        benign = true; // one emoji/text presentation selector after a symbol
      }
      if (cat === 'mark' && JOINING_SCRIPT_RE.test(prev + next)) benign = true;
      if (!benign) {
        const list = byCat.get(cat) ?? [];
        if (list.length < 4096) list.push({ cp, at: i });
        byCat.set(cat, list);
      }
    }
    prev = ch;
    i += width - 1;
  }
  const out: RawFinding[] = [];
  const base = { check: 'hidden_unicode' as const, threat: 'invisible_text' as const, path: field.path };
  for (const [cat, hits] of byCat) {
    const where = positions(hits);
    switch (cat) {
      case 'tag': {
        const decoded = decodeTags(hits);
        out.push({
          ...base,
          tier: 'hard',
          confidence: 0.97,
          evidence: `${hits.length} tag characters (${where}) spelling "${renderSafe(decoded, 120)}"`,
          subject: decoded.toLowerCase(),
        });
        break;
      }
      case 'bidi':
        out.push({
          ...base,
          tier: 'hard',
          confidence: 0.9,
          evidence: `bidirectional control characters that reorder displayed text: ${where}`,
        });
        break;
      case 'zero_width': {
        const decoded = decodeBinary(hits);
        const hard = hits.length >= 8 || zwInsideWord >= 2 || decoded !== undefined;
        out.push({
          ...base,
          tier: hard ? 'hard' : 'soft',
          confidence: hard ? 0.9 : 0.5,
          evidence:
            `${hits.length} zero-width character${hits.length === 1 ? '' : 's'}: ${where}` +
            (zwInsideWord >= 2 ? `; ${zwInsideWord} inside words` : '') +
            (decoded === undefined ? '' : `; as bits they spell "${renderSafe(decoded, 120)}"`),
          subject: decoded?.toLowerCase(),
        });
        break;
      }
      case 'variation':
        out.push({
          ...base,
          tier: hits.length >= 16 ? 'hard' : 'soft',
          confidence: hits.length >= 16 ? 0.85 : 0.5,
          evidence: `${hits.length} variation selectors outside emoji presentation (data hidden in selectors): ${where}`,
        });
        break;
      case 'private_use':
        out.push({
          ...base,
          tier: 'soft',
          confidence: Math.min(0.8, 0.4 + hits.length * 0.03),
          evidence: `${hits.length} private-use code point${hits.length === 1 ? '' : 's'}: ${where}`,
        });
        break;
      case 'mark':
        out.push({
          ...base,
          tier: 'soft',
          confidence: 0.4,
          evidence: `direction marks outside right-to-left text: ${where}`,
        });
        break;
      case 'surrogate':
        out.push({ ...base, tier: 'soft', confidence: 0.3, evidence: `invalid UTF-16 (lone surrogate): ${where}` });
        break;
      case 'annotation':
        out.push({ ...base, tier: 'soft', confidence: 0.5, evidence: `interlinear annotation controls: ${where}` });
        break;
    }
  }
  return out;
}

/** Hidden Unicode: tag characters, bidi controls, zero-width runs, private use, variation selectors, lone surrogates. */
export const hiddenUnicodeCheck: Check = {
  id: 'hidden_unicode',
  run({ view }) {
    const out: RawFinding[] = [];
    const all = rawText(view);
    if (!ANY_RE.test(all)) return out;
    for (const field of view.fields) {
      for (const f of scanField(field)) if (out.length < 32) out.push(f);
    }
    return out;
  },
};
