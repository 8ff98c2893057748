import { z } from 'zod';
import { ProtocolSchema } from './config.js';
import { ToolApprovalStateSchema } from './events.js';
import { ScanFindingSchema, ScanVerdictSchema } from './scanner.js';
import { AppInfoSchema, ServerSummarySchema } from './summary.js';

/** `GET /api/v1/servers` */
export const ServersResponseSchema = z.object({ servers: z.array(ServerSummarySchema) });
export type ServersResponse = z.infer<typeof ServersResponseSchema>;

/** `GET /api/v1/status` */
export const StatusResponseSchema = z.object({
  app: AppInfoSchema,
  listen: z.string(),
  epoch: z.string(),
  seq: z.number().int(),
  servers: z.object({
    total: z.number().int(),
    ready: z.number().int(),
    error: z.number().int(),
    disabled: z.number().int(),
    quarantined: z.number().int(),
  }),
});
export type StatusResponse = z.infer<typeof StatusResponseSchema>;

/** Body of `POST /servers/enable_all|disable_all|restart_all`. */
export const BulkRequestSchema = z.strictObject({ group: z.string().min(1).optional() });
export type BulkRequest = z.infer<typeof BulkRequestSchema>;

/** Result of a bulk operation: it continues past individual failures. */
export const BulkResultSchema = z.object({
  total: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  results: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});
export type BulkResult = z.infer<typeof BulkResultSchema>;

/** One tool of an upstream with its pinning state. */
export const ToolInfoSchema = z.object({
  server: z.string(),
  name: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  hash: z.string(),
  approval: ToolApprovalStateSchema,
  /** For `changed` tools: the approved hash it no longer matches. */
  approved_hash: z.string().optional(),
  /**
   * For `changed` tools: the definition that was approved, for a before/after review; kept in the approvals file
   * beside its hash, so it survives a restart. Absent when it is not known: approved under an older hashes-only
   * file, or larger than the 64 KiB the file keeps per definition.
   */
  approved_definition: z
    .object({
      description: z.string().optional(),
      inputSchema: z.record(z.string(), z.unknown()),
      outputSchema: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  /** The tool scanner's verdict on this definition (absent when the scanner is off or has not seen it). */
  verdict: ScanVerdictSchema.optional(),
  /** The tool scanner's findings on this definition. */
  findings: z.array(ScanFindingSchema).optional(),
  /** A person approved this definition despite a blocking finding. */
  overridden: z.boolean().optional(),
});
export type ToolInfo = z.infer<typeof ToolInfoSchema>;

/** `POST /api/v1/servers/{name}/tools/approve`: all pending/changed tools when `tools` is omitted. */
export const ApproveToolsRequestSchema = z.strictObject({ tools: z.array(z.string().min(1)).optional() });
export type ApproveToolsRequest = z.infer<typeof ApproveToolsRequestSchema>;

/** `POST /api/v1/tools/call` */
export const ToolCallRequestSchema = z.strictObject({
  name: z.string().regex(/^[^:]+:.+$/, { message: 'must be "server:tool"' }),
  arguments: z.record(z.string(), z.unknown()).default({}),
});
export type ToolCallRequest = z.infer<typeof ToolCallRequestSchema>;

/** One `GET /api/v1/tools?q=` hit. */
export const ToolSearchHitSchema = z.object({
  name: z.string(),
  server: z.string(),
  tool: z.string(),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).optional(),
  score: z.number(),
});
export type ToolSearchHit = z.infer<typeof ToolSearchHitSchema>;

/** `GET /api/v1/servers/{name}/health` */
export const ServerHealthSchema = z.object({
  name: z.string(),
  state: z.string(),
  circuit: z.string(),
  healthy: z.boolean(),
  last_error: z.string().nullable(),
  last_ping_at: z.string().nullable(),
  last_ping_ms: z.number().nullable(),
  retry_count: z.number().int(),
  next_retry_at: z.string().nullable(),
  stderr_tail: z.array(z.string()).optional(),
});
export type ServerHealth = z.infer<typeof ServerHealthSchema>;

/** A finding of `GET /api/v1/diagnostics`. */
export const DiagnosticSchema = z.object({
  code: z.enum([
    'COMMAND_NOT_FOUND',
    'INIT_TIMEOUT',
    'REPEATED_FAILURES',
    'AUTH_REQUIRED',
    'QUARANTINED',
    'CHANGED_TOOLS',
    'PENDING_TOOLS',
    'AUTO_DISABLED',
    /** Most of a server's recent tool calls failed (read from the activity log). */
    'FAILING_CALLS',
  ]),
  severity: z.enum(['info', 'warning', 'error']),
  server: z.string().optional(),
  message: z.string(),
  fix: z.string(),
});
export type Diagnostic = z.infer<typeof DiagnosticSchema>;

/** Body of `POST /api/v1/servers` and the `add` operation: a config entry (see `ServerConfigSchema`). */
export const AddServerResponseSchema = ServerSummarySchema;

/** Exposed for OpenAPI generation of `protocol` fields. */
export const ProtocolEnum = ProtocolSchema;
