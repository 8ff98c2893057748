import { payloadText, prepareText, scrubShort } from './payload.js';
import { type InsertRow, TRUNCATED_ARGUMENTS, TRUNCATED_RESULT } from './rows.js';
import type { ActivityStatus, Actor, Surface } from './schema.js';

/** A tool call to record. Payloads are kept by reference until their batch is written, then masked and cut. */
export interface ToolCallEntry {
  kind?: 'tool_call' | undefined;
  server: string;
  tool: string;
  surface: Surface;
  status: ActivityStatus;
  duration_ms: number;
  /** MCP session id. */
  session?: string | undefined;
  /** From the client's `initialize`. */
  client?: { name?: string | undefined; version?: string | undefined } | undefined;
  error?: { code?: string | undefined; message: string } | undefined;
  /** The call's arguments (any JSON value). */
  arguments?: unknown;
  /** The result: text as-is, anything else as JSON. */
  result?: unknown;
  /** Sizes when the caller already knows them; else measured from the payloads at write time. */
  request_bytes?: number | undefined;
  response_bytes?: number | undefined;
  /** Epoch ms; defaults to the clock's now at `record()`. */
  time?: number | undefined;
}

/** A server lifecycle step (`state_changed`, `auto_disabled`, …) or a management action (`server_added`, …). */
export interface EventEntry {
  kind: 'lifecycle' | 'management';
  action: string;
  server?: string | undefined;
  /** Who made a management action. */
  actor?: Actor | undefined;
  status?: ActivityStatus | undefined;
  error?: { code?: string | undefined; message: string } | undefined;
  /** Extra data, stored as masked JSON. */
  detail?: unknown;
  session?: string | undefined;
  time?: number | undefined;
}

export type ActivityEntry = ToolCallEntry | EventEntry;

/** An entry waiting in the ring, stamped with its time at `record()`. */
export interface Queued {
  entry: ActivityEntry;
  time: number;
}

/** Error messages and details are short text; they get a fixed budget so a huge one cannot bloat a row. */
const SHORT_TEXT_BYTES = 4096;

const isEvent = (e: ActivityEntry): e is EventEntry => e.kind === 'lifecycle' || e.kind === 'management';

/** Masks, serialises and cuts one queued entry into a row (off the call path, when its batch is taken). */
export function toRow(
  { entry: e, time }: Queued,
  secretList: readonly string[],
  { maxPayload, recordPayloads }: { maxPayload: number; recordPayloads: boolean },
): InsertRow {
  const error = e.error;
  const errorCode = error?.code ?? null;
  const errorMessage = scrubShort(error?.message, secretList, SHORT_TEXT_BYTES);
  if (isEvent(e)) {
    const detail = prepareText(payloadText(e.detail), {
      maxBytes: SHORT_TEXT_BYTES,
      secrets: secretList,
      keep: true,
    });
    return [
      time,
      e.kind,
      e.server ?? null,
      null,
      null,
      e.session ?? null,
      null,
      null,
      e.status ?? null,
      null,
      errorCode,
      errorMessage,
      null,
      null,
      null,
      null,
      0,
      e.action,
      e.actor ?? null,
      detail.text,
    ];
  }
  const opts = { maxBytes: maxPayload, secrets: secretList, keep: recordPayloads };
  const args = prepareText(payloadText(e.arguments), opts);
  const result = prepareText(payloadText(e.result), opts);
  const truncated = (args.truncated ? TRUNCATED_ARGUMENTS : 0) | (result.truncated ? TRUNCATED_RESULT : 0);
  return [
    time,
    'tool_call',
    e.server,
    e.tool,
    e.surface,
    e.session ?? null,
    e.client?.name ?? null,
    e.client?.version ?? null,
    e.status,
    e.duration_ms,
    errorCode,
    errorMessage,
    e.request_bytes ?? args.bytes,
    e.response_bytes ?? result.bytes,
    args.text,
    result.text,
    truncated,
    null,
    null,
    null,
  ];
}
