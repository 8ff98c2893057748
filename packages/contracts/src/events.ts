import { z } from 'zod';
import { ScanFindingSchema } from './scanner.js';
import { AppStateSchema, CircuitStateSchema, ServerStateSchema, ServerSummarySchema } from './summary.js';

const summary = ServerSummarySchema;
const iso = z.string();

export const ConfigChangeSchema = z.enum([
  'added',
  'updated',
  'removed',
  'enabled',
  'disabled',
  'quarantined',
  'unquarantined',
]);
export type ConfigChange = z.infer<typeof ConfigChangeSchema>;

export const ToolCallStatusSchema = z.enum(['ok', 'error', 'timeout', 'rejected']);
export type ToolCallStatus = z.infer<typeof ToolCallStatusSchema>;

export const ToolApprovalStateSchema = z.enum(['approved', 'pending', 'changed']);
export type ToolApprovalState = z.infer<typeof ToolApprovalStateSchema>;

/**
 * The `data` schema of every event type (docs/live.md). Server-scoped events carry the new `summary`
 * so a client patches its row without refetching.
 */
export const EventDataSchemas = {
  server_state_changed: z.object({
    from: ServerStateSchema,
    to: ServerStateSchema,
    reason: z.string(),
    error: z.string().optional(),
    retry_count: z.number().int(),
    next_retry_at: iso.nullable().optional(),
    summary,
  }),
  server_config_changed: z.object({ change: ConfigChangeSchema, summary }),
  server_auto_disabled: z.object({ reason: z.string(), failures: z.number().int(), summary }),
  server_group_updated: z.object({
    groups: z.array(z.string()),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    summary,
  }),
  connection_established: z.object({
    protocol: z.string(),
    tool_count: z.number().int(),
    duration_ms: z.number(),
    summary,
  }),
  connection_lost: z.object({ error: z.string(), summary }),
  tools_updated: z.object({
    tool_count: z.number().int(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    summary,
  }),
  tool_called: z.object({ tool: z.string(), duration_ms: z.number(), status: ToolCallStatusSchema }),
  circuit_state_changed: z.object({ from: CircuitStateSchema, to: CircuitStateSchema, summary }),
  tool_quarantine_changed: z.object({
    tool: z.string(),
    from: ToolApprovalStateSchema.nullable(),
    to: ToolApprovalStateSchema,
    /** Why: a changed or new tool (`pin`), a scanner finding (`scan`), a person's approval (`approval`). */
    reason: z.enum(['pin', 'scan', 'approval']).optional(),
    /** The scanner's findings, with `reason: "scan"`. */
    findings: z.array(ScanFindingSchema).optional(),
    summary,
  }),
  app_state_changed: z.object({ from: AppStateSchema, to: AppStateSchema }),
  config_reloaded: z.object({
    source: z.enum(['file', 'api']),
    ok: z.boolean(),
    error: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), rule: z.string(), message: z.string() })).optional(),
  }),
  servers_changed: z.object({}),
  system_metrics: z.object({
    total: z.number().int(),
    ready: z.number().int(),
    error: z.number().int(),
    disabled: z.number().int(),
    quarantined: z.number().int(),
    ws_clients: z.number().int(),
    events_per_s: z.number(),
  }),
} as const;

type DataSchemas = typeof EventDataSchemas;
/** Every event type in the catalogue. */
export type EventType = keyof DataSchemas;
/** `data` of each event type. */
export type EventDataMap = { [K in EventType]: z.infer<DataSchemas[K]> };

/** All event types, in catalogue order. */
export const EVENT_TYPES = Object.keys(EventDataSchemas) as EventType[];
export const EventTypeSchema = z.enum(EVENT_TYPES as [EventType, ...EventType[]]);

/** Event types scoped to one server (they carry `server` and, except `tool_called`, a `summary`). */
export const SERVER_EVENT_TYPES = [
  'server_state_changed',
  'server_config_changed',
  'server_auto_disabled',
  'server_group_updated',
  'connection_established',
  'connection_lost',
  'tools_updated',
  'tool_called',
  'circuit_state_changed',
  'tool_quarantine_changed',
] as const satisfies readonly EventType[];
export type ServerEventType = (typeof SERVER_EVENT_TYPES)[number];

/** Legacy aliases, sent only to clients that ask with `legacy=1`. */
export const LEGACY_ALIASES = {
  server_state_changed: 'state_change',
  server_config_changed: 'config_change',
} as const satisfies Partial<Record<EventType, string>>;
export type LegacyEventType = (typeof LEGACY_ALIASES)[keyof typeof LEGACY_ALIASES];

/** A published event, stamped by the bus. */
export interface EventEnvelope<K extends EventType = EventType> {
  /** Gapless, increasing per process. */
  seq: number;
  /** Random per process start: a new epoch means `seq` restarted. */
  epoch: string;
  type: K;
  /** Set on server-scoped events. */
  server?: string | undefined;
  /** ISO-8601 time of publication. */
  time: string;
  data: EventDataMap[K];
}

/** The union of all envelopes, discriminated by `type`. */
export type BusEvent = { [K in EventType]: EventEnvelope<K> }[EventType];

/** What a publisher hands the bus; the bus adds `seq`, `epoch` and `time`. */
export type EventInput = {
  [K in EventType]: { type: K; server?: string | undefined; data: EventDataMap[K] };
}[EventType];

/** Zod schema of a full envelope, for clients that validate what they receive. */
export const EventEnvelopeSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) =>
    z.object({
      seq: z.number().int().nonnegative(),
      epoch: z.string(),
      type: z.literal(type),
      server: z.string().optional(),
      time: iso,
      data: EventDataSchemas[type],
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** Whether an event type is server-scoped. */
export function isServerEventType(type: string): type is ServerEventType {
  return (SERVER_EVENT_TYPES as readonly string[]).includes(type);
}
