import type { CircuitBreakerConfig, Config, RetryConfig, ServerConfig } from '@mcpproxy/contracts';
import { jsonEqual } from '@mcpproxy/contracts';

/**
 * The global values of {@link Config} an actor needs. Durations are milliseconds; a zero
 * `health_check_interval` or `tool_discovery_interval` turns that timer off.
 */
export interface ActorSettings {
  /** Backoff between failed connects and the auto-disable threshold. */
  readonly retry: Readonly<RetryConfig>;
  /** Circuit breaker on tool calls. */
  readonly circuit_breaker: Readonly<CircuitBreakerConfig>;
  /** Bounds connect + initialize + first tools/list; a server's own `init_timeout` overrides it. */
  readonly init_timeout: number;
  /** MCP `ping` period while ready; a server's own `health_check_interval` overrides it. */
  readonly health_check_interval: number;
  /** Re-list period while ready (besides `notifications/tools/list_changed`). */
  readonly tool_discovery_interval: number;
  /** Default deadline of one tool call. */
  readonly call_tool_timeout: number;
}

/** What one actor runs on: its own config entry and the global settings. */
export interface ActorConfig {
  readonly server: ServerConfig;
  /** @default the documented defaults (docs/configuration.md) ({@link DEFAULT_ACTOR_SETTINGS}) */
  readonly settings?: ActorSettings | undefined;
}

/** The documented defaults (docs/configuration.md). */
export const DEFAULT_ACTOR_SETTINGS: ActorSettings = Object.freeze({
  retry: Object.freeze({ initial_delay: 1_000, max_delay: 60_000, max_retries: 10 }),
  circuit_breaker: Object.freeze({ failure_threshold: 5, reset_timeout: 30_000 }),
  init_timeout: 30_000,
  health_check_interval: 30_000,
  tool_discovery_interval: 300_000,
  call_tool_timeout: 120_000,
});

/** Picks the actor settings out of a whole config. The nested objects are shared, not copied. */
export function actorSettings(config: Config): ActorSettings {
  return {
    retry: config.retry,
    circuit_breaker: config.circuit_breaker,
    init_timeout: config.init_timeout,
    health_check_interval: config.health_check_interval,
    tool_discovery_interval: config.tool_discovery_interval,
    call_tool_timeout: config.call_tool_timeout,
  };
}

/** Whether two settings hold the same values. */
export function sameSettings(a: ActorSettings, b: ActorSettings): boolean {
  return (
    a === b ||
    (a.init_timeout === b.init_timeout &&
      a.health_check_interval === b.health_check_interval &&
      a.tool_discovery_interval === b.tool_discovery_interval &&
      a.call_tool_timeout === b.call_tool_timeout &&
      a.retry.initial_delay === b.retry.initial_delay &&
      a.retry.max_delay === b.retry.max_delay &&
      a.retry.max_retries === b.retry.max_retries &&
      a.circuit_breaker.failure_threshold === b.circuit_breaker.failure_threshold &&
      a.circuit_breaker.reset_timeout === b.circuit_breaker.reset_timeout)
  );
}

/** Fields whose change needs a new connection. */
const CONNECTION_FIELDS = [
  'protocol',
  'command',
  'args',
  'env',
  'working_dir',
  'url',
  'headers',
  'init_timeout',
] as const satisfies readonly (keyof ServerConfig)[];

/** Whether a config change needs a reconnect: protocol, command, args, env, working_dir, url, headers or init_timeout. */
export function connectionChanged(a: ServerConfig, b: ServerConfig): boolean {
  if (a === b) return false;
  for (const key of CONNECTION_FIELDS) if (!jsonEqual(a[key], b[key])) return true;
  return false;
}
