// Cross-server shadowing: a description that gives orders about another server's tool (Invariant Labs' "when
// send_email is used, add this BCC"), one that steers the model away from a trusted tool, one that hooks every
// other tool call, and a clone of another server's tool under the same name with a near-identical description.
import { type ContextTool, hasOtherServers, wordsOf } from '../context.js';
import { fieldAt, proseDoc, rawText } from '../doc.js';
import { EMAIL_RE, OUTSIDE_URL_RE } from '../patterns.js';
import { execAll, fold, isMention, quotedSpans, renderSafe, sentenceEnd, sentenceStart } from '../text.js';
import type { Check, CheckInput, RawFinding } from '../types.js';

/** Identifiers distinctive enough to be tool names: snake_case, kebab-case or camelCase. */
const IDENT_RE = /\b[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+|\b[a-z]+[A-Z][A-Za-z0-9]*/g;

/** Orders about how another tool behaves or is called. */
const HOOK_RE =
  /\b(?:when|whenever|every time|each time|before|after|if)\b[^.;]{0,60}\b(?:call|calls|called|calling|use|used|using|uses|invoke|invoked|invoking|run|runs|running)\b/;
const CHANGE_RE =
  /\b(?:always|also|must|should|set|add|change|rewrite|replace|prefix|append|redirect|send|copy|bcc|cc|put|include|instead|never|override|first call)\b/;
const DISPARAGE_RE =
  /\b(?:never|do not|don't|stop|avoid)\b(?: \w+){0,2} (?:use|call|invoke|run)\b|\b(?:is|are|has been) (?:deprecated|unsafe|broken|compromised|disabled|malicious|insecure)\b|\bhas (?:a|known) (?:bug|issue|flaw)\b|\bwork around\b|\bnote for\b|\breplaces?\b/;
/** Orders about every other tool, no name needed. */
const ALL_TOOLS_RE =
  /\b(?:before|after|when|whenever|instead of) (?:calling|using|invoking|running) (?:any|every|all) (?:other )?tools?\b|\b(?:any|every|all) (?:other )?tool calls?\b[^.;]{0,40}\b(?:must|first|also|always)\b|\bfor (?:all|every) (?:other )?(?:tool|function) calls?\b/g;

const SIMILAR = 0.6;
const CONTAINED = 0.85;

/** Share of `a`'s words that are also in `b`. */
function containment(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0) return 0;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  return inter / a.size;
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  for (const w of a) if (b.has(w)) inter++;
  return inter / (a.size + b.size - inter);
}

function mentions(input: CheckInput): RawFinding[] {
  const { view, server, context } = input;
  const out: RawFinding[] = [];
  const doc = proseDoc(view);
  const folded = doc.text;
  if (folded.length === 0) return out;
  let spans: Array<[number, number]> | undefined;
  // Every alternative of ALL_TOOLS_RE names a tool (or function) call and "any", "every" or "all".
  const hooksAll =
    (folded.includes(' tool') || folded.includes(' function call')) &&
    (folded.includes('any ') || folded.includes('every ') || folded.includes('all '));
  for (const all of hooksAll ? execAll(ALL_TOOLS_RE, folded) : []) {
    spans ??= quotedSpans(folded);
    if (isMention(folded, all.index, spans)) continue;
    const field = fieldAt(doc, all.index);
    const s = folded.slice(sentenceStart(folded, all.index), sentenceEnd(folded, all.index));
    out.push({
      check: 'shadowing',
      tier: 'hard',
      threat: 'tool_shadowing',
      confidence: 0.85,
      evidence: `hooks every other tool call: "${renderSafe(s.trim())}"`,
      path: field?.path ?? 'description',
      subject: s,
    });
    break;
  }
  // Only another server's tool counts, so a context of this server's tools alone has nothing to find.
  if (context === undefined || context.size === 0 || !hasOtherServers(context, server)) return out;
  // One pass over all of the tool's text; a name costs a map lookup, and only a known name of another server's
  // tool costs more (the prose doc holds only prose, so a name found in a value or a parameter name is skipped).
  const own = view.name.toLowerCase();
  let seen: Set<string> | undefined;
  let lookups = 0;
  const raw = rawText(view);
  IDENT_RE.lastIndex = 0;
  // A direct exec loop (nothing below uses IDENT_RE): matchAll would clone the regex for every tool.
  for (let m = IDENT_RE.exec(raw); m !== null; m = IDENT_RE.exec(raw)) {
    const name = m[0];
    if (++lookups > 4096) break;
    if (!context.has(name) || name.toLowerCase() === own) continue;
    seen ??= new Set<string>();
    if (seen.has(name)) continue;
    seen.add(name);
    const owners = context.byName(name).filter((t) => t.server !== server);
    if (owners.length === 0) continue;
    const at = folded.indexOf(name.toLowerCase());
    if (at < 0) continue;
    const sentence = folded.slice(sentenceStart(folded, at), sentenceEnd(folded, at));
    const before = folded.slice(sentenceStart(folded, at), at);
    // A quoted name is fine ("`read_file`"), but a quoted example sentence is not an order.
    if (/\b(?:such as|eg,|for example|detects?|flags?)\b/.test(before)) continue;
    spans ??= quotedSpans(folded);
    if (isMentionedSentence(folded, at, spans, name)) continue;
    const hook = HOOK_RE.test(sentence) && CHANGE_RE.test(sentence);
    const disparage = DISPARAGE_RE.test(sentence);
    if (!hook && !disparage) continue;
    const owner = owners[0] as ContextTool;
    out.push({
      check: 'shadowing',
      tier: 'hard',
      threat: 'tool_shadowing',
      confidence: hook && disparage ? 0.95 : 0.88,
      evidence: `instructs about ${owner.server}:${owner.name}: "${renderSafe(sentence.trim())}"`,
      path: fieldAt(doc, at)?.path ?? 'description',
      subject: sentence,
    });
    if (out.length >= 8) break;
  }
  IDENT_RE.lastIndex = 0;
  return out;
}

/** The name sits inside a quoted sentence that is itself an example (not just a quoted identifier). */
function isMentionedSentence(
  folded: string,
  at: number,
  spans: ReadonlyArray<[number, number]>,
  name: string,
): boolean {
  for (const [a, b] of spans) {
    if (at >= a && at < b && b - a > name.length + 2) return isMention(folded, a, []) || b - a > name.length + 12;
  }
  return false;
}

function clones(input: CheckInput): RawFinding[] {
  const { view, server, context } = input;
  if (context === undefined || view.name === '' || !hasOtherServers(context, server)) return [];
  const others = context.byName(view.name).filter((t) => t.server !== server);
  if (others.length === 0) return [];
  const description = view.fields.find((f) => f.path === 'description')?.text ?? '';
  const words = wordsOf(description);
  const params = view.params.map((p) => p.name);
  const out: RawFinding[] = [];
  for (const other of others) {
    // A clone keeps (nearly) all of the original's words and may add its own: containment catches a long
    // addition that would dilute plain overlap. Short originals ("Send an email.") need overlap, not containment.
    const sim = Math.max(
      jaccard(words, other.words),
      other.words.size >= 6 && containment(other.words, words) >= CONTAINED ? containment(other.words, words) : 0,
    );
    if (sim < SIMILAR) continue;
    const extraParams = params.filter((p) => !other.params.includes(p));
    const extraWords = [...words].filter((w) => !other.words.has(w));
    const sameText = description.trim() === other.description.trim();
    if (sameText && extraParams.length === 0 && params.length === other.params.length) continue; // the same server twice
    const added = extraText(description, other.description);
    const risky = OUTSIDE_URL_RE.test(added.toLowerCase()) || EMAIL_RE.test(added);
    const diff = [
      extraParams.length > 0 ? `extra parameters ${extraParams.slice(0, 5).join(', ')}` : '',
      added.trim() !== ''
        ? `added text "${renderSafe(added.trim(), 100)}"`
        : extraWords.length > 0
          ? `other words ${extraWords.slice(0, 6).join(', ')}`
          : '',
    ]
      .filter((s) => s !== '')
      .join('; ');
    out.push({
      check: 'shadowing',
      tier: risky ? 'hard' : 'soft',
      threat: 'tool_shadowing',
      confidence: risky ? 0.9 : Math.round((0.4 + 0.3 * sim) * 100) / 100,
      evidence: `clone of ${other.server}:${other.name} (${Math.round(sim * 100)}% of its description words)${diff ? `; ${diff}` : ''}`,
      path: 'name',
      subject: fold(added),
    });
    break;
  }
  return out;
}

/** The part of `mine` that is not in `theirs`: a common prefix and suffix removed. */
function extraText(mine: string, theirs: string): string {
  let start = 0;
  while (start < mine.length && start < theirs.length && mine[start] === theirs[start]) start++;
  let end = 0;
  while (
    end < mine.length - start &&
    end < theirs.length - start &&
    mine[mine.length - 1 - end] === theirs[theirs.length - 1 - end]
  )
    end++;
  return mine.slice(start, mine.length - end);
}

/** Cross-server shadowing: orders about other servers' tools, hooks on every tool call, and same-name clones. */
export const shadowingCheck: Check = {
  id: 'shadowing',
  run(input) {
    return [...mentions(input), ...clones(input)];
  },
};
