// Flattens a tool definition into the strings the model will read, iteratively (a 10,000-level schema must not
// overflow the stack), within bounds on depth, nodes and total text.
import type { FieldKind, ParamView, ScanLimits, TextField, ToolView } from './types.js';

export const DEFAULT_LIMITS = { maxText: 256 * 1024, maxDepth: 64, maxNodes: 20_000 } as const;

/** Keys whose values (any depth) are data the model may copy into calls. */
const VALUE_KEYS = new Set(['default', 'enum', 'examples', 'example', 'const']);
/** Keys whose strings are schema machinery, not text for the model. */
const SKIP_KEYS = new Set(['type', 'format', '$ref', '$schema', '$id', '$anchor', 'required', 'pattern']);
/** Strings under other (vendor) keys are scanned when at least this long: the model sees the whole schema. */
const MIN_OTHER = 16;

interface Frame {
  readonly value: unknown;
  readonly path: string;
  readonly depth: number;
  /** Kind for strings at this node. */
  readonly kind: FieldKind | undefined;
  readonly param: string | undefined;
  /**
   * The key this node sits under (undefined for roots and array items). Kept so that "is this a `properties`
   * object" needs no test on the built-up path string, which would flatten it.
   */
  readonly key?: string | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SAFE_KEY_RE = /^[A-Za-z_$][\w$-]*$/;
/** Schema keys repeat across tools (`type`, `properties`, `description`): remember how each one is written. */
const keyCache = new Map<string, string>();

function safeKey(k: string): string {
  let out = keyCache.get(k);
  if (out === undefined) {
    out = SAFE_KEY_RE.test(k) ? k : JSON.stringify(k.slice(0, 64));
    if (keyCache.size >= 4096) keyCache.clear(); // bounded: arbitrary keys must not grow it forever
    keyCache.set(k, out);
  }
  return out;
}

/**
 * The text read so far, within the text budget. A class rather than closures inside extractTool: its methods
 * exist once, not once per tool.
 */
class Collector {
  readonly fields: TextField[] = [];
  truncated: string | undefined;
  private budget: number;
  private readonly maxText: number;

  constructor(maxText: number) {
    this.maxText = maxText;
    this.budget = maxText;
  }

  note(why: string): void {
    this.truncated ??= why;
  }

