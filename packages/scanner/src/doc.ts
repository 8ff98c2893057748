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

// One-entry caches: a scan runs every check over one view before it reads the next, so the last view is the only
// one worth remembering. A WeakMap per view cost more (ephemeron tables, GC) than the folding it saved.
let docView: ToolView | undefined;
let docCached: ProseDoc | undefined;
let rawView: ToolView | undefined;
let rawCached = '';

/** The prose doc of a view (fields of at least `min` characters), built once per view. */
export function proseDoc(view: ToolView): ProseDoc {
  if (view === docView && docCached !== undefined) return docCached;
  const parts: string[] = [];
  const starts: number[] = [];
  const fields: TextField[] = [];
  let at = 0;
  for (const field of view.fields) {
    if (field.text.length < 8 || field.kind === 'name' || field.kind === 'param_name') continue; // prose only
    const folded = fold(field.text); // white space, newlines included, is folded to single spaces
    starts.push(at);
    fields.push(field);
    parts.push(folded);
    at += folded.length + 1;
  }
  const doc = { text: parts.join('\n'), starts, fields };
  docView = view;
  docCached = doc;
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
  if (view === rawView) return rawCached;
  const fields = view.fields;
  let out = fields.length > 0 ? (fields[0] as TextField).text : '';
  for (let i = 1; i < fields.length; i++) out += `\n${(fields[i] as TextField).text}`;
  rawView = view;
  rawCached = out;
  return out;
}
