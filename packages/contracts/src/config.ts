import { z } from 'zod';
import { DurationSchema, formatDuration, SizeSchema, TimerDurationSchema } from './duration.js';

/** Server names: letters, digits, `-`, `_`, `.`; 1–64 chars; no `:` (tool separator) and no `__` (namespace separator). */
export const SERVER_NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

export const ProtocolSchema = z.enum(['stdio', 'http', 'streamable-http', 'sse', 'auto']);
/** Upstream transport; `auto` is stdio when `command` is set, else Streamable HTTP falling back to SSE. */
export type Protocol = z.infer<typeof ProtocolSchema>;

/**
 * Names that are also special property names of JavaScript objects. `__proto__` is already refused by the `__`
 * rule; `constructor` and `prototype` are refused too, so no map keyed by server name (bulk results, JSON objects
 * built by clients) can be confused by them.
 */
const RESERVED_SERVER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const ServerNameSchema = z
  .string()
  .regex(SERVER_NAME_RE, { message: 'must be 1–64 letters, digits, "-", "_" or "." (no ":")' })
  .refine((s) => !s.includes('__'), { message: 'must not contain "__" (reserved as the namespace separator)' })
  .refine((s) => s.includes('__') || !RESERVED_SERVER_NAMES.has(s), {
    message: 'must not be "constructor" or "prototype" (reserved)',
  })
  // "." and ".." are URL dot segments: clients and URL parsers remove them, so /servers/.. could never be reached.
  .refine((s) => !/^\.+$/.test(s), { message: 'must not be made only of dots (URL path segments)' });

const StringMap = z.record(z.string(), z.string());

const serverFields = {
  protocol: ProtocolSchema.default('auto'),
  command: z.string().min(1).optional(),
  args: z.array(z.string()).default([]),
  env: StringMap.default({}),
  working_dir: z.string().min(1).optional(),
  url: z
    .string()
    .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), { message: 'must be an http:// or https:// URL' })
    .optional(),
  headers: StringMap.default({}),
  enabled: z.boolean().default(true),
  quarantined: z.boolean().default(false),
  groups: z.array(z.string().min(1)).default([]),
  init_timeout: TimerDurationSchema.optional(),
  health_check_interval: TimerDurationSchema.optional(),
  enabled_tools: z.array(z.string()).optional(),
  disabled_tools: z.array(z.string()).optional(),
};

type ServerShape = z.infer<z.ZodObject<typeof serverFields>>;

function checkServer(s: ServerShape, ctx: z.RefinementCtx): void {
  if (s.protocol === 'stdio' && !s.command) {
    ctx.addIssue({ code: 'custom', path: ['command'], message: 'is required when protocol is "stdio"' });
  }
  if ((s.protocol === 'http' || s.protocol === 'streamable-http' || s.protocol === 'sse') && !s.url) {
    ctx.addIssue({ code: 'custom', path: ['url'], message: `is required when protocol is "${s.protocol}"` });
  }
  if (s.protocol === 'auto' && !s.command && !s.url) {
    ctx.addIssue({ code: 'custom', path: ['command'], message: 'either "command" or "url" is required' });
  }
  if (s.enabled_tools && s.disabled_tools) {
    ctx.addIssue({
      code: 'custom',
      path: ['disabled_tools'],
      message: 'give either "enabled_tools" or "disabled_tools", not both',
    });
  }
}

/** One upstream entry as written in the array form of `mcpServers`. */
export const ServerConfigSchema = z.strictObject({ name: ServerNameSchema, ...serverFields }).superRefine(checkServer);
/** One upstream entry in the Claude-Desktop object form (the key is the name). */
const KeyedServerConfigSchema = z
  .strictObject({ name: ServerNameSchema.optional(), ...serverFields })
  .superRefine(checkServer);

/** A validated, defaulted upstream config. Durations are milliseconds. */
export type ServerConfig = z.output<typeof ServerConfigSchema>;
/** An upstream config as a user may write it (durations as strings, defaults omitted). */
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;

