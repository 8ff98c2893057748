// The library we evaluated first, configured as close to our index as it allows (same analyzer, fields, boosts,
// BM25 parameters and prefix rule), so the speed rows show what writing BM25F ourselves bought.
import type { UpstreamTool } from '@mcpproxy/contracts';
import MiniSearch from 'minisearch';
import { analyze, DEFAULT_BOOST, TOOL_FIELDS } from '../src/index.js';

interface Doc {
  id: number;
  server: string;
  tool: string;
  name: string;
  description: string;
  params: string;
  paramDescriptions: string;
}

export interface BaselineIndex {
  add(server: string, tools: readonly UpstreamTool[]): void;
  search(query: string, limit: number): Array<{ server: string; tool: string; score: number }>;
}

function docOf(id: number, server: string, tool: UpstreamTool): Doc {
  const names: string[] = [];
  const descriptions: string[] = [];
  let level: unknown[] = [tool.inputSchema];
  for (let depth = 0; depth < 3 && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      const properties = (node as { properties?: unknown } | undefined)?.properties;
      if (typeof properties !== 'object' || properties === null) continue;
      for (const [name, prop] of Object.entries(properties as Record<string, unknown>)) {
        names.push(name);
        const p = prop as { description?: unknown; items?: unknown };
        if (typeof p?.description === 'string') descriptions.push(p.description);
        next.push(p, p?.items);
      }
    }
    level = next;
  }
  return {
    id,
    server,
    tool: tool.name,
    name: tool.name,
    description: tool.description ?? '',
    params: names.join(' '),
    paramDescriptions: descriptions.join(' '),
  };
}

export function createMiniSearchIndex(): BaselineIndex {
  const mini = new MiniSearch<Doc>({
    fields: [...TOOL_FIELDS],
    tokenize: analyze,
    processTerm: (term) => term,
    autoVacuum: false,
    searchOptions: {
      boost: { ...DEFAULT_BOOST },
      bm25: { k: 1.2, b: 0.75, d: 0 },
      prefix: (term) => term.length >= 3,
      combineWith: 'OR',
    },
  });
  const byServer = new Map<string, Doc[]>();
  const docs = new Map<number, Doc>();
  let nextId = 1;
  return {
    add(server, tools) {
      for (const doc of byServer.get(server) ?? []) {
        mini.remove(doc);
        docs.delete(doc.id);
      }
      const list = tools.map((t) => docOf(nextId++, server, t));
      for (const doc of list) docs.set(doc.id, doc);
      byServer.set(server, list);
      mini.addAll(list);
    },
    search(query, limit) {
      return mini
        .search(query)
        .slice(0, limit)
        .map((r) => {
          const doc = docs.get(r.id as number) as Doc;
          return { server: doc.server, tool: doc.tool, score: r.score };
        });
    },
  };
}