  add(path: string, kind: FieldKind, text: string, param: string | undefined): void {
    if (text.length === 0) return;
    if (this.budget <= 0) {
      this.note(`text past the first ${this.maxText} characters (at ${path})`);
      return;
    }
    let t = text;
    if (t.length > this.budget) {
      t = t.slice(0, this.budget);
      if (/[\uD800-\uDBFF]$/.test(t)) t = t.slice(0, -1); // keep a cut pair from looking like a lone surrogate
      this.note(`text past the first ${this.maxText} characters (at ${path})`);
    }
    this.budget -= t.length;
    this.fields.push({ path, kind, text: t, param });
  }
}

/**
 * Reads a tool definition into a {@link ToolView}. Never throws on odd input: non-string fields are skipped,
 * cycles are visited once, and whatever lies past `maxDepth`, `maxNodes` or `maxText` is left out and named in
 * `truncated`.
 */
export function extractTool(tool: unknown, limits: ScanLimits = {}): ToolView {
  const maxText = limits.maxText ?? DEFAULT_LIMITS.maxText;
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxNodes = limits.maxNodes ?? DEFAULT_LIMITS.maxNodes;
  const out = new Collector(maxText);

  const root = isRecord(tool) ? tool : {};
  const name = typeof root.name === 'string' ? root.name : '';
  out.add('name', 'name', name, undefined);
  if (typeof root.title === 'string') out.add('title', 'title', root.title, undefined);
  if (typeof root.description === 'string') out.add('description', 'description', root.description, undefined);
  const annotations = root.annotations;
  if (isRecord(annotations) && typeof annotations.title === 'string') {
    out.add('annotations.title', 'title', annotations.title, undefined);
  }

  const params: ParamView[] = [];
  const input = root.inputSchema;
  if (isRecord(input) && isRecord(input.properties)) {
    // Built only when there is a list: most tools' parameters are read without one.
    const required = Array.isArray(input.required)
      ? new Set(input.required.filter((r) => typeof r === 'string'))
      : undefined;
    let count = 0;
    for (const [key, prop] of Object.entries(input.properties)) {
      if (++count > 1000) {
        out.note('parameters past the first 1000');
        break;
      }
      const p = isRecord(prop) ? prop : {};
      const rawType = Array.isArray(p.type) ? p.type.find((t) => typeof t === 'string' && t !== 'null') : p.type;
      // `anyOf` is read only when `type` says nothing.
      const type =
        typeof rawType === 'string'
          ? rawType
          : Array.isArray(p.anyOf) && p.anyOf.some((s) => isRecord(s) && s.type === 'string')
            ? 'string'
            : undefined;
      params.push({
        name: key,
        path: `inputSchema.properties.${safeKey(key)}`,
        type,
        constrained: 'enum' in p || 'const' in p || 'format' in p || 'pattern' in p,
        description: typeof p.description === 'string' ? p.description : '',
        required: required?.has(key) ?? false,
      });
    }
  }

  // Iterative walk of both schemas; `seen` stops cycles in hand-built (non-JSON) objects.
  const seen = new Set<object>(); // dropped with the walk: a WeakSet's bookkeeping costs the GC more
  const stack: Frame[] = [];
  if (root.outputSchema !== undefined) {
    stack.push({ value: root.outputSchema, path: 'outputSchema', depth: 0, kind: undefined, param: undefined });
  }
  if (root.inputSchema !== undefined) {
    stack.push({ value: root.inputSchema, path: 'inputSchema', depth: 0, kind: undefined, param: undefined });
  }
  let nodes = 0;
  const pending: TextField[] = [];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { value, path, depth } = frame;
    if (++nodes > maxNodes) {
      out.note(`schema nodes past the first ${maxNodes}`);
      break;
    }
    if (typeof value === 'string') {
      if (frame.kind !== undefined) out.add(path, frame.kind, value, frame.param);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (seen.has(value)) continue;
    seen.add(value);
    if (depth >= maxDepth) {
      out.note(`schema deeper than ${maxDepth} levels (at ${path})`);
      continue;
    }
    // Children are pushed in reverse so that the walk reads them in document order.
    if (Array.isArray(value)) {
      for (let i = Math.min(value.length, maxNodes) - 1; i >= 0; i--) {
        stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1, kind: frame.kind, param: frame.param });
      }
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length > maxNodes) out.note(`schema nodes past the first ${maxNodes}`);
    const inProperties = frame.kind !== 'value' && frame.key === 'properties';
    // inputSchema.properties: the only `properties` object right under the inputSchema root.
    const atTopProperties = depth === 1 && frame.key === 'properties' && frame.path === 'inputSchema.properties';
    for (let i = Math.min(keys.length, maxNodes) - 1; i >= 0; i--) {
      const key = keys[i] as string;
      let child: unknown;
      try {
        child = (value as Record<string, unknown>)[key];
      } catch {
        continue; // a throwing getter on a hand-built object: nothing to read
      }
      const param = frame.param ?? (atTopProperties ? key : undefined);
      let kind: FieldKind | undefined;
      if (frame.kind === 'value') kind = 'value';
      else if (inProperties) kind = undefined;
      else if (key === 'description') kind = param === undefined ? 'description' : 'param_description';
      else if (key === 'title') kind = param === undefined ? 'title' : 'param_title';
      else if (key === '$comment') kind = 'other';
      else if (VALUE_KEYS.has(key)) kind = 'value';
      else if (SKIP_KEYS.has(key)) kind = undefined;
      else if (typeof child === 'string' && child.length >= MIN_OTHER) kind = 'other';
      // The path is built only for what is read or walked: most schema keys (`type`, `required`) are neither.
      const isObject = typeof child === 'object' && child !== null;
      const read = typeof child === 'string' && kind !== undefined;
      if (!read && !isObject && !inProperties) continue;
      const childPath = `${path}.${safeKey(key)}`;
      if (read) {
        // Strings are read here rather than pushed as frames: fewer allocations, same document order.
        pending.push({ path: childPath, kind: kind as FieldKind, text: child as string, param });
      } else if (isObject) {
        stack.push({ value: child, path: childPath, depth: depth + 1, kind, param, key });
      }
      if (inProperties) pending.push({ path: `${childPath}#name`, kind: 'param_name', text: key, param });
    }
    for (let i = pending.length - 1; i >= 0; i--) {
      const p = pending[i] as TextField;
      out.add(p.path, p.kind, p.text, p.param);
    }
    pending.length = 0;
  }
  return { name, fields: out.fields, params, truncated: out.truncated };
}
