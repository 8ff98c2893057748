// Text helpers shared by the checks: render-safe evidence, the normalisation that folds wording variants, and the
// "is this only quoted or given as an example" test that keeps security tools from being flagged.

/** Characters a person cannot see or that change how text renders: written as `U+XXXX` in evidence. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: the class lists combining and format characters on purpose, one by one
const UNSAFE_RE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu;

/** `U+200B`, `U+E0041`: the notation evidence uses for one code point. */
export function codePointName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Evidence text safe to show in a terminal, a log or the dashboard: invisible, control, private-use and lone
 * surrogate code points become `U+XXXX` (a newline becomes a space), and the result is clipped to `max` characters.
 */
export function renderSafe(text: string, max = 160): string {
  const escaped = text.replace(UNSAFE_RE, (ch) => {
    if (ch === '\n' || ch === '\r' || ch === '\t') return ' ';
    return `<${codePointName(ch.codePointAt(0) ?? 0)}>`;
  });
  const collapsed = escaped.replace(/ {2,}/g, ' ').trim();
  if (collapsed.length <= max) return collapsed;
  let cut = collapsed.slice(0, max);
  // Never end on half a surrogate pair: that would itself be a lone surrogate.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Format characters, variation selectors and fillers that are dropped before wording is compared. */
const INVISIBLE_RE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: the class lists combining and format characters on purpose, one by one
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDC00-\uDDEF]/g;

// Latin look-alikes from Cyrillic and Greek that NFKC leaves alone (Unicode confusables, the common subset).
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ɡ: 'g',
  ո: 'n',
  ս: 'u',
  А: 'a',
  В: 'b',
  Е: 'e',
  К: 'k',
  М: 'm',
  Н: 'h',
  О: 'o',
  Р: 'p',
  С: 'c',
  Т: 't',
  У: 'y',
  Х: 'x',
  І: 'i',
  Ј: 'j',
  Ѕ: 's',
  α: 'a',
  ο: 'o',
  ρ: 'p',
  ν: 'v',
  τ: 't',
  ι: 'i',
  κ: 'k',
  υ: 'u',
  χ: 'x',
  ε: 'e',
  Α: 'a',
  Β: 'b',
  Ε: 'e',
  Ζ: 'z',
  Η: 'h',
  Ι: 'i',
  Κ: 'k',
  Μ: 'm',
  Ν: 'n',
  Ο: 'o',
  Ρ: 'p',
  Τ: 't',
  Υ: 'y',
  Χ: 'x',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
  '„': '"',
  '«': '"',
  '»': '"',
  '‹': "'",
  '›': "'",
};
const CONFUSABLE_RE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');
const ASCII_RE = /^[\x20-\x7E\t\n\r]*$/;
/** Anything but printable ASCII, two spaces, or "e.g"/"i.e" in any case: text that needs more than lower-casing. */
const NEEDS_WORK_RE = /[^\x20-\x7E]| {2}|[eEiI]\.[gGeE]/;

/** `e.g.`/`i.e.` without their dots, so they do not end a sentence. */
function foldExamples(s: string): string {
  return s.replace(/\be\.g\.?(?=[\s,:])/g, 'eg,').replace(/\bi\.e\.?(?=[\s,:])/g, 'ie,');
}

/**
 * Folds wording variants so one pattern catches them: invisible characters dropped, NFKC (full-width letters,
 * ligatures), Cyrillic/Greek look-alikes to Latin, lower case, `e.g.`/`i.e.` without their dots (so they do not end
 * a sentence), runs of white space to one space. Pure ASCII skips the Unicode work: most descriptions are ASCII.
 */
export function fold(text: string): string {
  let s = text;
  if (!NEEDS_WORK_RE.test(s)) {
    // Printable ASCII with single spaces and no "e.g."/"i.e.", the common case: one pass decided it.
    return s.toLowerCase();
  }
  if (!ASCII_RE.test(s)) {
    s = s.replace(INVISIBLE_RE, '');
    try {
      s = s.normalize('NFKC');
    } catch {
      // normalize never throws on well-formed input; a defensive fallback keeps the raw text.
    }
    s = s.replace(CONFUSABLE_RE, (ch) => CONFUSABLES[ch] ?? ch);
  }
  s = s.toLowerCase();
  if (s.includes('e.g') || s.includes('i.e')) s = foldExamples(s);
  return /\s\s|[\t\n\r\f\v\u00a0\u2000-\u200a\u2028\u2029\u3000]/.test(s) ? s.replace(/\s+/g, ' ') : s;
}

/** A letter next to one of `0 1 3 4 5 7 @ $`: one test, no match objects. */
// Written to start at the leet character, so the scan stops only at those (rare) and looks around them.
const MIXES_LEET_RE = /[013457@$](?:(?<=[a-z].)|(?=[a-z]))/;

/** A letter next to one of `0 1 3 4 5 7 @ $` somewhere. */
export function mixesLeet(s: string): boolean {
  return MIXES_LEET_RE.test(s);
}

const LEET_WORD_RE = /[a-z013457@$]*[013457@$][a-z013457@$]*/g;
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

/**
 * Light leetspeak: inside a word that mixes letters with `0 1 3 4 5 7 @ $`, those become `o i e a s t a s`
 * (`1gn0re` → `ignore`). Words of digits only, and paths, are left alone. Returns `undefined` when nothing changed,
 * so callers skip a second pass.
 */
