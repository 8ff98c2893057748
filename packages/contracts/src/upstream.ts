import type { ServerConfig } from './config.js';

/** An MCP tool definition as an upstream lists it. */
export interface UpstreamTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  /** Not part of the pinning hash. */
  annotations?: Record<string, unknown> | undefined;
}

/** The result of an MCP `tools/call`, passed through as the upstream sent it. */
export interface UpstreamCallResult {
  content: unknown[];
  structuredContent?: Record<string, unknown> | undefined;
  isError?: boolean | undefined;
  [key: string]: unknown;
}

export interface CallOptions {
  /** Aborts the call (the upstream is sent `notifications/cancelled`). */
  signal?: AbortSignal | undefined;
  /** Deadline of this call in milliseconds; past it the call fails with `CALL_TIMEOUT`. */
  timeoutMs?: number | undefined;
}

/** The resolved transport of a live connection. */
export type ConnectedProtocol = 'stdio' | 'streamable-http' | 'sse';

/** A live connection to one upstream MCP server. */
export interface UpstreamConnection {
  readonly protocol: ConnectedProtocol;
  /** The tools of the last listing. */
  readonly tools: readonly UpstreamTool[];
  readonly serverInfo: { name: string; version: string } | undefined;
  /** Re-lists tools (updates `tools`). */
  listTools(options?: CallOptions): Promise<UpstreamTool[]>;
  callTool(name: string, args: Record<string, unknown>, options?: CallOptions): Promise<UpstreamCallResult>;
  /** MCP `ping`; rejects on failure or deadline. */
  ping(options?: CallOptions): Promise<void>;
  /** Called once when the connection ends for any reason other than our own `close()`. */
  onClose(listener: (error: Error | undefined) => void): () => void;
  /** Called on `notifications/tools/list_changed`. */
  onToolsChanged(listener: () => void): () => void;
  /** Last lines the upstream wrote to stderr (stdio only), oldest first. */
  stderrTail(): string[];
  /** Ends the connection and, for stdio, the whole process group. Idempotent. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  signal?: AbortSignal | undefined;
  /** Bounds connect + initialize + first tools/list. */
  timeoutMs?: number | undefined;
}

/** Opens connections to upstreams; injected into actors so tests can script it. */
export interface UpstreamConnector {
  connect(server: ServerConfig, options?: ConnectOptions): Promise<UpstreamConnection>;
}

/** Why an upstream operation failed. */
export type UpstreamErrorCode =
  | 'COMMAND_NOT_FOUND'
  | 'CONNECT_FAILED'
  | 'INIT_TIMEOUT'
  | 'AUTH_REQUIRED'
  | 'CALL_TIMEOUT'
  | 'CALL_FAILED'
  | 'CLOSED'
  | 'ABORTED'
  | 'PROTOCOL_ERROR';

/** The one error class of upstream connections; actors branch on `code`, never on the message. */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}
