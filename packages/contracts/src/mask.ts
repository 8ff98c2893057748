import type { Config, ServerConfig } from './config.js';

/** What every secret value becomes in API responses, events and logs. */
export const MASK = '***';

function maskValues(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(map).map((k) => [k, MASK]));
}

/** A server config with `env` and `headers` values masked. */
export function maskServerConfig(server: ServerConfig): ServerConfig {
  return { ...server, env: maskValues(server.env), headers: maskValues(server.headers) };
}

/** A config with `api_key` and every server's `env` and `headers` values masked. */
export function maskConfig(config: Config): Config {
  return {
    ...config,
    ...(config.api_key === undefined ? {} : { api_key: MASK }),
    mcpServers: config.mcpServers.map(maskServerConfig),
  };
}

/** Every secret value in a config, for scrubbing free text such as upstream error messages or log lines. */
export function secretValues(config: Config): string[] {
  const out = new Set<string>();
  if (config.api_key) out.add(config.api_key);
  for (const s of config.mcpServers) {
    for (const v of Object.values(s.env)) if (v.length >= 4) out.add(v);
    for (const v of Object.values(s.headers)) if (v.length >= 4) out.add(v);
  }
  return [...out];
}

/** Replaces every occurrence of any secret in `text` with the mask. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join(MASK);
  return out;
}
