import type { ActivityRecord } from './schema.js';

/** Column order of `activity`, shared by inserts and selects so a row array maps by position. */
export const COLUMNS = [
  'id',
  'time',
  'kind',
  'server',
  'tool',
  'surface',
  'session',
  'client_name',
  'client_version',
  'status',
  'duration_ms',
  'error_code',
  'error_message',
  'request_bytes',
  'response_bytes',
  'arguments',
  'result',
  'truncated',
  'action',
  'actor',
  'detail',
] as const;

/** Bits of the `truncated` column. */
export const TRUNCATED_ARGUMENTS = 1;
export const TRUNCATED_RESULT = 2;

/** A row ready to insert: every column but `id`, in {@link COLUMNS} order. */
export type InsertRow = unknown[];

/**
 * Maps a raw row (from `.raw(true)`, so no driver metadata rides along) to the public record. The columns are
 * written only by this package, so the casts trust them.
 */
export function toRecord(r: unknown[]): ActivityRecord {
  const truncated = Number(r[17] ?? 0);
  return {
    id: Number(r[0]),
    time: new Date(Number(r[1])).toISOString(),
    kind: r[2] as ActivityRecord['kind'],
    server: r[3] as string | null,
    tool: r[4] as string | null,
    surface: r[5] as ActivityRecord['surface'],
    session: r[6] as string | null,
    client_name: r[7] as string | null,
    client_version: r[8] as string | null,
    status: r[9] as ActivityRecord['status'],
    duration_ms: r[10] === null ? null : Number(r[10]),
    error_code: r[11] as string | null,
    error_message: r[12] as string | null,
    request_bytes: r[13] === null ? null : Number(r[13]),
    response_bytes: r[14] === null ? null : Number(r[14]),
    arguments: r[15] as string | null,
    result: r[16] as string | null,
    arguments_truncated: (truncated & TRUNCATED_ARGUMENTS) !== 0,
    result_truncated: (truncated & TRUNCATED_RESULT) !== 0,
    action: r[18] as string | null,
    actor: r[19] as ActivityRecord['actor'],
    detail: r[20] as string | null,
  };
}

/** CSV header and one row per record (RFC 4180 quoting; cells that a spreadsheet would run as a formula are defused). */
export const CSV_COLUMNS = COLUMNS.flatMap((c) =>
  c === 'truncated' ? (['arguments_truncated', 'result_truncated'] as const) : [c],
) as readonly (Exclude<(typeof COLUMNS)[number], 'truncated'> | 'arguments_truncated' | 'result_truncated')[];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && typeof v === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(rec: ActivityRecord): string {
  return `${CSV_COLUMNS.map((c) => csvCell(rec[c])).join(',')}\r\n`;
}
