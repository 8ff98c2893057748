// Related words for query expansion: a WordNet-derived table (lexicon-data.ts, built offline by
// bench/build-lexicon.ts; nothing is downloaded or read from disk at run time) and a short list of domain words.
import { LEXICON } from './lexicon-data.js';

const NONE: readonly string[] = [];
let table: Map<string, readonly string[]> | undefined;

/**
 * Words related to an analysed `word`: WordNet synonyms of its most frequent senses and derivationally related
 * forms (`remember` → `recollection`), analysed the same way; `[]` for words the table does not know. The table is
 * parsed on first use (one split per line).
 */
export function relatedWords(word: string): readonly string[] {
  if (table === undefined) {
    table = new Map();
    for (const line of LEXICON.split('\n')) {
      const words = line.split(' ');
      table.set(words[0] as string, words.slice(1));
    }
  }
  return table.get(word) ?? NONE;
}

/**
 * Groups of words that agents and tool authors use for the same thing, which WordNet does not relate (it knows
 * no software): CRUD verbs, and nouns that differ between how people ask and how tools are named. Written from
 * the misses of the in-repo and dev evaluation sets, never from the frozen set's results. Each word of a group
 * relates to every other; a word may sit in several groups.
 */
const DOMAIN_GROUPS: readonly string[] = [
  'create make add new',
  'delete remove erase drop forget',
  'update edit modify change set',
  'get fetch retrieve read show view display open',
  'list enumerate show',
  'search find look lookup query',
  'folder directory dir',
  'repository repo project',
  'issue ticket bug',
  'pr pull request',
  'merge land',
  'comment note reply',
  'body description text content',
  'remember memory observation entity',
  'web internet online google',
  'local nearby near',
  'browser page navigate',
  'several multiple many',
  'total sum',
  'stage staging add',
  'file document',
];

let domain: Map<string, readonly string[]> | undefined;

/** Domain words related to an analysed `word`, both ways (see {@link DOMAIN_GROUPS}); `[]` when none. */
export function domainWords(word: string): readonly string[] {
  if (domain === undefined) {
    const sets = new Map<string, Set<string>>();
    for (const group of DOMAIN_GROUPS) {
      const words = group.split(' ');
      for (const a of words) {
        const set = sets.get(a) ?? new Set<string>();
        for (const b of words) if (b !== a) set.add(b);
        sets.set(a, set);
      }
    }
    domain = new Map([...sets].map(([k, v]) => [k, [...v]]));
  }
  return domain.get(word) ?? NONE;
}
