export type { FailureKind } from './diagnose.js';
export { classifyFailure } from './diagnose.js';
export type { ManagementErrorOptions } from './errors.js';
export { ManagementError, toManagementError } from './errors.js';
export type { OperationGate, OperationName, OperationRule } from './rules.js';
export { OPERATION_RULES } from './rules.js';
export { createManagementService } from './service.js';
export type {
  ActionReport,
  BulkOptions,
  Caller,
  CallerSource,
  CallToolOptions,
  ManagementErrorCode,
  ManagementOptions,
  ManagementService,
  SearchToolsOptions,
  ServerDetail,
  ToolCallOrigin,
  ToolCallReport,
  ToolIndexLike,
  ToolStat,
} from './types.js';
