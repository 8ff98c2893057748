// Turns one MCP tool definition into the text of each indexed field, tolerating whatever an upstream sends.

/** The fields of a tool that the index searches. */
export type ToolField = 'name' | 'server' | 'description' | 'params' | 'paramDescriptions';

/** Every field, in a fixed order. */
export const TOOL_FIELDS: readonly ToolField[] = ['name', 'server', 'description', 'params', 'paramDescriptions'];

/** The text of each field of one tool. */
export type FieldText = Record<ToolField, string>;

/** Nested schemas deeper than this are not read: the parameters an agent chooses by sit near the top. */
const MAX_DEPTH = 3;
/** A bound on parameters read from one schema, so a pathological schema cannot blow up the index. */
const MAX_PARAMS = 64;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Parameter names and descriptions from `inputSchema.properties`, and from the `properties` of nested objects
 * and of array `items` (e.g. server-memory's `entities[].entityType`), breadth-first and bounded.
 */
function collectParams(schema: unknown, names: string[], descriptions: string[]): void {
  let level: unknown[] = [schema];
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const node of level) {
      if (!isRecord(node)) continue;
      const properties = node.properties;
      if (!isRecord(properties)) continue;
      for (const [name, prop] of Object.entries(properties)) {
        if (names.length >= MAX_PARAMS) return;
        names.push(name);
        if (!isRecord(prop)) continue;
        const d = text(prop.description) || text(prop.title);
        if (d !== '') descriptions.push(d);
        next.push(prop, prop.items);
      }
    }
    level = next;
  }
}

/** The field texts of `tool` under `server`; never throws, whatever shape the tool has. */
export function fieldsOf(server: string, tool: Record<string, unknown>): FieldText {
  const names: string[] = [];
  const descriptions: string[] = [];
  collectParams(tool.inputSchema, names, descriptions);
  const title = text(tool.title);
  return {
    name: title === '' ? text(tool.name) : `${text(tool.name)} ${title}`,
    server,
    description: text(tool.description),
    params: names.join(' '),
    paramDescriptions: descriptions.join(' '),
  };
}
