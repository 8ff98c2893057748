export type { BackoffOptions } from './backoff.js';
export { POLL_INTERVAL_MS, RECONNECT_DELAYS_MS, reconnectDelay } from './backoff.js';
export type { ClientErrorCode, ClientIssue } from './errors.js';
export { ClientError } from './errors.js';
export type {
  ConnectionInfo,
  LiveClient,
  LiveClientOptions,
  LiveStatus,
  ResetReason,
  WebSocketConstructor,
  WebSocketLike,
} from './live.js';
export { createLiveClient } from './live.js';
export type { RestClient } from './rest.js';
export { createRestClient, serverRoot } from './rest.js';
export type { HttpMethod, RestRouteName } from './routes.js';
export { REST_ROUTES } from './routes.js';
export type {
  ActivityFigures,
  ActivityFilters,
  ActivityPage,
  ActivityQuery,
  ActivityRecord,
  ActivityStats,
  ActivityStatsQuery,
  ConfigReload,
  ConfigValidation,
  FetchLike,
  LiveQuery,
  NewServer,
  PromptInfo,
  RequestOptions,
  RestClientOptions,
  ServerDetail,
  ServerPatch,
  ToolCallResult,
} from './types.js';
export type { Subscribable, Unsubscribe } from './value.js';
