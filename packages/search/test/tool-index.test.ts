import type { LogFields, UpstreamTool } from '@mcpproxy/contracts';
import { silentLogger } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createToolIndex, domainWords, MAX_LIMIT, relatedWords, type ToolHit } from '../src/index.js';

const tool = (name: string, description?: string, properties?: Record<string, unknown>): UpstreamTool => ({
  name,
  ...(description === undefined ? {} : { description }),
  inputSchema: { type: 'object', ...(properties === undefined ? {} : { properties }) },
});
const ids = (hits: ToolHit[]) => hits.map((h) => `${h.server}:${h.tool}`);

/** A catalogue where "widget" and "common" are spread so ordering questions have one right answer. */
function filler(n: number, word = 'common'): UpstreamTool[] {
  return Array.from({ length: n }, (_, i) => tool(`filler_${i}`, `Does ${word} things number ${i}`));
}

describe('ranking', () => {
  it('ranks a tool whose name matches above one that only mentions the word in its description', () => {
    const index = createToolIndex();
    index.add('a', [
      tool('send_email', 'Sends a message to a list of recipients, optionally with an attachment'),
      tool('archive', 'Moves an old email thread out of the inbox'),
      ...filler(5),
    ]);
    expect(ids(index.search('email'))).toEqual(['a:send_email', 'a:archive']);
  });

  it('weighs a rare query term above a common one', () => {
    const index = createToolIndex();
    index.add('a', [
      tool('one', 'Handles the common case'),
      tool('two', 'Handles the kubernetes case'),
      ...filler(10, 'common'),
    ]);
    const hits = index.search('common kubernetes');
    expect(hits[0]?.tool).toBe('two');
    expect(hits.length).toBe(12);
  });

  it('prefers a tool that matches more of the query', () => {
    const index = createToolIndex();
    index.add('fs', [
      tool('read_file', 'Read a file'),
      tool('read_graph', 'Read the graph'),
      tool('stat', 'File info'),
    ]);
    expect(ids(index.search('read file'))[0]).toBe('fs:read_file');
  });

  it('returns hits by descending positive score', () => {
    const index = createToolIndex();
    index.add('a', [
      tool('list_files', 'List files'),
      tool('files', 'Files'),
      tool('read', 'Read one file'),
      ...filler(3),
    ]);
    const scores = index.search('list files').map((h) => h.score);
    expect(scores.length).toBe(3);
    expect(scores.every((s) => s > 0)).toBe(true);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
  });

  it('breaks score ties by server name, then tool name', () => {
    const index = createToolIndex();
    const twins = [tool('beta', 'Fetches weather data'), tool('alpha', 'Fetches weather data')];
    index.add('zeta', twins);
    index.add('eta', twins);
    const hits = index.search('weather');
    expect(new Set(hits.map((h) => h.score)).size).toBe(1);
    expect(ids(hits)).toEqual(['eta:alpha', 'eta:beta', 'zeta:alpha', 'zeta:beta']);
  });

  it('finds tools by parameter names split on camelCase and by parameter descriptions', () => {
    const index = createToolIndex();
    index.add('a', [
      tool('make', 'Makes things', { entityType: { type: 'string' } }),
      tool('other', 'Other things', { q: { type: 'string', description: 'The postcode to geocode' } }),
      ...filler(3),
    ]);
    expect(ids(index.search('entity type'))).toEqual(['a:make']);
    expect(ids(index.search('postcode'))).toEqual(['a:other']);
  });

  it('reads nested object and array-item properties of the input schema', () => {
    // Exact hit lists here and below: related-word expansion would add neighbours the test is not about.
    const index = createToolIndex({ related: false });
    index.add('memory', [
      tool('create_entities', 'Create entities', {
        entities: {
          type: 'array',
          items: { type: 'object', properties: { observations: { type: 'array', description: 'Facts to remember' } } },
        },
      }),
      ...filler(3),
    ]);
    expect(ids(index.search('observations'))).toEqual(['memory:create_entities']);
    expect(ids(index.search('remember'))).toEqual(['memory:create_entities']);
  });

  it('matches the server name', () => {
    const index = createToolIndex();
    index.add('github', [tool('list_issues', 'List issues')]);
    index.add('jira', [tool('list_issues', 'List issues')]);
    expect(ids(index.search('github issues'))[0]).toBe('github:list_issues');
  });

  it('matches words that start with a query word of three or more letters, below an exact match', () => {
    const index = createToolIndex();
    index.add('a', [tool('gzip', 'Compression of files'), tool('zip', 'Compress files'), tool('cat', 'Print files')]);
    expect(ids(index.search('compress'))).toEqual(['a:zip', 'a:gzip']);
    expect(ids(index.search('com')).sort()).toEqual(['a:gzip', 'a:zip']);
    expect(index.search('co')).toEqual([]);
  });

  it('matches exact words only when prefix matching is off', () => {
    const index = createToolIndex({ prefix: false, related: false });
    index.add('a', [tool('gzip', 'Compression of files'), tool('zip', 'Compress files')]);
    expect(ids(index.search('compress'))).toEqual(['a:zip']);
  });

  it('ignores a field whose boost is 0', () => {
    const index = createToolIndex({ boost: { description: 0 }, related: false });
    index.add('a', [tool('echo', 'Repeats the message'), tool('repeat', 'Says it again')]);
    expect(ids(index.search('repeat'))).toEqual(['a:repeat']);
  });

  it('takes a custom analyzer for both indexing and queries', () => {
    const index = createToolIndex({ analyzer: (text) => text.split(/\s+/).filter(Boolean) });
    index.add('a', [tool('Read_File', 'x')]);
    expect(index.search('read')).toEqual([]);
    expect(ids(index.search('Read_File'))).toEqual(['a:Read_File']);
  });
});

