// The third pass of issue 15: IDF flattening, enum values, the query's main verb.
import type { UpstreamTool } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { createToolIndex, type ToolHit } from '../src/index.js';

const tool = (name: string, description?: string, properties?: Record<string, unknown>): UpstreamTool => ({
  name,
  ...(description === undefined ? {} : { description }),
  inputSchema: { type: 'object', ...(properties === undefined ? {} : { properties }) },
});
const ids = (hits: ToolHit[]) => hits.map((h) => `${h.server}:${h.tool}`);
const many = (n: number, make: (i: number) => UpstreamTool) => Array.from({ length: n }, (_, i) => make(i));

describe('idfExponent', () => {
  it('narrows the lead of a rare incidental word over the common words that name what a tool works on', () => {
    const catalogue = [
      tool('list_issues', 'List issues in a repository'),
      tool('render_page', 'Renders the signup page of the site'),
      ...many(5, (i) => tool(`issue_tool_${i}`, `Works on one issue, number ${i}`)),
      ...many(5, (i) => tool(`list_tool_${i}`, `List things, number ${i}`)),
      ...many(20, (i) => tool(`other_${i}`, `Other things, number ${i}`)),
    ];
    const lead = (idfExponent: number) => {
      const index = createToolIndex({ idfExponent });
      index.add('a', catalogue);
      const hits = index.search('list the issues about signup', { limit: 100 });
      const score = (name: string) => hits.find((h) => h.tool === name)?.score ?? 0;
      return score('list_issues') / score('render_page');
    };
    expect(lead(0.7)).toBeGreaterThan(lead(1) * 1.1);
  });

  it('is plain BM25 at 1: a one-word query scores idf · tf-saturation', () => {
    const index = createToolIndex({ idfExponent: 1, prefix: false, related: false, nameBonus: 0 });
    const others = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox', 'gnu', 'hen', 'jay'];
    index.add('a', [tool('zebra'), ...others.map((name) => tool(name))]);
    const idf = Math.log(1 + (10 - 1 + 0.5) / (1 + 0.5));
    // One occurrence in the name (boost 3) of average length: tf~ = 3, score = idf · 3 · 2.2 / (3 + 1.2).
    expect(index.search('zebra')[0]?.score).toBeCloseTo((idf * 3 * 2.2) / 4.2);
  });
});

describe('enum values', () => {
  const catalogue = () => [
    tool('review_write', 'Write a review', {
      event: { type: 'string', enum: ['APPROVE', 'REQUEST_CHANGES', 'COMMENT'] },
      sort: { type: 'string', enum: ['created', 'updated'] },
    }),
    tool('other', 'Something else'),
  ];

  it('finds a tool by the values of its enum parameters', () => {
    const index = createToolIndex();
    index.add('a', catalogue());
    expect(ids(index.search('approve'))).toEqual(['a:review_write']);
    expect(ids(index.search('request changes'))).toEqual(['a:review_write']);
  });

  it('finds nothing by enum values when enumValues is off', () => {
    const index = createToolIndex({ enumValues: false, related: false });
    index.add('a', catalogue());
    expect(index.search('approve')).toEqual([]);
  });

  it('leaves out the values of parameters that only order results', () => {
    const index = createToolIndex({ related: false });
    index.add('a', catalogue());
    expect(index.search('updated')).toEqual([]);
  });
});
