import { parseDuration } from '@mcpproxy/contracts';
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

/** A positive duration (`"5m"`, `"1h"`, `"30d"` or integer milliseconds), parsed by contracts' `parseDuration`. */
function durationOrIssue(v: string | number, ctx: z.RefinementCtx): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as "5m", "1h", "30d" or integer milliseconds' });
    return z.NEVER;
  }
  return ms;
}
