export type { AppEnv, HttpApp, HttpAppDeps } from './app.js';
export { createHttpApp, MAX_BODY_BYTES } from './app.js';
export type { ApprovalsStoreOptions, FileApprovalsStore } from './approvals-store.js';
export { openApprovalsStore } from './approvals-store.js';
export type { ExitCode, ServeErrorCode } from './exit-codes.js';
export { EXIT_CODES, errnoOf, exitCodeOf, isPermissionError, ServeError } from './exit-codes.js';
export type { DataDirLock, LockOptions } from './lock.js';
export { acquireLock } from './lock.js';
export type { AppLogger, LoggerOptions, LogLevel } from './logger.js';
export { createLogger, REDACT_PATHS } from './logger.js';
export type {
  McpEndpointStats,
  McpEndpoints,
  McpEndpointsOptions,
  SessionEndReason,
  SessionTableStats,
  StdioMcpOptions,
  StdioMcpServer,
} from './mcp/index.js';
export { ALL_SEPARATOR, createMcpEndpoints, serveStdio, splitAllName } from './mcp/index.js';
export type { Metrics, MetricsOptions, MetricsViewSource } from './metrics.js';
export { createMetrics } from './metrics.js';
export type { MappedError } from './problems.js';
export { ApiError, toProblem } from './problems.js';
export type { BoundAddress, Security, SecurityOptions } from './security.js';
export { allowedHostsFor, createSecurity } from './security.js';
export type { RunningServer, ServeOptions, ServerServices } from './serve.js';
export { serve } from './serve.js';
export { VERSION } from './version.js';
