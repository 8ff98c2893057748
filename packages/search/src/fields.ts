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
/** Most enum values read from one schema, all parameters together. */
const MAX_VALUES = 128;
/** Parameters that only order results: their values (`asc`, `created`, `comments`) say nothing of the tool. */
const PRESENTATION = /^(?:sort|order|direction)/i;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Parameter names and descriptions from `inputSchema.properties`, and from the `properties` of nested objects
 * and of array `items` (e.g. server-memory's `entities[].entityType`), breadth-first and bounded. The string
 * values of a parameter's `enum` count as names: they are the modes and states the tool works with (`state`:
 * open, closed; `event`: APPROVE, REQUEST_CHANGES; `period`: daily, weekly), except for parameters that only
 * order results (`sort`, `order`, `direction`).
 */
function collectParams(schema: unknown, names: string[], descriptions: string[], values?: string[]): void {
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
        if (values !== undefined && Array.isArray(prop.enum) && !PRESENTATION.test(name))
          for (const v of prop.enum) if (typeof v === 'string' && values.length < MAX_VALUES) values.push(v);
        next.push(prop, prop.items);
      }
    }
    level = next;
  }
}

/**
 * The field texts of `tool` under `server`; never throws, whatever shape the tool has. `enumValues: false` leaves
 * the parameters' enum values out.
 */
export function fieldsOf(server: string, tool: Record<string, unknown>, enumValues = true): FieldText {
  const names: string[] = [];
  const descriptions: string[] = [];
  const values: string[] = [];
  collectParams(tool.inputSchema, names, descriptions, enumValues ? values : undefined);
  const title = text(tool.title);
  return {
    name: title === '' ? text(tool.name) : `${text(tool.name)} ${title}`,
    server,
    description: text(tool.description),
    params: names.concat(values).join(' '),
    paramDescriptions: descriptions.join(' '),
  };
}
