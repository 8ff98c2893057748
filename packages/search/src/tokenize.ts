// Identifier-aware tokenisation shared by indexing and querying, so both sides always agree.

// Character classes of the scanner. ASCII goes through a table; anything else through Unicode properties.
const SEP = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;

const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c >= 97 && c <= 122) ASCII[c] = LOWER;
  else if (c >= 65 && c <= 90) ASCII[c] = UPPER;
  else if (c >= 48 && c <= 57) ASCII[c] = DIGIT;
}
const U_UPPER = /\p{Lu}/u;
const U_LETTER = /[\p{L}\p{M}]/u;
const U_DIGIT = /\p{N}/u;

function classOf(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 128) return ASCII[c] as number;
  const ch = text[i] as string;
  if (U_UPPER.test(ch)) return UPPER;
  if (U_LETTER.test(ch)) return LOWER; // caseless scripts count as lower case: no camelCase split inside them
  if (U_DIGIT.test(ch)) return DIGIT;
  return SEP;
}

/**
 * Words that carry no meaning in a tool query ("how do I list the files in a folder"). BM25 already gives them
 * a low IDF, but kept they would make nearly every query visit nearly every tool, for no better ranking (see
 * the README's evaluation). The list is deliberately short: words such as "all", "new", "on" or "off" can name
 * what a tool does, so they stay.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'can',
  'do',
  'does',
  'for',
  'from',
  'how',
  'i',
  'in',
  'into',
  'is',
  'it',
  'its',
  'me',
  'my',
  'of',
  'or',
  'please',
  'should',
  'that',
  'the',
  'their',
  'them',
  'then',
  'there',
  'these',
  'this',
  'those',
  'to',
  'use',
  'using',
  'was',
  'we',
  'what',
  'when',
  'which',
  'will',
  'with',
  'you',
  'your',
]);

/**
 * Splits text and identifiers into lower-case words: on every character that is not a letter or digit
 * (so snake_case, kebab-case, dotted and spaced text), on camelCase and PascalCase boundaries, on acronym
 * boundaries and between letters and digits.
 *
 * `tokenize('get-sum')` → `['get', 'sum']`; `tokenize('readFileSync')` → `['read', 'file', 'sync']`;
 * `tokenize('HTTPServer')` → `['http', 'server']`. No stemming and no stop words: see {@link analyze}.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  // Lower-case once; slice words from it unless lower-casing changed the length (a few Unicode letters do).
  const lower = text.toLowerCase();
  const same = lower.length === n;
  let start = -1;
  let prev = SEP;
  let cur = n > 0 ? classOf(text, 0) : SEP;
  for (let i = 0; i < n; i++) {
    const c = i + 1 < n ? text.charCodeAt(i + 1) : 32;
    const next = c < 128 ? (ASCII[c] as number) : classOf(text, i + 1);
    if (cur === SEP) {
      if (start !== -1) out.push(same ? lower.slice(start, i) : text.slice(start, i).toLowerCase());
      start = -1;
    } else if (start === -1) {
      start = i;
    } else if (
      (prev === LOWER && cur === UPPER) || // readFile
      (prev === DIGIT) !== (cur === DIGIT) || // base64, 2fa
      // HTTPServer splits before the S; but URLs and IDs are plurals of an acronym, not a new word.
      (prev === UPPER && cur === UPPER && next === LOWER && !isPluralS(text, i + 1))
    ) {
      out.push(same ? lower.slice(start, i) : text.slice(start, i).toLowerCase());
      start = i;
    }
    prev = cur;
    cur = next;
  }
  if (start !== -1) out.push(same ? lower.slice(start) : text.slice(start).toLowerCase());
  return out;
}

/** Whether the lower-case run at `i` is a lone "s" (the s of "URLs"). */
function isPluralS(text: string, i: number): boolean {
  return text.charCodeAt(i) === 115 && (i + 1 >= text.length || classOf(text, i + 1) !== LOWER);
}

/**
 * Harman's "S" stemmer plus sibilant "-es" plurals: folds English plurals and nothing else (`files` → `file`,
 * `directories` → `directory`, `matches` → `match`), leaving `status`, `access` and `analysis` alone. It is
 * conservative on purpose: Porter's stemmer also merges words a tool query needs apart (`general`/`generate`).
 */
export function stem(word: string): string {
  const n = word.length;
  if (n < 3 || word.charCodeAt(n - 1) !== S || SHORT_S_WORDS.has(word)) return word;
  const c2 = word.charCodeAt(n - 2);
  if (c2 === E) {
    const c3 = word.charCodeAt(n - 3);
    if (c3 === I) return n > 4 && !/[ae]ies$/.test(word) ? `${word.slice(0, -3)}y` : word; // entities, not series
    // Sibilant plurals take "es" (matches, pushes, processes, indexes); Harman alone would leave "matche".
    if (c3 === X || (c3 === H && /[cs]hes$/.test(word)) || (c3 === S && word.charCodeAt(n - 4) === S))
      return word.slice(0, -2);
    return c3 === A || c3 === E || c3 === O ? word : word.slice(0, -1); // files, not shoes
  }
  return c2 === U || c2 === S || c2 === I ? word : word.slice(0, -1); // tools, not status, access, analysis
}

// Letters the stemmer looks at, as char codes.
const A = 0x61;
const E = 0x65;
const H = 0x68;
const I = 0x69;
const O = 0x6f;
const S = 0x73;
const U = 0x75;
const X = 0x78;

/**
 * Words ending in "s" that are not plurals: short ones (other three-letter ones are: `ids`, `ips`, `prs`), and
 * those whose stripped form is another word (`news` is not several `new`s, which would make "latest news" ask
 * to create something).
 */
const SHORT_S_WORDS: ReadonlySet<string> = new Set([
  'has',
  'was',
  'its',
  'yes',
  'bus',
  'gas',
  'his',
  'ios',
  'dns',
  'news',
  'lens',
]);

/**
 * The terms the index stores and looks up: {@link tokenize}, then stop words dropped and plurals folded
 * with {@link stem}. Indexing and querying both go through this, so a query term always meets its document term.
 */
export function analyze(text: string): string[] {
  const words = tokenize(text);
  let kept = 0;
  for (const word of words) if (!STOP_WORDS.has(word)) words[kept++] = stem(word);
  words.length = kept;
  return words;
}
