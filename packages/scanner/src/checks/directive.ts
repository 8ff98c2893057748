// Imperative directives to the model in instruction position: override its instructions, hide things from the
// user, read secrets, send data out. Wording variants are folded first (case, look-alikes, NFKC, white space,
// light leetspeak); a match that is only quoted or given as an example ("detects prompts such as '…'") is a
// mention, not an order, and is not flagged: security tools describe attacks, attackers give orders.
import type { ScanThreat } from '@mcpproxy/contracts';
import { fieldAt, type ProseDoc, proseDoc } from '../doc.js';
import { EMAIL_RE, OUTSIDE_URL_RE, SECRET_PATH_RE, SENSITIVE_RE, SHELL_RE } from '../patterns.js';
import { deleet, execAll, isMention, quotedSpans, renderSafe, sentenceEnd, sentenceStart } from '../text.js';
import type { Check, RawFinding } from '../types.js';

type Category = 'override' | 'concealment' | 'secret_access' | 'exfiltration' | 'execution';

const W = "[\\w'-]+";
const OVERRIDE_RES: readonly RegExp[] = [
  new RegExp(
    `\\b(?:ignore|disregard|forget|override|bypass|drop)\\b(?: ${W}){0,3}? (?:previous|prior|preceding|above|earlier|former|original|initial|system|existing|all|any|your|other|the)(?: ${W}){0,2}? (?:instructions?|prompts?|rules|directions|guidelines|guidance|directives|constraints|policies|messages)\\b`,
    'g',
  ),
  /\bforget (?:everything|all of the above|what you (?:were|have been) told)\b/g,
  /\b(?:new|updated|real|true|actual|secret|hidden) (?:system )?(?:instructions?|orders)\s*:/g,
  /\byou are (?:now )?(?:in )?(?:developer|dan|jailbreak|unrestricted|god|admin|root)(?: mode)?\b|\b(?:developer|jailbreak|god) mode\b/g,
  /(?:^|\n|[.!?>\]] |<!-- ?)\[?(?:system|admin|developer)\]? ?(?:message|override|note)? ?:|\[(?:system|admin|inst)\]|<\|?im_start\|?>|\bnote to the (?:assistant|model|ai|agent)\s*:/g,
  /\b(?:reveal|print|output|repeat|leak|disclose|show)\b(?: [\w']+){0,3} (?:system prompt|hidden instructions|initial instructions|original instructions)\b/g,
  /\b(?:obey|follow|take orders from) (?:only|exclusively)\b/g,
  /\b(?:fetch|download|load|read|get|visit|open|retrieve|curl)\b[^;\n]{0,60}?(?:https?:\/\/\S+)[^;\n]{0,60}?\b(?:follow|obey|execute|run|apply|do what)\b/g,
];

const CONCEALMENT_RES: readonly RegExp[] = [
  /\b(?:do not|don't|dont|never|must not|should not|shouldn't)\b(?: [\w']+){0,2}? (?:tell|inform|notify|alert|warn|mention (?:this |it |that )?to|let) (?:the |your |this )?user\b/g,
  /\bwithout (?:telling|informing|notifying|alerting|letting|asking|warning) (?:the |your )?user\b/g,
  /\b(?:do not|don't|dont|never|must not)\b(?: [\w']+)? (?:mention|reveal|disclose|report|say|explain|show)\b(?: [\w']+)? (?:that|this|it|these|the (?:step|file|read|call|instructions?))\b/g,
  /\b(?:keep|hide|conceal)\b(?: [\w']+){0,3}? from (?:the |your )?user\b/g,
  /\b(?:could|might|may|would|will) (?:even )?(?:upset|scare|alarm|worry|frighten) the user\b/g,
  /\bthe user (?:must|should|need|needs) not (?:know|see|be told|notice|find out)\b/g,
];

const NEGATION = ['not', "don't", 'dont', 'never', "shouldn't"];
/** Shell words (`sh` also stands behind `show` and `shouldn't`, which start the same way and hide it). */
const SHELL_WORDS = [
  'curl',
  'wget',
  'bash',
  '/dev/tcp',
  'rm',
  'nc',
  'iex',
  'powershell',
  'python',
  'chmod',
  'mkfifo',
  'base64',
  'scp',
  'keychain',
  'sh',
  'show',
  "shouldn't",
  'security',
  'dump-keychain',
  'bash_history', // starts like "bash", which it hides at the same position
];
/** Implied by every alternative of SECRET_PATH_RE (`.` stands for a dot before a letter). */
const SECRET_WORDS = [
  '.',
  '/etc/',
  'id_',
  'authorized_keys',
  'keychain',
  'bash_history',
  'zsh_history',
  'login data',
  'seed phrase',
  'mnemonic phrase',
  'private key',
];
// biome-ignore format: one list of words, as the gates below name them
const GATE_WORDS = [
  'ignore', 'disregard', 'forget', 'override', 'bypass', 'drop', 'instruction', 'orders', 'you', 'mode', 'system',
  'admin', 'developer', 'im_start', 'obey', 'follow', 'only', 'exclusively', 'user', 'without', 'mention', 'reveal',
  'disclose', 'report', 'say', 'explain', 'show', 'from', 'not',
];
/** Words the patterns may hold anywhere, not only at a word start. */
const INNER_WORDS = ['http', '[inst]', ':', '/dev/tcp', '/etc/'];
const escapeRe = (w: string) => w.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const WORD_START = [...new Set([...GATE_WORDS, ...NEGATION, ...SHELL_WORDS, ...SECRET_WORDS])]
  .filter((w) => w !== '.' && !INNER_WORDS.includes(w))
  // Longer first, so that a word that starts another ("sh", "show") does not hide it at the same position.
  .sort((x, y) => y.length - x.length);
/**
 * One pass finds which trigger words occur, at a word start (where every pattern below has them) or, for the few
 * that a pattern may hold inside a word, anywhere; the scan steps one character past each match start, so
 * overlapping words are all found. Each pattern runs only when the words it needs are present: a gate is implied
 * by its pattern, so it never hides a match.
 */
const TRIGGER_RE = new RegExp(
  `\\b(?:${WORD_START.map(escapeRe).join('|')})|${INNER_WORDS.map(escapeRe).join('|')}|\\.[a-z]`,
  'g',
);

/** The trigger words of `text`; a dot before a letter is recorded as `.`. */
function triggers(text: string): Set<string> {
  const found = new Set<string>();
  TRIGGER_RE.lastIndex = 0;
  for (let m = TRIGGER_RE.exec(text); m !== null; m = TRIGGER_RE.exec(text)) {
    const w = m[0];
    found.add(w.length === 2 && w.charCodeAt(0) === 46 ? '.' : w);
    TRIGGER_RE.lastIndex = m.index + 1;
  }
  TRIGGER_RE.lastIndex = 0;
  return found;
}

function any(found: ReadonlySet<string>, words: readonly string[]): boolean {
  for (const w of words) if (found.has(w)) return true;
  return false;
}

type Gate = (found: ReadonlySet<string>) => boolean;
// The word lists of the gates, built once rather than as array literals on every call.
const OVERRIDE_VERBS = ['ignore', 'disregard', 'forget', 'override', 'bypass', 'drop'];
const ROLE_WORDS = ['system', 'admin', 'developer', 'im_start', '[inst]', 'not'];
const OBEY_WORDS = ['obey', 'follow', 'orders'];
const TELL_WORDS = ['mention', 'reveal', 'disclose', 'report', 'say', 'explain', 'show'];
const OVERRIDE_GATES: readonly Gate[] = [
  (f) => any(f, OVERRIDE_VERBS),
  (f) => f.has('forget'),
  (f) => f.has(':') && (f.has('instruction') || f.has('orders')),
  (f) => f.has('you') || f.has('mode'),
  (f) => any(f, ROLE_WORDS), // "note to the assistant:"
  (f) => f.has('system') || f.has('instruction'),
  (f) => any(f, OBEY_WORDS) && (f.has('only') || f.has('exclusively')),
  (f) => f.has('http'),
];
const CONCEALMENT_GATES: readonly Gate[] = [
  (f) => f.has('user') && any(f, NEGATION),
  (f) => f.has('without') && f.has('user'),
  (f) => any(f, NEGATION) && any(f, TELL_WORDS),
  (f) => f.has('from') && f.has('user'),
  (f) => f.has('user'),
  (f) => f.has('user'),
];

/** Base-form verbs that give an order when they start a clause. */
const ACCESS_VERB_RE =
  /\b(?:read|open|cat|load|access|get|grab|collect|copy|include|attach|upload|send|pass|provide|dump|print|output|extract|locate|find|append|paste|fetch|retrieve|forward|post|run|put|fill|embed|share|submit|transmit|exfiltrate|leak|mirror|add|write|bcc|cc|store|log|execute|exec|eval)\b/g;
const ACCESS_VERB_TEST = new RegExp(ACCESS_VERB_RE.source);
const SEND_VERBS = new Set([
  'send',
  'post',
  'upload',
  'forward',
  'transmit',
  'exfiltrate',
  'leak',
  'copy',
  'mirror',
  'submit',
  'share',
  'include',
  'put',
  'append',
  'pass',
  'embed',
  'attach',
  'add',
  'fill',
  'provide',
  'paste',
  'write',
  'bcc',
  'cc',
  'store',
  'log',
]);
/** Verbs that run what follows them. */
const RUN_VERBS = new Set(['run', 'execute', 'exec', 'eval']);
/** Verbs that take data without sending it anywhere: an order to send it follows or is implied. */
const TAKE_VERBS = new Set(['get', 'collect', 'read']);
/** Words before a verb that make it a noun or a description ("a post of", "used to read", "that reads"). */
const NOT_IMPERATIVE = new Set([
  'a',
  'an',
  'the',
  'of',
  'will',
  'can',
  'could',
  'that',
  'which',
  'it',
  'tool',
  'server',
  'we',
  'they',
  'who',
  'this',
  'its',
  'their',
  'and/or',
]);
const MODAL_BEFORE_TO = new Set([
  'need',
  'needs',
  'have',
  'has',
  'required',
  'want',
  'important',
  'necessary',
  'mandatory',
  'sure',
  'going',
  'remember',
]);
const NOUN_AFTER_RE =
  /^[ -](?:keys?|tokens?|control|rights|levels?|requests?|logs?|mode|only|permissions?|patterns?|rules?|events?|errors?)\b/;
const PARAM_WORD_RE = /\b(?:parameter|argument|arg|field|param|property)\b/;

const WEAK_RE =
  /<important>|\bimportant\s*:|\bbefore (?:using|calling|invoking|running) (?:this|the) tool\b|\botherwise (?:the|this) tool (?:will not|won't|will fail|does not)|\b(?:silently|secretly|covertly|quietly|stealthily)\b|\bbefore (?:answering|responding|replying)\b|\byou must\b/g;

const MAX_MATCHES = 64;
const SECRET_PATH_G = new RegExp(SECRET_PATH_RE.source, 'g');
const SENSITIVE_G = new RegExp(SENSITIVE_RE.source, 'g');
const SHELL_HINT_G =
  /\b(?:curl|wget|bash|sh|rm|nc|ncat|iex|powershell|python[23]?|chmod|mkfifo|base64|scp|security|dump-keychain)\b|\/dev\/tcp/g;

/** Sorted start offsets of every match of the given global regexes (at most 256). */
function positions(text: string, ...res: RegExp[]): number[] {
  const out: number[] = [];
  for (const re of res) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      out.push(m.index);
      if (out.length >= 256) break;
    }
    re.lastIndex = 0;
  }
  return out.sort((a, b) => a - b);
}

/** One directive found in folded text. */
export interface DirectiveMatch {
  readonly category: Category;
  readonly threat: ScanThreat;
  readonly index: number;
  /** The sentence, folded. */
  readonly sentence: string;
  /** Only quoted or given as an example. */
  readonly mention: boolean;
}

export interface FindOptions {
  /** The tool's own parameter names, lower case: a sentence that routes data into one of them is exfiltration. */
  readonly params?: readonly string[] | undefined;
  /** Whether offset `index` lies in a parameter's own description, where "here"/"this field" is a destination. */
  readonly inParam?: ((index: number) => boolean) | undefined;
  /** Without `inParam`: the prose doc the text is, whose fields tell where parameter descriptions are. */
  readonly doc?: ProseDoc | undefined;
  readonly raw?: string | undefined;
}

function wordBefore(text: string, index: number): { word: string; start: number } {
  const head = text.slice(Math.max(0, index - 40), index).trimEnd();
  const m = /([\w'/-]+)\W*$/.exec(head);
  if (!m) return { word: '', start: -1 };
  return { word: m[1] as string, start: index - (head.length - m.index) };
}

function imperative(text: string, index: number): boolean {
  // Punctuation right before the verb starts a clause: "before using this tool, read …" is an order.
  if (/[,:;(>\]\n]\s*$/.test(text.slice(Math.max(0, index - 3), index))) return true;
  const { word, start } = wordBefore(text, index);
  if (word === 'to') return MODAL_BEFORE_TO.has(wordBefore(text, start).word);
  return !NOT_IMPERATIVE.has(word);
}

const WORD3_RE = /[\w-]{3,}/g;

function hasDestination(tail: string, at: number, options: FindOptions): boolean {
  if (OUTSIDE_URL_RE.test(tail) || EMAIL_RE.test(tail) || PARAM_WORD_RE.test(tail)) return true;
  if (/\bchannel [a-z0-9]{6,}\b|\bwebhook\b/.test(tail)) return true;
  const inParam =
    options.inParam?.(at) ?? (options.doc !== undefined && fieldAt(options.doc, at)?.kind === 'param_description');
  if (inParam && /\b(?:here|this (?:field|value|parameter))\b|^\s*(?:with|in|this)\b/.test(tail)) return true;
  const params = options.params;
  if (params === undefined || params.length === 0) return false;
  for (const m of execAll(WORD3_RE, tail)) if (params.includes(m[0])) return true;
  return false;
}

/** The directives found so far in one text; a class so that its method exists once, not once per call. */
class Matches {
  readonly out: DirectiveMatch[] = [];
  private spans: Array<[number, number]> | undefined;
  private readonly folded: string;

  constructor(folded: string) {
    this.folded = folded;
  }

  add(category: Category, threat: ScanThreat, index: number): void {
    if (this.out.length >= MAX_MATCHES) return; // a megabyte of repeated phrases must not cost a sentence scan each
    const folded = this.folded;
    this.spans ??= quotedSpans(folded);
    const s = sentenceStart(folded, index);
    this.out.push({
      category,
      threat,
      index,
      sentence: folded.slice(s, sentenceEnd(folded, index)),
      mention: isMention(folded, index, this.spans),
    });
  }
}

/** Every directive in folded text, mentions included (flagged as such). */
export function findDirectives(folded: string, options: FindOptions = {}): DirectiveMatch[] {
  const matches = new Matches(folded);
  const out = matches.out;
  // Gated: the common case (a plain description) runs few of these patterns, or none.
  const found = triggers(folded);
  for (let i = 0; i < OVERRIDE_RES.length; i++) {
    if (!(OVERRIDE_GATES[i] as Gate)(found)) continue;
    for (const m of execAll(OVERRIDE_RES[i] as RegExp, folded, MAX_MATCHES)) {
      if (out.length >= MAX_MATCHES) return out;
      matches.add('override', 'instruction_override', m.index);
    }
  }
  for (let i = 0; i < CONCEALMENT_RES.length; i++) {
    if (!(CONCEALMENT_GATES[i] as Gate)(found)) continue;
    for (const m of execAll(CONCEALMENT_RES[i] as RegExp, folded, MAX_MATCHES)) {
      if (out.length >= MAX_MATCHES) return out;
      matches.add('concealment', 'concealment', m.index);
    }
  }
  // No verb, no order to read or send anything: skip looking for its objects (the test stops at the first verb).
  if (!ACCESS_VERB_TEST.test(folded)) return out;
  // Where the objects of an order sit: a verb matters only within 120 characters of one of them.
  // Collected directly: for the many texts without one, the scan that finds none is the same as a test.
  const shell = any(found, SHELL_WORDS);
  const secretHint = any(found, SECRET_WORDS);
  const anchorRes = secretHint ? [SECRET_PATH_G, SENSITIVE_G] : [SENSITIVE_G];
  if (shell) anchorRes.push(SHELL_HINT_G);
  const anchors = positions(folded, ...anchorRes);
  if (anchors.length === 0) return out;
  let next = 0;
  ACCESS_VERB_RE.lastIndex = 0;
  // A direct exec loop: nothing below uses ACCESS_VERB_RE, and a long text may hold thousands of verbs.
  for (let m = ACCESS_VERB_RE.exec(folded); m !== null; m = ACCESS_VERB_RE.exec(folded)) {
    if (out.length >= MAX_MATCHES) break;
    const at = m.index;
    while (next < anchors.length && (anchors[next] as number) < at - 120) next++;
    if (next >= anchors.length || (anchors[next] as number) > at + 200) continue;
    const verb = m[0];
    const runs = RUN_VERBS.has(verb);
    const sends = SEND_VERBS.has(verb) || TAKE_VERBS.has(verb);
    // Without a secret path in the text, only a verb that runs, sends or takes can give an order below: skip the
    // others before any of the tests (most verbs of ordinary descriptions: "find", "open", "access"…).
    if (!secretHint && !runs && !sends) continue;
    if (!imperative(folded, at)) continue;
    // "access keys", "post request", "read only": the verb is a modifier of the noun after it.
    if (NOUN_AFTER_RE.test(folded.slice(at + verb.length, at + verb.length + 16))) continue;
    const end = sentenceEnd(folded, at);
    const tail = folded.slice(at, Math.min(end, at + 200));
    const secret = secretHint && SECRET_PATH_RE.test(tail.slice(0, 120));
    if (runs && SHELL_RE.test(tail)) {
      matches.add('execution', 'code_execution', at);
      continue;
    }
    if (secret && !SEND_VERBS.has(verb)) {
      matches.add('secret_access', 'secret_access', at);
      continue;
    }
    if (sends) {
      // "read ~/.ssh/id_rsa and pass its content as 'sidenote'": what is passed was named before the verb (looked
      // for only when the tail names nothing sensitive itself).
      const sensitive =
        SENSITIVE_RE.test(tail.slice(0, 120)) ||
        secret ||
        (secretHint && SECRET_PATH_RE.test(folded.slice(Math.max(sentenceStart(folded, at), at - 120), at)));
      if (sensitive && (verb === 'exfiltrate' || hasDestination(tail.slice(verb.length), at, options))) {
        matches.add('exfiltration', 'exfiltration', at);
      } else if (secret) {
        matches.add('secret_access', 'secret_access', at);
      }
    }
  }
  ACCESS_VERB_RE.lastIndex = 0;
  return out;
}

const BASE_CONFIDENCE: Record<Category, number> = {
  override: 0.9,
  concealment: 0.85,
  secret_access: 0.9,
  exfiltration: 0.92,
  execution: 0.92,
};
/** Directives to the model, outside quotes and example frames. */
export const directiveCheck: Check = {
  id: 'directive',
  run({ view }) {
    const out: RawFinding[] = [];
    const doc = proseDoc(view);
    if (doc.text.length === 0) return out;
    const params = view.params.map((p) => p.name.toLowerCase());
    const options: FindOptions = { params, doc };
    const matches = findDirectives(doc.text, options);
    const leet = deleet(doc.text); // same length as the text: offsets still point at the same field
    if (leet !== undefined) matches.push(...findDirectives(leet, options));
    const seen = new Set<string>();
    for (const m of matches) {
      if (m.mention) continue;
      const field = fieldAt(doc, m.index);
      if (field === undefined) continue;
      const key = `${field.path}\u0000${m.category}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const fieldText = doc.text.slice(doc.starts[doc.fields.indexOf(field)] ?? 0).split('\n', 1)[0] ?? '';
      const weak = (fieldText.match(WEAK_RE) ?? []).length;
      const others = matches.filter((o) => !o.mention && o.category !== m.category).length;
      const confidence = Math.min(0.99, BASE_CONFIDENCE[m.category] + 0.03 * weak + 0.02 * Math.min(others, 3));
      out.push({
        check: 'directive',
        tier: 'hard',
        threat: m.threat,
        confidence: Math.round(confidence * 100) / 100,
        evidence: `${m.category.replace('_', ' ')}: "${renderSafe(m.sentence.trim(), 160)}"`,
        path: field.path,
        subject: m.sentence,
        param: field.param,
      });
      if (out.length >= 16) break;
    }
    return out;
  },
};
