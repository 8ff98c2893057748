export type { Clock, FakeClock, TimerHandle } from './clock.js';
export { createFakeClock, systemClock } from './clock.js';
export type {
  ActivityConfig,
  CircuitBreakerConfig,
  Config,
  ConfigInput,
  EventsConfig,
  FeaturesConfig,
  ParseResult,
  Protocol,
  RetryConfig,
  SecurityConfig,
  SerializeOptions,
  ServerConfig,
  ServerConfigInput,
  ValidationIssue,
} from './config.js';
export {
  ConfigSchema,
  defaultConfig,
  formatPath,
  formatValidationIssues,
  isLoopbackHost,
  ProtocolSchema,
  parseConfig,
  parseListen,
  parseServerConfig,
  SERVER_NAME_RE,
  ServerConfigSchema,
  ServerNameSchema,
  ServersSchema,
  toFileConfig,
  toValidationIssues,
} from './config.js';
export {
  DurationSchema,
  formatDuration,
  MAX_TIMER_MS,
  parseDuration,
  parseSize,
  SizeSchema,
  TimerDurationSchema,
} from './duration.js';
export { jsonEqual } from './equal.js';
export type { ErrorCode, Problem } from './errors.js';
export { ERROR_CODES, ERROR_STATUS, ErrorCodeSchema, ProblemSchema, statusOf } from './errors.js';
export type {
  BusEvent,
  ConfigChange,
  EventDataMap,
  EventEnvelope,
  EventInput,
  EventType,
  LegacyEventType,
  ServerEventType,
  ToolApprovalState,
  ToolCallStatus,
} from './events.js';
export {
  ConfigChangeSchema,
  EVENT_TYPES,
  EventDataSchemas,
  EventEnvelopeSchema,
  EventTypeSchema,
  isServerEventType,
  LEGACY_ALIASES,
  SERVER_EVENT_TYPES,
  ToolApprovalStateSchema,
  ToolCallStatusSchema,
} from './events.js';
export type { ExitCode } from './exit-codes.js';
export { EXIT_CODES } from './exit-codes.js';
export type { LogFields, Logger } from './logger.js';
export { silentLogger } from './logger.js';
export { MASK, maskConfig, maskServerConfig, scrubSecrets, secretValues } from './mask.js';
export type { PinnedTool } from './pinning.js';
export { canonicalJson, pinningText } from './pinning.js';
export type {
  ApproveToolsRequest,
  BulkRequest,
  BulkResult,
  Diagnostic,
  ServerHealth,
  ServersResponse,
  StatusResponse,
  ToolCallRequest,
  ToolInfo,
  ToolSearchHit,
} from './rest.js';
export {
  AddServerResponseSchema,
  ApproveToolsRequestSchema,
  BulkRequestSchema,
  BulkResultSchema,
  DiagnosticSchema,
  ServerHealthSchema,
  ServersResponseSchema,
  StatusResponseSchema,
  ToolCallRequestSchema,
  ToolInfoSchema,
  ToolSearchHitSchema,
} from './rest.js';
export type {
  ScanCheck,
  ScanCoverageGap,
  ScanFinding,
  ScanSeverity,
  ScanThreat,
  ScanTier,
  ScanVerdict,
  SecurityFinding,
  SecurityFindingsResponse,
  ToolScanResult,
} from './scanner.js';
export {
  ScanCheckSchema,
  ScanCoverageGapSchema,
  ScanFindingSchema,
  ScanSeveritySchema,
  ScanThreatSchema,
  ScanTierSchema,
  ScanVerdictSchema,
  SecurityFindingSchema,
  SecurityFindingsResponseSchema,
  ToolScanResultSchema,
} from './scanner.js';
export type { AppInfo, AppState, CircuitState, ServerState, ServerSummary, Snapshot } from './summary.js';
export {
  AppInfoSchema,
  AppStateSchema,
  AutoDisabledSchema,
  CircuitStateSchema,
  ServerStateSchema,
  ServerSummarySchema,
  SnapshotSchema,
} from './summary.js';
export type {
  CallOptions,
  ConnectedProtocol,
  ConnectOptions,
  UpstreamCallResult,
  UpstreamConnection,
  UpstreamConnector,
  UpstreamErrorCode,
  UpstreamTool,
} from './upstream.js';
export { UpstreamError } from './upstream.js';
export type {
  BatchFrame,
  ClientOp,
  ControlFrame,
  ErrorFrame,
  HelloFrame,
  LiveErrorCode,
  PongFrame,
  ResyncFrame,
  SubscribedFrame,
} from './ws.js';
export { ClientOpSchema, LIVE_PROTOCOL_VERSION } from './ws.js';