describe('related words and coverage', () => {
  const catalogue = () => [
    tool('create_directory', 'Create a new directory'),
    tool('list_issues', 'List issues in a repository'),
    tool('read_file', 'Read the contents of a file'),
    ...filler(5),
  ];

  it('finds a tool through a domain word or a WordNet relation the tool never uses', () => {
    const index = createToolIndex();
    index.add('a', catalogue());
    expect(ids(index.search('make a folder'))[0]).toBe('a:create_directory');
    expect(ids(index.search('show open tickets'))[0]).toBe('a:list_issues');
  });

  it('finds nothing through related words when they are turned off', () => {
    const index = createToolIndex({ related: false });
    index.add('a', catalogue());
    expect(ids(index.search('folder'))).toEqual([]);
    expect(ids(index.search('tickets'))).toEqual([]);
  });

  it('ranks an exact match above a match through a related word', () => {
    const index = createToolIndex();
    index.add('a', [
      tool('make_folder', 'Make a folder'),
      tool('create_directory', 'Create a directory'),
      ...filler(5),
    ]);
    expect(ids(index.search('folder'))).toEqual(['a:make_folder', 'a:create_directory']);
  });

  it('lifts a tool that matches every query word above one that repeats a single rarer word', () => {
    const catalogue = [
      tool('zebra_zebra', 'zebra zebra zebra zebra'),
      tool('fetch_zebra_photo', 'Get a photo'),
      ...Array.from({ length: 8 }, (_, i) => tool(`photo_${i}`, 'A photo tool')),
    ];
    const plain = createToolIndex({ coverage: 0, related: false });
    const covered = createToolIndex({ related: false });
    plain.add('a', catalogue);
    covered.add('a', catalogue);
    // BM25 alone puts the word repeated four times first; the coverage re-ranking lifts the tool that has both.
    expect(ids(plain.search('zebra photo')).slice(0, 2)).toEqual(['a:zebra_zebra', 'a:fetch_zebra_photo']);
    expect(ids(covered.search('zebra photo')).slice(0, 2)).toEqual(['a:fetch_zebra_photo', 'a:zebra_zebra']);
  });
});

describe('name re-ranking', () => {
  it('lifts the tool whose name holds the query words above one that only has them in its prose', () => {
    const catalogue = [
      tool('digest', 'issue title, issue title, issue title'),
      tool('issue_title', 'Shows the issue title of a record in the tracker with more words here'),
      ...filler(6),
    ];
    // Name boost 1 in both, so only the re-ranking separates them.
    const plain = createToolIndex({ nameBonus: 0, coverage: 0, related: false, boost: { name: 1 } });
    const named = createToolIndex({ coverage: 0, related: false, boost: { name: 1 } });
    plain.add('a', catalogue);
    named.add('a', catalogue);
    expect(ids(plain.search('issue title')).slice(0, 2)).toEqual(['a:digest', 'a:issue_title']);
    expect(ids(named.search('issue title')).slice(0, 2)).toEqual(['a:issue_title', 'a:digest']);
  });
});

