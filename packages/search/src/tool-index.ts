import type { Logger, UpstreamTool } from '@mcpproxy/contracts';
import { silentLogger } from '@mcpproxy/contracts';
import { fieldsOf, TOOL_FIELDS, type ToolField } from './fields.js';
import { contradicts, queryKinds, toolKind } from './intent.js';
import { domainWords, relatedWords } from './lexicon.js';
import { analyze } from './tokenize.js';
import { enlist, popcount, siftDown, siftUp, unlist } from './util.js';
import { valueKinds } from './values.js';

/** Default field weights: a word in the tool's name says far more about what it does than one in its prose. */
export const DEFAULT_BOOST: Readonly<Record<ToolField, number>> = Object.freeze({
  name: 3,
  server: 1.5,
  description: 1,
  params: 1,
  paramDescriptions: 0.5,
});

/** Default `limit` of {@link ToolIndex.search}, the `tools_limit` config key (docs/configuration.md). */
export const DEFAULT_LIMIT = 15;
/** The largest `limit` {@link ToolIndex.search} honours; larger values are capped. */
export const MAX_LIMIT = 100;

/** Options of {@link createToolIndex}. */
export interface ToolIndexOptions {
  /**
   * Weight of each field in the BM25F pseudo term frequency. Missing fields keep their default; 0 ignores a field.
   * @default { name: 3, server: 1.5, description: 1, params: 1, paramDescriptions: 0.5 }
   */
  boost?: Partial<Record<ToolField, number>> | undefined;
  /**
   * BM25 term-frequency saturation: how quickly repeats of a word stop adding score.
   * @default 1.2
   */
  k1?: number | undefined;
  /**
   * BM25 length normalisation, 0 (none) to 1 (full): how much a long field dilutes each of its words.
   * @default 0.75
   */
  b?: number | undefined;
  /**
   * IDF is raised to this power. Below 1 it narrows the gap between rare and common words: the words that name
   * what a tool works on (`issue`, `branch`, `file`) are common in a catalogue, while the rarest words of a query
   * are often its arguments (`signup`, `Tokyo`, `bob`), which match some tool's prose by accident. 1 is plain BM25.
   * @default 0.7
   */
  idfExponent?: number | undefined;
  /**
   * Turns text into terms, for indexing and querying alike.
   * @default analyze (identifier-aware split, stop words dropped, plurals folded)
   */
  analyzer?: ((text: string) => string[]) | undefined;
  /**
   * Also match indexed words that start with a query word of 3+ letters (`compress` → `compression`),
   * scored at half an exact match or less. On by default: it lifted MRR on the evaluation set at little cost.
   * @default true
   */
  prefix?: boolean | undefined;
  /**
   * Re-ranking by coverage: each score is multiplied by (matched query words / query words) to this power, so a
   * tool that answers every word of the query beats one that matches a single rare word many times. 0 turns it off.
   * @default 0.5
   */
  coverage?: number | undefined;
  /**
   * Re-ranking by the tool's name: each score is multiplied by 1 + nameBonus × (query words, or their expansions,
   * found in the name / words of the name), so `update_issue_title` wins "rename the issue title" from a tool that
   * only mentions issues and titles in its prose. 0 turns it off.
   * @default 0.5
   */
  nameBonus?: number | undefined;
  /**
   * Re-ranking by action: a tool whose name verb is of a kind every verb of the query contradicts (`create_branch`
   * for "delete the branch", `slack_post_message` for "what did people say in #general") has its score multiplied
   * by this. 1 turns it off.
   * @default 0.7
   */
  verbPenalty?: number | undefined;
  /**
   * Adds to the query the kind of each concrete value it holds: `file` for `config.yaml` or `src/index.ts`, `url`
   * for `https://…` or `example.com`, `user` for `@alice`, `email` for an address (see `valueKinds`), so "what is
   * in config.yaml" also asks for a file. `false` turns it off.
   * @default true
   */
  valueWords?: boolean | undefined;
  /**
   * Indexes the string values of each parameter's `enum` with the parameter names (`state`: open, closed;
   * `event`: APPROVE, REQUEST_CHANGES), but not those of `sort`, `order` or `direction` parameters, which only
   * order results. `false` turns it off.
   * @default true
   */
  enumValues?: boolean | undefined;
  /**
   * Query expansion with related words (WordNet synonyms and derived forms, see `relatedWords`), scored at
   * {@link RELATED_WEIGHT} of an exact match; `false` turns it off.
   * @default true
   */
  related?: boolean | undefined;
  /** Told at debug level about tool definitions skipped for having no usable name. @default silentLogger */
  logger?: Logger | undefined;
}

