export type { ActivityEntry, EventEntry, ToolCallEntry } from './entry.js';
export type { ActivityErrorCode } from './errors.js';
export { ActivityError } from './errors.js';
export type { ActivityLog, ActivityLogOptions, ActivityMetrics } from './log.js';
export { createActivityLog } from './log.js';
export { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.js';
export { SECRET_KEY_RE } from './payload.js';
export type {
  ActivityExportInput,
  ActivityKind,
  ActivityPage,
  ActivityQuery,
  ActivityQueryInput,
  ActivityRecord,
  ActivityStats,
  ActivityStatsInput,
  ActivityStatus,
  Actor,
  CallFigures,
  Surface,
} from './schema.js';
export {
  ActivityExportSchema,
  ActivityKindSchema,
  ActivityQuerySchema,
  ActivityRecordSchema,
  ActivityStatsQuerySchema,
  ActivityStatusSchema,
  ActorSchema,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  SurfaceSchema,
} from './schema.js';