describe('name re-ranking with a title', () => {
  it("counts the name's distinct words, so a title that repeats the name does not halve the bonus", () => {
    const titled = { ...tool('search_users', 'Find people by their login'), title: 'Search users' };
    const catalogue = [titled, ...filler(6)];
    const plain = createToolIndex({ nameBonus: 0 });
    const named = createToolIndex();
    plain.add('a', catalogue);
    named.add('a', catalogue);
    const score = (index: typeof plain) => index.search('search users')[0]?.score ?? 0;
    // Both name words matched: the full bonus, × (1 + 0.5 · 2/2), not × (1 + 0.5 · 2/4).
    expect(score(named) / score(plain)).toBeCloseTo(1.5);
  });
});

describe('verb re-ranking', () => {
  const catalogue = () => [
    tool('create_branch', 'Create a branch from the branch head'),
    tool('prune_branch', 'Prunes a branch'),
    tool('post_message', 'Post a message to a channel; messages of channels'),
    tool('channel_history', 'Message history of a channel'),
    ...filler(6),
  ];

  it("ranks a tool whose name verb contradicts the query's verb below one that does not", () => {
    const plain = createToolIndex({ verbPenalty: 1 });
    const ranked = createToolIndex();
    plain.add('a', catalogue());
    ranked.add('a', catalogue());
    // "branch", twice in create_branch's prose, puts it first; "remove" contradicts "create".
    expect(ids(plain.search('remove the branch')).slice(0, 2)).toEqual(['a:create_branch', 'a:prune_branch']);
    expect(ids(ranked.search('remove the branch')).slice(0, 2)).toEqual(['a:prune_branch', 'a:create_branch']);
  });

  it('reads a question as a read: the tool that posts drops below the one that reads', () => {
    const plain = createToolIndex({ verbPenalty: 1 });
    const ranked = createToolIndex();
    plain.add('a', catalogue());
    ranked.add('a', catalogue());
    expect(ids(plain.search('what message came to the channel')).slice(0, 2)).toEqual([
      'a:post_message',
      'a:channel_history',
    ]);
    expect(ids(ranked.search('what message came to the channel')).slice(0, 2)).toEqual([
      'a:channel_history',
      'a:post_message',
    ]);
  });
});

describe('relatedWords and domainWords', () => {
  it('relate analysed words (domain words both ways) and know nothing of unknown words', () => {
    expect(domainWords('folder')).toContain('directory');
    expect(domainWords('directory')).toContain('folder');
    expect(relatedWords('remember')).toEqual(expect.arrayContaining(['recall', 'recollection']));
    expect(relatedWords('folder')).not.toContain('directory'); // what the domain list is for
    expect(relatedWords('xyzzyplugh')).toEqual([]);
    expect(domainWords('xyzzyplugh')).toEqual([]);
    // A group written from the vocabulary of tool names: what a tool calls "star", an agent may call "bookmark".
    expect(domainWords('bookmark')).toContain('star');
  });
});

