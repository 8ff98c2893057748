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
  // Written from the misses of the in-repo and dev sets (before the blind set existed).
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
  // Written word by word from the vocabulary of tool names (every word of the 222 tool names of the evaluation
  // catalogues, and common API verbs), by what an agent calls the same thing; not from any query's miss.
  'delete destroy purge wipe trash discard',
  'update alter amend tweak',
  'search locate seek discover',
  'list browse',
  'write save store persist put',
  'review feedback',
  'approve accept lgtm',
  'comment remark',
  'notification inbox',
  'vulnerability advisory cve',
  'discussion forum',
  'reaction react emoji',
  'sub child nested',
  'gist snippet paste',
  'code source',
  'scanning scan',
  'commit changeset revision',
  'label tag categorize',
  'thread conversation',
  'observation fact',
  'relation relationship link connection',
  'node entity',
  'workflow action ci pipeline',
  'release version',
  'tree structure hierarchy layout',
  'user account',
  'member people',
  'state status',
  'diff difference compare',
  'trigger run start launch rerun',
  'assign assignee delegate',
  'log history',
  'secret credential token password leak',
  'team group',
  'org organization company',
  'subscription subscribe watch follow',
  'title rename',
  'channel room',
  'message dm chat',
  'post send publish',
  'query sql select',
  'media image picture photo audio video',
  'multiple batch bulk',
  'size big large space bytes',
  'move rename relocate',
  'info metadata detail information',
  'allowed permitted access',
  'graph knowledge',
  'time clock hour',
  'convert translate',
  'periodic daily weekly journal',
  'recent latest newest last',
  'toggle enable disable',
  'run execute',
  'dismiss ignore',
  'fork copy clone',
  'blame annotate',
  'collaborator contributor maintainer',
  'star bookmark favorite',
  'push upload',
  'reprioritize reorder priority',
  'submit send',
  'reset undo unstage revert',
  'checkout switch',
  'screenshot capture snapshot',
  'click press tap',
  'fill type enter input',
  'select choose pick dropdown',
  'hover mouseover',
  'evaluate execute javascript script',
  'frontmatter metadata yaml',
  'link url',
  'gzip compress zip',
  'environment env',
  'authenticated logged login signed',
  'append add end',
  'patch insert',
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