/** Options of {@link ToolIndex.search}. */
export interface SearchOptions {
  /** Most hits to return; capped at 100. @default 15 */
  limit?: number | undefined;
  /** Only search the tools of these servers. @default every server */
  servers?: readonly string[] | undefined;
}

/** One search result. */
export interface ToolHit {
  /** The server's name, as given to {@link ToolIndex.add}. */
  server: string;
  /** The tool's name as its server lists it; call it as `server:tool`. */
  tool: string;
  /** BM25F relevance; only comparable between hits of the same query on the same index. */
  score: number;
}

/** A full-text index of the tools of many servers. Synchronous and in-memory. */
export interface ToolIndex {
  /**
   * Indexes `tools` as the whole tool list of `server`, replacing what was indexed for it before, so a
   * re-listing is one call. Pass only tools that are approved and callable: the index serves whatever it holds.
   * Never throws on odd definitions: a tool without a name is skipped, a missing description or odd
   * `inputSchema` just leaves those fields empty, and of duplicate names the first wins.
   */
  add(server: string, tools: readonly UpstreamTool[]): void;
  /** Drops every tool of `server`. Returns whether it had any. */
  remove(server: string): boolean;
  /** Best matches of `query`, by score descending, ties by server then tool name. A blank query finds nothing. */
  search(query: string, options?: SearchOptions): ToolHit[];
  /** Number of indexed tools. */
  size(): number;
  /** Drops everything. */
  clear(): void;
}

const F = TOOL_FIELDS.length;
/** A prefix expansion scores this fraction of an exact match, times query length / expanded length. */
const PREFIX_WEIGHT = 0.5;
/** Query words shorter than this are not expanded: "ge" would reach half the vocabulary. */
const PREFIX_MIN = 3;
/** Most expansions of one query word; past it the shortest (then alphabetically first) are kept. */
const PREFIX_MAX_EXPANSIONS = 16;
/** A match through a related word scores this fraction of an exact match. */
const RELATED_WEIGHT = 0.3;
/** Expansions held by more tools than this share of the index (and than the floor) are not walked. */
const EXPANSION_DF_SHARE = 0.02;
const EXPANSION_DF_FLOOR = 200;
/** Most WordNet expansions of one query word (those found in the index, most frequent senses first). */
const RELATED_MAX_EXPANSIONS = 3;
/** A match through a domain word (see `domainWords`) scores this fraction of an exact match. */
const DOMAIN_WEIGHT = 0.5;
/** Query words past this many do not count towards coverage (one bit each in a small integer). */
const COVERAGE_BITS = 30;
const SERVER_FIELD = TOOL_FIELDS.indexOf('server');
const NAME_FIELD = TOOL_FIELDS.indexOf('name');
/** Bits per field of a packed term frequency: five fields fit a small integer. */
const TF_BITS = 6;
const TF_MAX = 2 ** TF_BITS - 1;
const NAME_SHIFT = TF_BITS * NAME_FIELD;

/**
 * One term's tools within one server, flat: `[slot, tf, slot, tf, …]`, where `tf` packs the term's frequency in
 * each field, 6 bits a field in {@link TOOL_FIELDS} order (capped at 63; 30 bits stay a small integer).
 */
type Posting = number[];

/** One term: how many tools hold it (for IDF) and its postings, one per server so a server drops out whole. */
interface TermEntry {
  df: number;
  byServer: Map<string, Posting>;
}

/** What one server put in the index, so `remove` undoes exactly that. */
interface Shard {
  slots: number[];
  terms: string[];
}

/**
 * Creates an empty {@link ToolIndex}, scored with BM25F: per tool and query term, the field frequencies are
 * weighted by `boost` and length-normalised by `b` into one pseudo frequency, which `k1` saturates once.
 */