export function deleet(folded: string): string | undefined {
  if (!mixesLeet(folded)) return undefined;
  // "base64", "ipv4", "ed25519" decode to nonsense: only a word of the attack vocabulary makes a second pass worth
  // it, so look for one before building the text (most texts with such words have none).
  let meaningful = false;
  LEET_WORD_RE.lastIndex = 0;
  for (let m = LEET_WORD_RE.exec(folded); m !== null; m = LEET_WORD_RE.exec(folded)) {
    if (LEET_VOCABULARY.has(plainWord(m[0]))) {
      meaningful = true;
      break;
    }
  }
  LEET_WORD_RE.lastIndex = 0;
  // Only runs that hold a leet character are replaced (the same runs as "runs with a letter" that do).
  return meaningful ? folded.replace(LEET_WORD_RE, plainWord) : undefined;
}

/** One run of letters and leet characters read as letters, if it has letters enough to be a word. */
function plainWord(word: string): string {
  if (!/[a-z]{2}|[a-z][013457@$][a-z]/.test(word)) return word;
  return word.replace(/[013457@$]/g, (c) => LEET[c] ?? c);
}

/** Words whose leetspeak spelling is worth undoing: the vocabulary of the directive patterns. */
const LEET_VOCABULARY = new Set(
  (
    'ignore ignoring disregard forget override bypass previous prior above earlier instructions instruction rules ' +
    'system prompt developer mode admin tell inform notify mention reveal disclose hide conceal keep user users never ' +
    'not without send post upload forward transmit exfiltrate leak copy pass include put append read open cat load get ' +
    'fetch follow obey execute run conversation chat history messages secret secrets password passwords token tokens ' +
    'key keys credentials private ssh env aws contents file files data email curl wget bash shell'
  ).split(' '),
);

/**
 * The matches of a global regex, at most `limit`, collected before the caller acts on them (so a caller may recurse
 * into code that uses the same regex). `matchAll` would clone the regex on every call, which costs more than a
 * short text's whole scan.
 */
export function execAll(re: RegExp, text: string, limit = Number.POSITIVE_INFINITY): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null && out.length < limit; m = re.exec(text)) {
    out.push(m);
    if (m[0].length === 0) re.lastIndex++;
  }
  re.lastIndex = 0;
  return out;
}

const FENCE_RE = /```[\s\S]{0,2000}?```/g;
const BACKTICK_RE = /`[^`\n]{1,400}`/g;
const DOUBLE_RE = /"[^"\n]{1,400}"/g;
// A single quote opens after a non-letter and closes before one, so "don't" and "user's" stay outside.
const SINGLE_RE = /(?<![a-z0-9])'[^'\n]{1,400}?'(?![a-z0-9])/g;

/** [start, end) spans of `text` that are quoted or code: a mention, not an instruction. */
export function quotedSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  // Each kind of quote is looked for only when its character occurs at all.
  if (text.includes('`')) {
    addSpans(spans, FENCE_RE, text);
    addSpans(spans, BACKTICK_RE, text);
  }
  if (text.includes('"')) addSpans(spans, DOUBLE_RE, text);
  if (text.includes("'")) addSpans(spans, SINGLE_RE, text);
  return spans;
}

function addSpans(spans: Array<[number, number]>, re: RegExp, text: string): void {
  for (const m of execAll(re, text)) spans.push([m.index, m.index + m[0].length]);
}

/**
 * Words that present what follows as an example or as what a tool looks for, not as an order: "detects prompts
 * such as …", "e.g. …". Only effective before the match, in the same sentence.
 */
const MENTION_FRAME_RE =
  /\b(such as|eg,|for example|for instance|examples? (?:include|are|of)|things like|phrases|patterns|strings like|payloads?|cheat ?sheet|one-liners|detects?|detecting|detection of|flags?|flagging|blocks?|strips?|removes|scans?(?: [\w-]+){0,3} for|looks? for|identif(?:y|ies|ying)|catch(?:es)?|alerts? on|recogni[sz]es?|warns? (?:about|on|when)|explains?|quotes?|redacts?|classif(?:y|ies)|moderates?|audits?)\b/;

/** Sentences are read at most this far either side of a match: text without full stops must not cost O(n) each. */
const MAX_SENTENCE = 400;

/** Start of the sentence that holds `index` in folded text (after `.`, `!`, `?`, `;` or a newline). */
export function sentenceStart(folded: string, index: number): number {
  const stop = Math.max(0, index - MAX_SENTENCE);
  for (let i = index - 1; i >= stop; i--) {
    const ch = folded[i];
    if (ch === '!' || ch === '?' || ch === ';' || ch === '\n') return i + 1;
    if (ch === '.' && (folded[i + 1] === ' ' || folded[i + 1] === undefined)) return i + 1;
  }
  return stop;
}

/** End of the sentence that holds `index` (exclusive). */
export function sentenceEnd(folded: string, index: number): number {
  const stop = Math.min(folded.length, index + MAX_SENTENCE);
  for (let i = index; i < stop; i++) {
    const ch = folded[i];
    if (ch === '!' || ch === '?' || ch === ';' || ch === '\n') return i + 1;
    if (ch === '.' && (folded[i + 1] === ' ' || folded[i + 1] === undefined)) return i + 1;
  }
  return stop;
}

/**
 * Whether a match at `index` of folded text is only mentioned: inside quotes or code, or preceded in its sentence
 * by an example frame ("such as", "e.g.", "detects"). Security tools describe attacks this way; attackers give
 * orders, which sit outside quotes and frames.
 */
export function isMention(folded: string, index: number, spans: ReadonlyArray<[number, number]>): boolean {
  for (const [a, b] of spans) if (index >= a && index < b) return true;
  const before = folded.slice(sentenceStart(folded, index), index);
  return MENTION_FRAME_RE.test(before);
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
