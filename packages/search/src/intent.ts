// What a query asks to do, and what a tool does, by their action verbs: the re-ranking that keeps "delete the
// branch" from ranking `create_branch` first just because both name the branch (issue 15).
import { stem, tokenize } from './tokenize.js';

/** Kinds of action. A tool whose name verb is of a kind the query's verbs all contradict is ranked lower. */
export const READ = 1;
export const CREATE = 2;
export const UPDATE = 4;
export const DELETE = 8;
/** "write" tools (`issue_write`) create, update and often delete: only a read-only query contradicts them. */
export const WRITE = 16;

/**
 * Verbs by kind, stemmed. Ambiguous verbs are left out on purpose (`open` a page / an issue / a file, `run`,
 * `give`, `clear`, `record`, `save`): a verb the table does not know never penalises anything.
 */
const VERBS: ReadonlyArray<readonly [number, string]> = [
  [READ, 'get list read show view display fetch retrieve search find look lookup query see check browse download'],
  [READ, 'enumerate inspect count locate discover'],
  [CREATE, 'create add make new post push append fork star insert generate upload publish send'],
  [UPDATE, 'update edit modify change set rename move mark patch put alter amend replace reprioritize toggle'],
  [DELETE, 'delete remove erase drop destroy purge wipe trash discard forget unstar dismiss unset'],
  [WRITE, 'write manage'],
];

/** Words that open a question: a query that starts with one and names no verb asks to read. */
const QUESTION = new Set(['what', 'which', 'who', 'whom', 'whose', 'when', 'where', 'how', 'is', 'are', 'any']);

const kinds = new Map<string, number>();
for (const [kind, words] of VERBS) for (const w of words.split(' ')) kinds.set(w, (kinds.get(w) ?? 0) | kind);

/** Which kinds contradict each kind: reading contradicts every change; deleting contradicts making or changing. */
const CONTRADICTS: Readonly<Record<number, number>> = {
  [READ]: CREATE | UPDATE | DELETE | WRITE,
  [CREATE]: READ | DELETE,
  [UPDATE]: READ | DELETE,
  [DELETE]: READ | CREATE | UPDATE,
  [WRITE]: READ,
};

/** The kind of a tool: that of the first word of its name the verb table knows; 0 when none does. */
export function toolKind(name: string): number {
  for (const w of tokenize(name)) {
    const k = kinds.get(stem(w));
    // A name word of several kinds (none today) would be ambiguous: take it only when it is a single kind.
    if (k !== undefined && (k & (k - 1)) === 0) return k;
  }
  return 0;
}

/**
 * The kinds a query asks for, as a bit set: every known verb in it, or READ for a question that names none;
 * 0 when it names no known verb ("the Slack thread about the outage"), which contradicts nothing.
 */
export function queryKinds(query: string): number {
  const words = tokenize(query);
  let found = 0;
  for (const w of words) found |= kinds.get(stem(w)) ?? 0;
  if (found === 0 && words.length > 0 && QUESTION.has(words[0] as string)) return READ;
  return found;
}

/** Whether every kind the query asks for contradicts the tool's kind (false if either is unknown). */
export function contradicts(query: number, tool: number): boolean {
  if (query === 0 || tool === 0) return false;
  for (let k = 1; k <= WRITE; k <<= 1) if ((query & k) !== 0 && ((CONTRADICTS[k] as number) & tool) === 0) return false;
  return true;
}