export function createToolIndex({
  boost,
  k1 = 1.2,
  b = 0.75,
  idfExponent = 0.7,
  analyzer = analyze,
  prefix = true,
  coverage = 0.5,
  related = true,
  nameBonus = 0.5,
  verbPenalty = 0.7,
  valueWords = true,
  enumValues = true,
  logger = silentLogger,
}: ToolIndexOptions = {}): ToolIndex {
  const weights = TOOL_FIELDS.map((f) => boost?.[f] ?? DEFAULT_BOOST[f]);
  const terms = new Map<string, TermEntry>();
  const shards = new Map<string, Shard>();
  // Indexed words longer than PREFIX_MIN by their first PREFIX_MIN characters, for prefix expansion.
  const buckets = new Map<string, string[]>();
  // Per slot (a tool's number while indexed; reused after removal): its server, name and field lengths.
  const slotServer: string[] = [];
  const slotTool: string[] = [];
  const slotKind: number[] = []; // the action kind of the tool's name (see intent.ts)
  const slotNameWords: number[] = []; // distinct words of the name and title, for the name re-ranking
  let slotLen = new Float64Array(64 * F);
  const free: number[] = [];
  const totalLen = new Float64Array(F);
  let live = 0;
  // Per slot and field: boost / (1 - b + b · length / average length), the BM25F factor of one occurrence.
  // Averages move with every add and remove, so it is recomputed on the first search after a change.
  let factor = new Float64Array(0);
  let factorStale = true;
  // Query scratch: a score per slot, zeroed again after each query.
  let scores = new Float64Array(64);
  // Query scratch: per slot, one bit per query word it matched (for the coverage re-ranking).
  let matched = new Int32Array(64);
  // Query scratch: per slot, one bit per query word found in the tool's name (for the name re-ranking).
  let nameMatched = new Int32Array(64);

  function allocSlot(): number {
    const slot = free.pop() ?? slotServer.length;
    if ((slot + 1) * F > slotLen.length) {
      const grown = new Float64Array(slotLen.length * 2);
      grown.set(slotLen);
      slotLen = grown;
    }
    return slot;
  }

  function remove(server: string): boolean {
    const shard = shards.get(server);
    if (shard === undefined) return false;
    shards.delete(server);
    for (const term of shard.terms) {
      const entry = terms.get(term) as TermEntry;
      entry.df -= (entry.byServer.get(server) as Posting).length / 2;
      entry.byServer.delete(server);
      if (entry.byServer.size === 0) {
        terms.delete(term);
        if (prefix && term.length > PREFIX_MIN) unlist(buckets, term.slice(0, PREFIX_MIN), term);
      }
    }
    for (const slot of shard.slots) {
      for (let f = 0; f < F; f++) totalLen[f] = (totalLen[f] as number) - (slotLen[slot * F + f] as number);
      slotServer[slot] = '';
      slotTool[slot] = '';
      free.push(slot);
    }
    live -= shard.slots.length;
    factorStale = true;
    return true;
  }

  function add(server: string, tools: readonly UpstreamTool[]): void {
    remove(server);
    const shard: Shard = { slots: [], terms: [] };
    const postings = new Map<string, Posting>();
    const serverTerms = analyzer(server);
    const seen = new Set<string>();
    for (const tool of Array.isArray(tools) ? tools : []) {
      const t = (typeof tool === 'object' && tool !== null ? tool : {}) as unknown as Record<string, unknown>;
      const name = t.name;
      if (typeof name !== 'string' || name === '' || seen.has(name)) {
        logger.debug('search: tool skipped', { server, tool: typeof name === 'string' ? name : null });
        continue;
      }
      seen.add(name);
      const fields = fieldsOf(server, t, enumValues);
      const slot = allocSlot();
      slotServer[slot] = server;
      slotTool[slot] = name;
      slotKind[slot] = toolKind(name);
      for (let f = 0; f < F; f++) {
        const words = f === SERVER_FIELD ? serverTerms : analyzer(fields[TOOL_FIELDS[f] as ToolField]);
        slotLen[slot * F + f] = words.length;
        if (f === NAME_FIELD) slotNameWords[slot] = new Set(words).size;
        totalLen[f] = (totalLen[f] as number) + words.length;
        const shift = TF_BITS * f;
        for (const word of words) {
          let posting = postings.get(word);
          if (posting === undefined) {
            posting = [];
            postings.set(word, posting);
          }
          const at = posting.length - 1;
          if (at < 0 || posting[at - 1] !== slot) posting.push(slot, 1 << shift);
          // k1 saturates long before 63 repeats, so capping the count loses nothing.
          else if ((((posting[at] as number) >>> shift) & TF_MAX) < TF_MAX)
            posting[at] = (posting[at] as number) + (1 << shift);
        }
      }
      shard.slots.push(slot);
    }
    if (shard.slots.length === 0) return;
    for (const [word, posting] of postings) {
      let entry = terms.get(word);
      if (entry === undefined) {
        entry = { df: 0, byServer: new Map() };
        terms.set(word, entry);
        if (prefix && word.length > PREFIX_MIN) enlist(buckets, word.slice(0, PREFIX_MIN), word);
      }
      entry.df += posting.length / 2;
      entry.byServer.set(server, posting);
      shard.terms.push(word);
    }
    live += shard.slots.length;
    factorStale = true;
    shards.set(server, shard);
  }

  function refreshFactors(): void {
    const slots = slotServer.length;
    if (scores.length < slots) {
      scores = new Float64Array(Math.max(slots, scores.length * 2));
      matched = new Int32Array(scores.length);
      nameMatched = new Int32Array(scores.length);
    }
    if (factor.length < slots * F) factor = new Float64Array(Math.max(slots * F, factor.length * 2));
    for (let f = 0; f < F; f++) {
      const total = totalLen[f] as number;
      const perLen = total > 0 ? (b * live) / total : 0;
      const w = weights[f] as number;
      for (let slot = 0; slot < slots; slot++)
        factor[slot * F + f] = w / (1 - b + perLen * (slotLen[slot * F + f] as number));
    }
    factorStale = false;
  }

  /** Whether slot `x` ranks before slot `y`: higher score, then server, then tool name (code-unit order). */
  function before(x: number, y: number): boolean {
    const sx = scores[x] as number;
    const sy = scores[y] as number;
    if (sx !== sy) return sx > sy;
    const vx = slotServer[x] as string;
    const vy = slotServer[y] as string;
    if (vx !== vy) return vx < vy;
    return (slotTool[x] as string) < (slotTool[y] as string);
  }

  function search(query: string, { limit = DEFAULT_LIMIT, servers }: SearchOptions = {}): ToolHit[] {
    const n = Math.min(Math.max(Math.floor(Number.isFinite(limit) ? limit : DEFAULT_LIMIT), 0), MAX_LIMIT);
    if (n === 0 || live === 0 || typeof query !== 'string') return [];
    const words = new Set(analyzer(query));
    if (valueWords) for (const kind of valueKinds(query)) for (const t of analyzer(kind)) words.add(t);
    if (words.size === 0) return [];
    const only = servers === undefined ? undefined : new Set(servers);
    if (factorStale) refreshFactors();
    const touched: number[] = [];
    const score = (word: string, weight: number, bit: number): void => {
      const entry = terms.get(word);
      if (entry === undefined) return;
      const idf = weight * Math.log(1 + (live - entry.df + 0.5) / (entry.df + 0.5)) ** idfExponent;
      for (const [server, posting] of entry.byServer) {
        if (only !== undefined && !only.has(server)) continue;
        for (let j = 0; j < posting.length; j += 2) {
          const slot = posting[j] as number;
          let tf = 0;
          // Walk the packed counts field by field; most terms sit in one or two fields, so this stops early.
          for (let packed = posting[j + 1] as number, at = slot * F; packed !== 0; packed >>>= TF_BITS, at++) {
            const raw = packed & TF_MAX;
            if (raw !== 0) tf += raw * (factor[at] as number);
          }
          if (tf === 0) continue; // matched only in fields weighted 0
          const s = (idf * tf * (k1 + 1)) / (tf + k1);
          if (scores[slot] === 0) touched.push(slot);
          scores[slot] = (scores[slot] as number) + s;
          matched[slot] = (matched[slot] as number) | bit;
          if ((((posting[j + 1] as number) >>> NAME_SHIFT) & TF_MAX) !== 0)
            nameMatched[slot] = (nameMatched[slot] as number) | bit;
        }
      }
    };
    const expansionMaxDf = Math.max(EXPANSION_DF_FLOOR, EXPANSION_DF_SHARE * live);
    let bit = 1;
    for (const word of words) {
      // Each indexed term is scored once per query word, at the best weight any kind of match gives it.
      const expansions = new Map<string, number>();
      if (prefix && word.length >= PREFIX_MIN) {
        const bucket = buckets.get(word.slice(0, PREFIX_MIN));
        let longer = bucket?.filter((t) => t.length > word.length && t.startsWith(word) && !words.has(t)) ?? [];
        if (longer.length > PREFIX_MAX_EXPANSIONS) {
          longer.sort((x, y) => x.length - y.length || (x < y ? -1 : 1));
          longer = longer.slice(0, PREFIX_MAX_EXPANSIONS);
        }
        for (const t of longer) expansions.set(t, (PREFIX_WEIGHT * word.length) / t.length);
      }
      if (related) {
        // The most frequent senses come first; past a few, expansions cost posting walks and add mostly noise.
        let taken = 0;
        for (const t of relatedWords(word)) {
          if (taken >= RELATED_MAX_EXPANSIONS) break;
          if (words.has(t) || !terms.has(t)) continue;
          taken++;
          if ((expansions.get(t) ?? 0) < RELATED_WEIGHT) expansions.set(t, RELATED_WEIGHT);
        }
        for (const t of domainWords(word)) {
          if (!words.has(t) && terms.has(t) && (expansions.get(t) ?? 0) < DOMAIN_WEIGHT)
            expansions.set(t, DOMAIN_WEIGHT);
        }
      }
      score(word, 1, bit);
      for (const [t, weight] of expansions) {
        // An expansion held by a large share of a big catalogue cannot tell its tools apart, and its long
        // postings are the costliest to walk; small catalogues keep every expansion.
        if ((terms.get(t) as TermEntry).df <= expansionMaxDf) score(t, weight, bit);
      }
      if (bit < 1 << COVERAGE_BITS) bit <<= 1;
    }
    if (coverage > 0 && words.size > 1) {
      const counted = Math.min(words.size, COVERAGE_BITS + 1);
      for (const slot of touched) {
        const share = popcount(matched[slot] as number) / counted;
        scores[slot] = (scores[slot] as number) * share ** coverage;
      }
    }
    if (nameBonus > 0) {
      for (const slot of touched) {
        // Distinct words: a title that repeats the name ("search_users", "Search users") must not halve the share.
        const len = slotNameWords[slot] as number;
        if (len === 0) continue;
        const share = Math.min(1, popcount(nameMatched[slot] as number) / len);
        scores[slot] = (scores[slot] as number) * (1 + nameBonus * share);
      }
    }
    const asked = verbPenalty === 1 ? 0 : queryKinds(query);
    if (asked !== 0)
      for (const slot of touched)
        if (contradicts(asked, slotKind[slot] as number)) scores[slot] = (scores[slot] as number) * verbPenalty;

    // Top n by a bounded heap whose root is the worst kept hit: O(matches · log n), no full sort.
    const heap: number[] = [];
    for (const slot of touched) {
      if (heap.length < n) {
        heap.push(slot);
        siftUp(heap, heap.length - 1, before);
      } else if (before(slot, heap[0] as number)) {
        heap[0] = slot;
        siftDown(heap, 0, before);
      }
    }
    heap.sort((x, y) => (before(x, y) ? -1 : 1));
    const hits = heap.map((slot) => ({
      server: slotServer[slot] as string,
      tool: slotTool[slot] as string,
      score: scores[slot] as number,
    }));
    for (const slot of touched) {
      scores[slot] = 0;
      matched[slot] = 0;
      nameMatched[slot] = 0;
    }
    return hits;
  }

  return {
    add,
    remove,
    search,
    size: () => live,
    clear() {
      terms.clear();
      buckets.clear();
      shards.clear();
      slotServer.length = 0;
      slotTool.length = 0;
      slotKind.length = 0;
      slotNameWords.length = 0;
      free.length = 0;
      totalLen.fill(0);
      live = 0;
      factorStale = true;
    },
  };
}
