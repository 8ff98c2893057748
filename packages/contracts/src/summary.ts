import { z } from 'zod';
import { ProtocolSchema } from './config.js';

/** Actor states (docs/live.md). */
export const ServerStateSchema = z.enum(['idle', 'connecting', 'ready', 'error', 'disabled', 'quarantined', 'stopped']);
export type ServerState = z.infer<typeof ServerStateSchema>;

/** Circuit breaker states on tool calls. */
export const CircuitStateSchema = z.enum(['closed', 'open', 'half_open']);
export type CircuitState = z.infer<typeof CircuitStateSchema>;

/** Process-wide state. */
export const AppStateSchema = z.enum(['starting', 'running', 'degraded', 'stopping']);
export type AppState = z.infer<typeof AppStateSchema>;

/** Why a server was auto-disabled, or null. */
export const AutoDisabledSchema = z
  .object({ reason: z.string(), failures: z.number().int(), at: z.string() })
  .nullable();

/** The read-model row of one server: the same shape in REST, WS and SSE. */
export const ServerSummarySchema = z.object({
  name: z.string(),
  protocol: ProtocolSchema,
  enabled: z.boolean(),
  quarantined: z.boolean(),
  groups: z.array(z.string()),
  state: ServerStateSchema,
  circuit: CircuitStateSchema,
  tool_count: z.number().int().nonnegative(),
  retry_count: z.number().int().nonnegative(),
  next_retry_at: z.string().nullable(),
  connected_at: z.string().nullable(),
  last_error: z.string().nullable(),
  auto_disabled: AutoDisabledSchema,
  pending_tools: z.number().int().nonnegative(),
  changed_tools: z.number().int().nonnegative(),
});
export type ServerSummary = z.infer<typeof ServerSummarySchema>;

/** Process-wide part of the read model. */
export const AppInfoSchema = z.object({
  state: AppStateSchema,
  started_at: z.string().nullable(),
  version: z.string(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

/** The snapshot sent in `hello` and `resync` frames and returned by the stateview. */
export const SnapshotSchema = z.object({
  servers: z.array(ServerSummarySchema),
  app: AppInfoSchema,
});
export type Snapshot = z.infer<typeof SnapshotSchema>;