const ServersArraySchema = z.array(ServerConfigSchema);
const ServersObjectSchema = z.record(z.string(), KeyedServerConfigSchema);

type KeyedParse =
  | { success: true; data: Array<[string, z.output<typeof KeyedServerConfigSchema>]> }
  | { success: false; error: { issues: z.core.$ZodIssue[] } };

/** Each own key of the object form with its parsed entry, in key order; issues are prefixed with the key. */
function parseKeyedServers(value: Record<string, unknown>): KeyedParse {
  const data: Array<[string, z.output<typeof KeyedServerConfigSchema>]> = [];
  const issues: z.core.$ZodIssue[] = [];
  for (const [key, entry] of Object.entries(value)) {
    const parsed = KeyedServerConfigSchema.safeParse(entry);
    if (parsed.success) data.push([key, parsed.data]);
    else for (const issue of parsed.error.issues) issues.push({ ...issue, path: [key, ...issue.path] });
  }
  return issues.length > 0 ? { success: false, error: { issues } } : { success: true, data };
}

/** `mcpServers`: an array of entries with `name`, or an object keyed by name; always normalised to an array. */
export const ServersSchema = z.unknown().transform((value, ctx): ServerConfig[] => {
  if (value === undefined) return [];
  const isArray = Array.isArray(value);
  // The object form is parsed entry by entry from its own keys: `z.record` builds its output by assignment, which
  // turns a "__proto__" key into a prototype change and silently drops that server instead of refusing its name.
  const result = isArray
    ? ServersArraySchema.safeParse(value)
    : typeof value === 'object' && value !== null
      ? parseKeyedServers(value as Record<string, unknown>)
      : ServersObjectSchema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { rule: ruleOf(issue) } });
    }
    return z.NEVER;
  }
  const list: ServerConfig[] = isArray
    ? (result.data as ServerConfig[])
    : (result.data as Array<[string, z.output<typeof KeyedServerConfigSchema>]>).map(([key, entry]) => {
        const named = ServerNameSchema.safeParse(key);
        if (!named.success) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `server name ${named.error.issues[0]?.message ?? 'is invalid'}`,
            params: { rule: 'server_name' },
          });
        } else if (entry.name !== undefined && entry.name !== key) {
          ctx.addIssue({
            code: 'custom',
            path: [key, 'name'],
            message: `must equal its key "${key}" when given`,
            params: { rule: 'name_matches_key' },
          });
        }
        return { ...entry, name: key };
      });
  const seen = new Map<string, number>();
  list.forEach((s, i) => {
    const first = seen.get(s.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: isArray ? [i, 'name'] : [s.name],
        message: `duplicate server name "${s.name}" (first at mcpServers[${first}])`,
        params: { rule: 'unique_name' },
      });
    } else seen.set(s.name, i);
  });
  return list;
});

const FeaturesSchema = z
  .strictObject({
    enable_observability: z.boolean().default(true),
    enable_health_checks: z.boolean().default(true),
    enable_metrics: z.boolean().default(true),
    enable_tracing: z.boolean().default(false),
    enable_web_ui: z.boolean().default(true),
    enable_search: z.boolean().default(true),
  })
  .superRefine((f, ctx) => {
    if (!f.enable_observability) {
      for (const child of ['enable_health_checks', 'enable_metrics', 'enable_tracing'] as const) {
        if (f[child]) {
          ctx.addIssue({
            code: 'custom',
            path: [child],
            message: 'cannot be on while its parent "features.enable_observability" is off',
            params: { rule: 'feature_parent' },
          });
        }
      }
    }
  });

const RetrySchema = z
  .strictObject({
    initial_delay: TimerDurationSchema.default(1_000),
    max_delay: TimerDurationSchema.default(60_000),
    max_retries: z.number().int().min(0).max(1_000).default(10),
  })
  .refine((r) => r.max_delay >= r.initial_delay, {
    path: ['max_delay'],
    message: 'must be at least "initial_delay"',
  });

