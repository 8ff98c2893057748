// A tool's prose fields folded and joined into one text, so each pattern runs once per tool rather than once per
// field: a regex call has a fixed cost, and a schema has dozens of short fields. Fields are joined by a newline,
// which ends a sentence, so no sentence spans two fields.
import { fold } from './text.js';
import type { TextField, ToolView } from './types.js';

/** The joined, folded prose of one tool, with a map from offsets back to fields. */
export interface ProseDoc {
  readonly text: string;
  /** Start offset of each field in `text`, ascending. */
  readonly starts: readonly number[];
  readonly fields: readonly TextField[];
}

const PROSE = new Set(['title', 'description', 'param_description', 'param_title', 'value', 'other']);
const docs = new WeakMap<ToolView, ProseDoc>();

/** The prose doc of a view (fields of at least `min` characters), built once per view. */
export function proseDoc(view: ToolView): ProseDoc {
  const cached = docs.get(view);
  if (cached !== undefined) return cached;
  const parts: string[] = [];
  const starts: number[] = [];
  const fields: TextField[] = [];
  let at = 0;
  for (const field of view.fields) {
    if (!PROSE.has(field.kind) || field.text.length < 8) continue;
    const folded = fold(field.text); // white space, newlines included, is folded to single spaces
    starts.push(at);
    fields.push(field);
    parts.push(folded);
    at += folded.length + 1;
  }
  const doc = { text: parts.join('\n'), starts, fields };
  docs.set(view, doc);
  return doc;
}

/** The field that holds offset `index` of the doc. */
export function fieldAt(doc: ProseDoc, index: number): TextField | undefined {
  let lo = 0;
  let hi = doc.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((doc.starts[mid] as number) <= index) lo = mid;
    else hi = mid - 1;
  }
  return doc.fields[lo];
}

/** All raw field text of a view joined, for the cheap "could this tool contain X at all" pre-tests. */
export function rawText(view: ToolView): string {
  let cached = raws.get(view);
  if (cached === undefined) {
    cached = view.fields.map((f) => f.text).join('\n');
    raws.set(view, cached);
  }
  return cached;
}
const raws = new WeakMap<ToolView, string>();
