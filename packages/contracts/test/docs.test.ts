import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ConfigSchema, EVENT_TYPES, EventDataSchemas, LEGACY_ALIASES, ServerConfigSchema } from '../src/index.js';

// The configuration reference and the event catalogue are written by hand; these tests keep them honest against
// the schemas users are held to.
const DOC_PATH = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));
const SERVER_PREFIX = 'mcpServers[].';

type Schema = z.core.$ZodType;

/** Wrappers that change how a value is parsed, not which keys exist below it. */
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'nonoptional', 'catch']);

function unwrap(schema: Schema): Schema {
  let s = schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = s._zod.def as { type: string; innerType?: Schema; in?: Schema };
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
  return s;
}

/** Every leaf key under `schema` as a dotted path, with the (wrapped) schema of its field. */
function leafKeys(schema: Schema, prefix = ''): Map<string, Schema> {
  const out = new Map<string, Schema>();
  const inner = unwrap(schema);
  const def = inner._zod.def as { type: string; shape?: Record<string, Schema> };
  if (def.type !== 'object' || !def.shape) return out;
  for (const [key, field] of Object.entries(def.shape)) {
    const path = `${prefix}${key}`;
    const below = leafKeys(field, `${path}.`);
    if (below.size > 0) for (const [k, v] of below) out.set(k, v);
    else out.set(path, field);
  }
  return out;
}

/** The schema's keys: the whole config, and each `mcpServers` entry (opaque to the walk: it is a transform). */
function schemaKeys(): Map<string, Schema> {
  const keys = leafKeys(ConfigSchema as unknown as Schema);
  for (const [k, v] of leafKeys(ServerConfigSchema as unknown as Schema, SERVER_PREFIX)) keys.set(k, v);
  return keys;
}

interface DocRow {
  key: string;
  type: string;
  default: string;
  line: number;
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Rows of every table whose header starts `| key | type | default |`. */
function documentedRows(markdown: string): DocRow[] {
  const rows: DocRow[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = cells(lines[i] ?? '');
    if (head[0] !== 'key' || head[1] !== 'type' || head[2] !== 'default') continue;
    for (let j = i + 2; j < lines.length && (lines[j] ?? '').trimStart().startsWith('|'); j++) {
      const [key = '', type = '', def = ''] = cells(lines[j] ?? '');
      const m = /^`([^`]+)`$/.exec(key);
      if (!m?.[1]) throw new Error(`docs/configuration.md:${j + 1}: the key cell must be one \`key\`, got ${key}`);
      rows.push({ key: m[1], type, default: def, line: j + 1 });
    }
  }
  return rows;
}

function valueAt(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const part of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[part];
  return v;
}

const doc = readFileSync(DOC_PATH, 'utf8');
const rows = documentedRows(doc);
const keys = schemaKeys();
const defaults = ConfigSchema.parse({});

describe('docs/configuration.md', () => {
  it('documents every key of the config schema, including nested and per-server keys', () => {
    const documented = new Set(rows.map((r) => r.key));
    const missing = [...keys.keys()].filter((k) => !documented.has(k));
    expect(missing, 'keys in packages/contracts/src/config.ts without a row in docs/configuration.md').toEqual([]);
  });

  it('documents no key the schema does not have, and each key once', () => {
    const unknown = rows.filter((r) => !keys.has(r.key)).map((r) => `${r.key} (line ${r.line})`);
    expect(unknown, 'rows in docs/configuration.md with no such key in the schema').toEqual([]);
    const twice = rows.filter((r, i) => rows.findIndex((o) => o.key === r.key) !== i).map((r) => r.key);
    expect(twice).toEqual([]);
  });

  it("states each key's default as the schema applies it (parsing `{}` and each server field alone)", () => {
    const wrong: string[] = [];
    for (const row of rows) {
      const field = keys.get(row.key);
      if (!field) continue;
      // Top-level keys: what parsing an empty file gives. Server fields: what the field gives when left out.
      const actual = row.key.startsWith(SERVER_PREFIX)
        ? (field as z.ZodType).safeParse(undefined)
        : { success: true as const, data: valueAt(defaults, row.key) };
      const cell = row.default;
      if (cell === 'required') {
        if (actual.success) wrong.push(`${row.key}: documented as required, but it defaults to ${String(actual.data)}`);
        continue;
      }
      if (!actual.success) {
        wrong.push(`${row.key}: the schema requires it; document the default as "required"`);
        continue;
      }
      if (cell === '—') {
        if (actual.data !== undefined)
          wrong.push(`${row.key}: documented without a default, schema gives ${JSON.stringify(actual.data)}`);
        continue;
      }
      const m = /^`(.+)`$/.exec(cell);
      if (!m?.[1]) {
        wrong.push(`${row.key}: the default cell must be \`JSON\`, "—" or "required", got ${cell}`);
        continue;
      }
      // The documented value as a user would write it, parsed by the field's own schema (so "2m" → 120000).
      const documented = (field as z.ZodType).safeParse(JSON.parse(m[1]));
      if (!documented.success) {
        wrong.push(`${row.key}: the documented default ${m[1]} does not validate`);
      } else if (JSON.stringify(documented.data) !== JSON.stringify(actual.data)) {
        wrong.push(`${row.key}: documented ${m[1]}, schema default ${JSON.stringify(actual.data)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('finds the tables it checks (a renamed header would silently check nothing)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(keys.size);
    expect(rows.some((r) => r.key === 'retry.max_retries')).toBe(true);
    expect(rows.some((r) => r.key === `${SERVER_PREFIX}name`)).toBe(true);
  });
});

// ---------------------------------------------------------------- the event catalogue of docs/live.md

const LIVE_PATH = fileURLToPath(new URL('../../../docs/live.md', import.meta.url));

/** Rows of the catalogue table (`| type | \`data\` … |`): the type and the text of its data cell. */
function catalogueRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\| type \| `data`/.test(l));
  for (let j = start + 2; start >= 0 && j < lines.length && (lines[j] ?? '').startsWith('|'); j++) {
    const [type = '', data = ''] = cells(lines[j] ?? '');
    rows.set(type.replace(/`/g, ''), data);
  }
  return rows;
}

describe('docs/live.md', () => {
  const rows = catalogueRows(readFileSync(LIVE_PATH, 'utf8'));

  it('lists every event type of the catalogue, and no other', () => {
    expect([...rows.keys()].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it("names every field of each event's data, marking the optional ones with ?", () => {
    const wrong: string[] = [];
    for (const type of EVENT_TYPES) {
      const row = rows.get(type) ?? '';
      const shape = (EventDataSchemas[type] as unknown as { shape: Record<string, z.ZodType> }).shape;
      for (const [field, schema] of Object.entries(shape)) {
        if (field === 'summary') continue;
        const name = schema.safeParse(undefined).success ? `${field}?` : field;
        if (!row.includes(`\`${name}\``)) wrong.push(`${type}: \`${name}\``);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('names the legacy aliases', () => {
    const text = readFileSync(LIVE_PATH, 'utf8');
    for (const alias of Object.values(LEGACY_ALIASES)) expect(text).toContain(`\`${alias}\``);
  });
});