describe('add, remove, clear', () => {
  it('replaces all tools of a server when the server is added again', () => {
    const index = createToolIndex();
    index.add('fs', [tool('read_file', 'Read a file'), tool('write_file', 'Write a file')]);
    index.add('fs', [tool('move_file', 'Move a file')]);
    expect(index.size()).toBe(1);
    expect(index.search('read write')).toEqual([]);
    expect(ids(index.search('file'))).toEqual(['fs:move_file']);
  });

  it('leaves the other servers alone when one is replaced or removed', () => {
    const index = createToolIndex();
    index.add('a', [tool('echo', 'Echo')]);
    index.add('b', [tool('echo', 'Echo')]);
    index.add('a', []);
    expect(ids(index.search('echo'))).toEqual(['b:echo']);
    expect(index.remove('b')).toBe(true);
    expect(index.search('echo')).toEqual([]);
    expect(index.size()).toBe(0);
  });

  it('removes exactly what was added: scores equal those of an index that never held the server', () => {
    const kept = [tool('list_issues', 'List issues of a repository'), tool('close_issue', 'Close an issue')];
    const index = createToolIndex();
    index.add('github', kept);
    index.add('jira', [tool('list_issues', 'List issues in a project'), tool('issue_links', 'Issue links')]);
    index.remove('jira');
    const fresh = createToolIndex();
    fresh.add('github', kept);
    expect(index.search('list issues')).toEqual(fresh.search('list issues'));
  });

  it('reports whether remove found the server', () => {
    const index = createToolIndex();
    index.add('a', [tool('x', 'x')]);
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(index.remove('never')).toBe(false);
  });

  it('never returns a removed tool after its slot is reused by another server', () => {
    const index = createToolIndex();
    index.add('old', [tool('alpha', 'First tool'), tool('beta', 'Second tool')]);
    index.remove('old');
    index.add('new', [tool('gamma', 'Third tool')]);
    expect(ids(index.search('tool'))).toEqual(['new:gamma']);
    expect(index.search('alpha beta first second')).toEqual([]);
  });

  it('drops everything on clear and indexes again afterwards', () => {
    const index = createToolIndex();
    index.add('a', [tool('x', 'hello')]);
    index.add('b', [tool('y', 'hello')]);
    index.clear();
    expect(index.size()).toBe(0);
    expect(index.search('hello')).toEqual([]);
    index.add('c', [tool('z', 'hello')]);
    expect(ids(index.search('hello'))).toEqual(['c:z']);
  });

  it('counts indexed tools in size', () => {
    const index = createToolIndex();
    expect(index.size()).toBe(0);
    index.add('a', [tool('x'), tool('y')]);
    index.add('b', [tool('x')]);
    expect(index.size()).toBe(3);
  });
});

describe('odd tool definitions', () => {
  it('indexes what is there and never throws', () => {
    const odd = [
      { name: 'no_description', inputSchema: {} },
      { name: 'null_schema', description: 'Schema is null', inputSchema: null },
      { name: 'array_schema', inputSchema: [1, 2] },
      { name: 'string_schema', inputSchema: 'object' },
      { name: 'array_properties', inputSchema: { properties: ['a', 'b'] } },
      { name: 'scalar_property', inputSchema: { properties: { color: 'red', size: null } } },
      { name: 'odd_texts', description: 42, title: { x: 1 }, inputSchema: { properties: { q: { description: 7 } } } },
      { name: 'titled', title: 'Weather Forecast', inputSchema: {} },
    ] as unknown as UpstreamTool[];
    const index = createToolIndex({ related: false });
    expect(() => index.add('odd', odd)).not.toThrow();
    expect(index.size()).toBe(odd.length);
    expect(ids(index.search('description'))).toEqual(['odd:no_description']);
    expect(ids(index.search('schema null'))[0]).toBe('odd:null_schema');
    expect(ids(index.search('color size'))).toEqual(['odd:scalar_property']);
    expect(ids(index.search('forecast'))).toEqual(['odd:titled']);
  });

  it('skips tools without a usable name and keeps the first of duplicate names, telling the logger', () => {
    const skipped: LogFields[] = [];
    const logger = { ...silentLogger, debug: (_msg: string, fields?: LogFields) => void skipped.push(fields ?? {}) };
    const index = createToolIndex({ logger });
    index.add('s', [
      { inputSchema: {} },
      { name: '', inputSchema: {} },
      { name: 7, inputSchema: {} },
      null,
      'echo',
      { name: 'echo', description: 'First echo', inputSchema: {} },
      { name: 'echo', description: 'Second echo', inputSchema: {} },
    ] as unknown as UpstreamTool[]);
    expect(index.size()).toBe(1);
    expect(index.search('second')).toEqual([]);
    expect(ids(index.search('first'))).toEqual(['s:echo']);
    expect(skipped).toHaveLength(6);
  });

  it('treats a tools argument that is not an array as an empty list', () => {
    const index = createToolIndex();
    index.add('a', [tool('x', 'hello')]);
    expect(() => index.add('a', null as unknown as UpstreamTool[])).not.toThrow();
    expect(index.size()).toBe(0);
  });

  it('reads a deep or wide schema only to a bounded depth and width', () => {
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'foxtrot', 'golf'];
    let deep: Record<string, unknown> = { type: 'string' };
    for (const word of [...words].reverse()) deep = { type: 'object', properties: { [word]: deep } };
    // Two-letter suffixes keep each parameter one word: p0..p499 would split into "p" and a number.
    const name = (i: number) => `x${String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26))}`;
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [name(i), { type: 'string' }]));
    const index = createToolIndex();
    index.add('a', [
      { name: 'deep', inputSchema: deep },
      { name: 'wide', inputSchema: { properties: wide } },
    ]);
    expect(ids(index.search('charlie'))).toEqual(['a:deep']);
    expect(index.search('delta')).toEqual([]);
    expect(ids(index.search(name(63)))).toEqual(['a:wide']);
    expect(index.search(name(64))).toEqual([]);
  });
});