const CircuitBreakerSchema = z.strictObject({
  failure_threshold: z.number().int().min(1).max(1_000).default(5),
  reset_timeout: TimerDurationSchema.default(30_000),
});

const EventsSchema = z.strictObject({
  send_buffer: z.number().int().min(1).max(1_000_000).default(256),
  max_buffered_bytes: z
    .number()
    .int()
    .min(1024)
    .max(2 ** 31)
    .default(1_048_576),
  ping_interval: TimerDurationSchema.default(54_000),
  pong_timeout: TimerDurationSchema.default(60_000),
  max_message_size: z
    .number()
    .int()
    .min(64)
    .max(2 ** 30)
    .default(524_288),
  replay_buffer: z.number().int().min(0).max(1_000_000).default(1024),
  batch_window: TimerDurationSchema.default(0),
  permessage_deflate: z.boolean().default(false),
});

/** The tool scanner (docs/security.md): on by default; `block_on: "none"` reports findings without blocking. */
const SecuritySchema = z.strictObject({
  scanner: z.boolean().default(true),
  block_on: z.enum(['hard', 'none']).default('hard'),
});

/**
 * The activity log (docs/activity.md): every tool call and management action kept in `activity.db`. `retention` is
 * a duration (milliseconds after parsing), `max_size` and `max_payload` sizes (bytes after parsing).
 */
const ActivitySchema = z.strictObject({
  enabled: z.boolean().default(true),
  retention: DurationSchema.refine((ms) => ms >= 60_000, { message: 'must be at least 1m' }).default(2_592_000_000),
  max_size: SizeSchema.refine((b) => b >= 1024 * 1024, { message: 'must be at least 1MB' }).default(268_435_456),
  max_payload: SizeSchema.refine((b) => b >= 256 && b <= 16 * 1024 * 1024, {
    message: 'must be between 256B and 16MB',
  }).default(16_384),
  record_payloads: z.boolean().default(true),
});

/** The whole `mcp_config.json`. Durations are milliseconds after parsing; `mcpServers` is always an array. */
export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  listen: z
    .string()
    .refine((l) => l === '' || parseListen(l) !== undefined, {
      message: 'must be "HOST:PORT" (port 0–65535), "[::1]:PORT", or "" for stdio only',
    })
    .default('127.0.0.1:8080'),
  api_key: z.string().min(1).optional(),
  allowed_origins: z.array(z.string()).default([]),
  read_only_mode: z.boolean().default(false),
  disable_management: z.boolean().default(false),
  quarantine_enabled: z.boolean().default(true),
  tools_limit: z.number().int().min(1).max(100).default(15),
  call_tool_timeout: TimerDurationSchema.default(120_000),
  init_timeout: TimerDurationSchema.default(30_000),
  health_check_interval: TimerDurationSchema.default(30_000),
  tool_discovery_interval: TimerDurationSchema.default(300_000),
  /**
   * Most `/mcp/servers/{name}` sessions per server that hold their own upstream link (an own process for stdio,
   * an own upstream session for HTTP); the others share the actor's connection. `0` = every session shares.
   */
  max_session_links: z.number().int().min(0).max(1000).default(8),
  features: FeaturesSchema.prefault({}),
  retry: RetrySchema.prefault({}),
  circuit_breaker: CircuitBreakerSchema.prefault({}),
  events: EventsSchema.prefault({}),
  security: SecuritySchema.prefault({}),
  activity: ActivitySchema.prefault({}),
  mcpServers: ServersSchema.prefault([]),
});

/** A validated config with every default applied. */
export type Config = z.output<typeof ConfigSchema>;
/** A config as a user may write it. */
export type ConfigInput = z.input<typeof ConfigSchema>;
export type FeaturesConfig = Config['features'];
export type RetryConfig = Config['retry'];
export type CircuitBreakerConfig = Config['circuit_breaker'];
export type EventsConfig = Config['events'];
export type SecurityConfig = Config['security'];
export type ActivityConfig = Config['activity'];

