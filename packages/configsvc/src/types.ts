import type { Clock, Config, Logger } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';

/** A change to the config: mutate the draft (immer) or return the next config. */
// biome-ignore lint/suspicious/noConfusingVoidType: a recipe that only mutates the draft returns nothing (immer's convention)
export type ConfigRecipe = (draft: Config) => Config | undefined | void;

/** Why a config operation failed. */
export type ConfigErrorCode =
  | 'INVALID_CONFIG'
  | 'CONFLICT'
  | 'READ_ONLY'
  | 'MANAGEMENT_DISABLED'
  | 'CONFIG_WRITE_FAILED'
  | 'CONFIG_READ_FAILED'
  | 'CLOSED';

export interface ConfigServiceOptions {
  /** Path of `mcp_config.json`; created with the default config (and its directory, mode 0700) when missing. */
  path: string;
  /** Where `config_reloaded` events go. @default none */
  bus?: EventBus | undefined;
  /** Environment overrides (`MCPPROXY_LISTEN`, `MCPPROXY_API_KEY`); the app passes `process.env`. @default {} */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Overrides from command-line flags, applied last (e.g. `{listen}`). @default {} */
  overrides?: Partial<Pick<Config, 'listen' | 'api_key'>> | undefined;
  /** Watch the file and reload hand edits. @default true */
  watch?: boolean | undefined;
  /** Debounce of hand edits in ms. @default 200 */
  debounceMs?: number | undefined;
  /** Time source of the debounce timer. @default systemClock */
  clock?: Clock | undefined;
  /** Warnings (rejected hand edits, watch failures) and info (reloads, first-run file). @default silentLogger */
  logger?: Logger | undefined;
}

/** Owns `mcp_config.json`: load, validate, atomic save, watch, gates. */
export interface ConfigService {
  /** The current config (frozen; env and flag overrides applied); O(1). */
  snapshot(): Config;
  /** Called with every new config (after apply or reload). Returns an idempotent unsubscribe. */
  subscribe(listener: (config: Config, previous: Config) => void): () => void;
  /** Validates, saves atomically and publishes a change; serialised with other applies. */
  apply(next: Config | ConfigRecipe): Promise<Config>;
  /** Re-reads the file; an invalid file keeps the last good config and rejects with INVALID_CONFIG. */
  reload(): Promise<Config>;
  /** Throws READ_ONLY or MANAGEMENT_DISABLED per the gates of the current config. */
  assertWritable(kind: 'config' | 'management'): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