describe('search options', () => {
  const many = createToolIndex();
  many.add(
    'a',
    Array.from({ length: 150 }, (_, i) => tool(`tool_${String(i).padStart(3, '0')}`, 'Shared word')),
  );

  it('returns 15 hits by default', () => {
    expect(many.search('shared')).toHaveLength(15);
  });

  it('caps limit at 100', () => {
    expect(MAX_LIMIT).toBe(100);
    expect(many.search('shared', { limit: 1000 })).toHaveLength(100);
    expect(many.search('shared', { limit: 100 })).toHaveLength(100);
  });

  it('returns the same first hits whatever the limit', () => {
    expect(ids(many.search('shared', { limit: 5 }))).toEqual(ids(many.search('shared', { limit: 50 })).slice(0, 5));
    expect(ids(many.search('shared', { limit: 3 }))).toEqual(['a:tool_000', 'a:tool_001', 'a:tool_002']);
  });

  it('keeps the same order under any limit when scores vary (the bounded heap agrees with a full sort)', () => {
    const words = ['file', 'read', 'write', 'list', 'issue', 'graph', 'node', 'entity', 'search', 'delete'];
    let seed = 1;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed;
    };
    const index = createToolIndex();
    for (const server of ['s1', 's2', 's3']) {
      index.add(
        server,
        Array.from({ length: 30 }, (_, i) =>
          tool(
            `t${i}_${words[next() % words.length]}`,
            Array.from({ length: 1 + (next() % 12) }, () => words[next() % words.length]).join(' '),
          ),
        ),
      );
    }
    for (const q of ['file', 'read file', 'list issue node', 'delete entity graph search']) {
      const all = index.search(q, { limit: 100 });
      const sorted = [...all].sort(
        (x, y) => y.score - x.score || (x.server < y.server ? -1 : x.server > y.server ? 1 : x.tool < y.tool ? -1 : 1),
      );
      expect(all).toEqual(sorted);
      for (const limit of [1, 3, 7, 15, 40]) expect(index.search(q, { limit })).toEqual(all.slice(0, limit));
    }
  });

  it('returns nothing for limit 0 or below and the default for a limit that is not a number', () => {
    expect(many.search('shared', { limit: 0 })).toEqual([]);
    expect(many.search('shared', { limit: -3 })).toEqual([]);
    expect(many.search('shared', { limit: Number.NaN })).toHaveLength(15);
    expect(many.search('shared', { limit: 2.9 })).toHaveLength(2);
  });

  it('returns nothing for an empty, blank, stop-word-only or punctuation-only query', () => {
    for (const q of ['', '   ', '\n\t', 'the of and', '?!', '__']) expect(many.search(q)).toEqual([]);
  });

  it('returns nothing from an empty index', () => {
    expect(createToolIndex().search('anything')).toEqual([]);
  });

  it('searches only the given servers', () => {
    const index = createToolIndex();
    for (const s of ['a', 'b', 'c']) index.add(s, [tool('echo', 'Echo')]);
    expect(ids(index.search('echo', { servers: ['c', 'a', 'zzz'] }))).toEqual(['a:echo', 'c:echo']);
    expect(index.search('echo', { servers: [] })).toEqual([]);
  });
});
