import { z } from 'zod';

/** Where a tool call came in. */
export const SurfaceSchema = z.enum(['mcp', 'mcp_all', 'mcp_server', 'rest', 'cli']);
export type Surface = z.infer<typeof SurfaceSchema>;

/** How a call ended. */
export const ActivityStatusSchema = z.enum(['ok', 'error', 'timeout', 'rejected', 'circuit_open', 'blocked']);
export type ActivityStatus = z.infer<typeof ActivityStatusSchema>;

/** What a row is: a tool call, a server lifecycle step, or a management action. */
export const ActivityKindSchema = z.enum(['tool_call', 'lifecycle', 'management']);
export type ActivityKind = z.infer<typeof ActivityKindSchema>;

/** Who made a management action. */
export const ActorSchema = z.enum(['api', 'cli', 'mcp', 'file']);
export type Actor = z.infer<typeof ActorSchema>;

/** One stored row as every reader sees it (REST, CLI, export). Payload text is already masked and truncated. */
export const ActivityRecordSchema = z.object({
  id: z.number().int().positive(),
  /** ISO 8601 UTC. */
  time: z.string(),
  kind: ActivityKindSchema,
  server: z.string().nullable(),
  tool: z.string().nullable(),
  surface: SurfaceSchema.nullable(),
  session: z.string().nullable(),
  client_name: z.string().nullable(),
  client_version: z.string().nullable(),
  status: ActivityStatusSchema.nullable(),
  duration_ms: z.number().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  /** UTF-8 bytes of the arguments / result as JSON (or as given, for text), before truncation. */
  request_bytes: z.number().int().nullable(),
  response_bytes: z.number().int().nullable(),
  /** JSON text of the arguments, masked, at most `max_payload` bytes; null when payloads are off. */
  arguments: z.string().nullable(),
  /** Result text, masked, at most `max_payload` bytes; null when payloads are off. */
  result: z.string().nullable(),
  arguments_truncated: z.boolean(),
  result_truncated: z.boolean(),
  /** Lifecycle or management step, e.g. `server_added`, `state_changed`. */
  action: z.string().nullable(),
  actor: ActorSchema.nullable(),
  /** Extra JSON text for lifecycle and management rows (masked). */
  detail: z.string().nullable(),
});
export type ActivityRecord = z.infer<typeof ActivityRecordSchema>;

/** Milliseconds since the epoch from an ISO 8601 string, a digit string or a number. */
const TimeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms) || ms < 0 || !Number.isInteger(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 time or integer epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

/** Longest filter string accepted; longer ones are mistakes or abuse. */
export const MAX_FILTER_LENGTH = 256;
const Filter = z.string().min(1).max(MAX_FILTER_LENGTH);
/** Default and largest page size of `list()`. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

/** Filters shared by `list()` and `export()`. Strings are accepted for numbers so HTTP query strings parse as-is. */
export const activityFilterShape = {
  kind: ActivityKindSchema.optional(),
  server: Filter.optional(),
  tool: Filter.optional(),
  status: ActivityStatusSchema.optional(),
  session: Filter.optional(),
  /** Client name, exact. */
  client: Filter.optional(),
  /** Text in the tool name, error or payload (full-text, words in order; the last word may be a prefix). */
  q: Filter.optional(),
  /** Inclusive lower bound on `time`. */
  since: TimeSchema.optional(),
  /** Exclusive upper bound on `time`. */
  until: TimeSchema.optional(),
};

/** `list()` input: filters plus keyset pagination. Unknown keys are refused so a typo never widens a query. */
export const ActivityQuerySchema = z
  .object({
    ...activityFilterShape,
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
    /** `next_cursor` of the previous page, as given. */
    cursor: z.string().min(1).max(MAX_FILTER_LENGTH).optional(),
  })
  .strict();
export type ActivityQueryInput = z.input<typeof ActivityQuerySchema>;
export type ActivityQuery = z.output<typeof ActivityQuerySchema>;

/** `export()` input. */
export const ActivityExportSchema = z
  .object({ ...activityFilterShape, format: z.enum(['ndjson', 'csv']).default('ndjson') })
  .strict();
export type ActivityExportInput = z.input<typeof ActivityExportSchema>;

/** A page of `list()`: newest first; `next_cursor` is null on the last page. */
export interface ActivityPage {
  records: ActivityRecord[];
  next_cursor: string | null;
}

/** Longest stats window and the most buckets one stats call returns. */
export const MAX_STATS_WINDOW_MS = 31 * 86_400_000;
export const MAX_STATS_BUCKETS = 1000;

/** `stats()` input. `window` and `bucket` are durations (`"1h"`, `"5m"`) or milliseconds. */
export const ActivityStatsQuerySchema = z
  .object({
    groupBy: z.enum(['server', 'tool']).default('server'),
    window: z
      .union([z.string(), z.number()])
      .prefault('1h')
      .transform((v, ctx) => durationOrIssue(v, ctx)),
    /** Bucket width; defaults to a twelfth of the window. */
    bucket: z
      .union([z.string(), z.number()])
      .optional()
      .transform((v, ctx) => (v === undefined ? undefined : durationOrIssue(v, ctx))),
    /** End of the window (exclusive); defaults to now. */
    until: TimeSchema.optional(),
  })
  .strict();
export type ActivityStatsInput = z.input<typeof ActivityStatsQuerySchema>;

/** Calls, errors (every status but `ok`) and nearest-rank duration percentiles of a set of tool calls. */
export interface CallFigures {
  calls: number;
  errors: number;
  p50_ms: number | null;
  p95_ms: number | null;
}
/** `stats()` output: per group, totals over the window and one entry per non-empty bucket. */
export interface ActivityStats {
  group_by: 'server' | 'tool';
  since: string;
  until: string;
  window_ms: number;
  bucket_ms: number;
  groups: Array<CallFigures & { key: string; buckets: Array<CallFigures & { start: string }> }>;
}

const DURATION_UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
/** Parses `"500ms"`, `"30s"`, `"2m"`, `"1h"`, `"30d"` or integer milliseconds; `undefined` if malformed. */
export function parseActivityDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return undefined;
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS]);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

const SIZE_UNITS = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 } as const;
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;
/** Parses `"16KB"`, `"256MB"`, `"1GiB"` (KB = 1024 bytes) or integer bytes; `undefined` if malformed. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = SIZE_RE.exec(value.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase() as keyof typeof SIZE_UNITS;
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[unit]);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

function durationOrIssue(v: string | number, ctx: z.RefinementCtx): number {
  const ms = parseActivityDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as "5m", "1h", "30d" or integer milliseconds' });
    return z.NEVER;
  }
  return ms;
}

const DurationString = z.union([z.string(), z.number()]).transform((v, ctx) => durationOrIssue(v, ctx));
const SizeString = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as "16KB", "256MB" or integer bytes' });
    return z.NEVER;
  }
  return bytes;
});

/**
 * The `activity` key of `mcp_config.json`. Outputs milliseconds and bytes. Not yet part of
 * `@mcpproxy/contracts`' config schema; the server composes it until it is.
 */
export const ActivityConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    retention: DurationString.prefault('30d'),
    max_size: SizeString.prefault('256MB'),
    max_payload: SizeString.prefault('16KB'),
    record_payloads: z.boolean().default(true),
  })
  .strict();
export type ActivityConfigInput = z.input<typeof ActivityConfigSchema>;
export type ActivityConfig = z.output<typeof ActivityConfigSchema>;
