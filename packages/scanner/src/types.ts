import type { ScanCheck, ScanFinding, UpstreamTool } from '@mcpproxy/contracts';
import type { ScanContext } from './context.js';

/** Where a piece of text sits in a tool definition; checks weigh text by its role. */
export type FieldKind =
  | 'name'
  | 'title'
  | 'description'
  | 'param_name'
  | 'param_description'
  | 'param_title'
  | 'value'
  | 'other';

/** One string of a tool definition, as the scanner read it (raw: nothing normalised yet). */
export interface TextField {
  /** JSON-ish path, e.g. `inputSchema.properties.note.description`. */
  readonly path: string;
  readonly kind: FieldKind;
  readonly text: string;
  /** The top-level parameter this text belongs to, if any. */
  readonly param?: string | undefined;
}

/** One top-level input parameter. */
export interface ParamView {
  readonly name: string;
  readonly path: string;
  /** `type` when it is a string (or the first string of a type array). */
  readonly type: string | undefined;
  /** Constrained to fixed values or a format: not a free-text channel. */
  readonly constrained: boolean;
  readonly description: string;
  readonly required: boolean;
}

/** A tool definition flattened for the checks, within the scan bounds. */
export interface ToolView {
  readonly name: string;
  readonly fields: readonly TextField[];
  readonly params: readonly ParamView[];
  /** What part of the definition went unscanned, if the bounds were hit. */
  readonly truncated: string | undefined;
}

/** A finding as a check returns it; `subject` is internal (the text it is about) and never leaves the scanner. */
export interface RawFinding extends ScanFinding {
  /** Folded text the finding is about, used to relate findings of different checks (not returned). */
  readonly subject?: string | undefined;
  /** The parameter the finding is about, if any (not returned). */
  readonly param?: string | undefined;
}

/** What a check sees. */
export interface CheckInput {
  readonly view: ToolView;
  /** The server the tool belongs to; shadowing ignores this server's own tools. */
  readonly server: string | undefined;
  readonly context: ScanContext | undefined;
}

/** One independent check. A check may throw: the scan records it as a coverage gap and goes on. */
export interface Check {
  readonly id: ScanCheck;
  run(input: CheckInput): readonly RawFinding[];
}

/** Bounds on what one tool costs to scan. */
export interface ScanLimits {
  /** Text read per tool, in UTF-16 code units; the rest is reported as a `truncated` finding. @default 262144 */
  maxText?: number | undefined;
  /** Nesting depth of schemas walked. @default 64 */
  maxDepth?: number | undefined;
  /** JSON nodes visited per tool. @default 20000 */
  maxNodes?: number | undefined;
}

/** A tool definition as the scanner accepts it: an MCP tool, possibly malformed (every field is checked). */
export type ScannableTool = UpstreamTool | Record<string, unknown>;