/** Splits a `listen` value into host and port; `undefined` when malformed. IPv6 hosts come without brackets. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65_535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** Whether a host binds only to the loopback interface. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

function ruleOf(issue: z.core.$ZodIssue): string {
  const params = (issue as { params?: { rule?: unknown } }).params;
  if (params && typeof params.rule === 'string') return params.rule;
  return issue.code;
}

/** A config path and the rule it broke, e.g. `{path: "mcpServers[2].name", rule: "invalid_format", …}`. */
export interface ValidationIssue {
  /** JSON path in the file, e.g. `mcpServers[2].name`; `""` for the root. */
  path: string;
  /** The rule that failed: a zod issue code or a named rule such as `unique_name`. */
  rule: string;
  /** What is wrong, in words. */
  message: string;
}

/** Formats a path like `["mcpServers", 2, "name"]` as `mcpServers[2].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** Turns a zod error into path + rule issues. */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
    return { path, rule: ruleOf(issue), message };
  });
}

/** One line per issue: `mcpServers[2].name: must be … (invalid_format)`. */
export function formatValidationIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message} (${i.rule})`).join('\n');
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

/** Validates a parsed JSON value as a config; never throws. */
export function parseConfig(input: unknown): ParseResult<Config> {
  const result = ConfigSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: toValidationIssues(result.error) };
}

/** Validates one server entry (array form, with `name`); never throws. */
export function parseServerConfig(input: unknown): ParseResult<ServerConfig> {
  const result = ServerConfigSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, issues: toValidationIssues(result.error) };
}

/** The default config: what a first run writes. */
export function defaultConfig(): Config {
  const parsed = parseConfig({});
  if (!parsed.ok) throw new Error('default config does not validate');
  return parsed.value;
}

export interface SerializeOptions {
  /** Write `mcpServers` as an object keyed by name (Claude-Desktop form) instead of an array. @default false */
  serversAsObject?: boolean | undefined;
}

const DURATION_KEYS = new Set([
  'call_tool_timeout',
  'init_timeout',
  'health_check_interval',
  'tool_discovery_interval',
  'initial_delay',
  'max_delay',
  'reset_timeout',
  'ping_interval',
  'pong_timeout',
  'batch_window',
  'retention',
]);

function stripDefaults(value: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const d = defaults[key];
    if (isPlainObject(v) && isPlainObject(d)) {
      const inner = stripDefaults(v, d);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (JSON.stringify(v) !== JSON.stringify(d)) {
      out[key] = DURATION_KEYS.has(key) && typeof v === 'number' ? formatDuration(v) : v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SERVER_DEFAULTS: Record<string, unknown> = {
  protocol: 'auto',
  args: [],
  env: {},
  headers: {},
  enabled: true,
  quarantined: false,
  groups: [],
};

/**
 * The file form of a config: values equal to their defaults are left out, durations are written as strings,
 * so a saved file stays as short as a person would write it. `parseConfig(toFileConfig(c))` equals `c`.
 */
export function toFileConfig(
  config: Config,
  { serversAsObject = false }: SerializeOptions = {},
): Record<string, unknown> {
  const { mcpServers, ...rest } = config;
  const { mcpServers: _ignored, ...defaults } = defaultConfig();
  // `listen` is always written so a person opening the file sees where the proxy listens.
  const top: Record<string, unknown> = { listen: config.listen, ...stripDefaults(rest, defaults) };
  const servers = mcpServers.map((s) => {
    const { name, ...fields } = s;
    return { name, ...stripDefaults(fields, SERVER_DEFAULTS) };
  });
  top.mcpServers = serversAsObject ? Object.fromEntries(servers.map(({ name, ...fields }) => [name, fields])) : servers;
  return top;
}
