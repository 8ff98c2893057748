// Config fuzz targets (docs/configuration.md): fuzzed `mcp_config.json` files through configsvc's load, `POST
// /api/v1/config/validate`, and a hot reload of a running server. Invariants: a file either loads or is refused
// with a ConfigError code (never another exception, never a hang), a refused file is left byte for byte, a valid
// object-form `mcpServers` keeps every key as a server (nothing silently dropped), the API agrees with the
// contract's parser, and a refused reload keeps the running servers as they were.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfigService } from '@mcpproxy/configsvc';
import { parseConfig } from '@mcpproxy/contracts';
import fc from 'fast-check';
import type { TestServer } from '../helpers.js';
import {
  anyName,
  checkAnswer,
  describe,
  type FuzzStats,
  type FuzzTarget,
  type HttpClient,
  type HttpRequest,
  InvariantError,
  NASTY_BODIES,
  outcomeOf,
  target,
} from './harness.js';

/** Mostly valid values (so that many files load and the later checks run), sometimes not. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 15, arbitrary: valid }, { weight: 1, arbitrary: invalid });
const duration = mostly(
  fc.oneof(fc.constantFrom('500ms', '30s', '2m', '1h', '1.5s'), fc.nat({ max: 600_000 })),
  fc.oneof(fc.constantFrom('-1s', 'soon', '', '30', '1d', '9999999999999999h'), fc.integer({ max: -1 }), fc.double()),
);
const flag = mostly(fc.boolean(), fc.constantFrom('true', 0, 1, null));
const validName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
/** Features stay on unless fuzzed off (a child on under a parent off is invalid, so random pairs mostly are). */
const featureFlag = mostly(fc.constant(true), flag);

/** A server entry with fuzzed fields; its command can never run and its URL never answers. */
const entryFields = fc.record(
  {
    name: mostly(validName, anyName),
    protocol: mostly(fc.constantFrom('stdio', 'auto'), fc.constantFrom('http', 'streamable-http', 'sse', 'ws', '')),
    command: mostly(
      fc.constant('/nonexistent/cmd'),
      fc.oneof(
        anyName.map((s) => `/nonexistent/${s}`),
        fc.constant(''),
      ),
    ),
    args: mostly(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.string()),
    env: mostly(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
      fc.constant({ A: 1 }),
    ),
    url: mostly(fc.constantFrom('http://127.0.0.1:1/mcp', 'https://127.0.0.1:1/'), fc.constantFrom('ftp://x', 'x')),
    headers: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 }),
    enabled: flag,
    quarantined: flag,
    groups: fc.array(
      mostly(
        anyName.filter((g) => g !== ''),
        fc.constant(''),
      ),
      { maxLength: 2 },
    ),
    init_timeout: duration,
    enabled_tools: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }),
  },
  { requiredKeys: ['name', 'command'] },
);
/** `arb` once in `n` inputs, else nothing. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });
/** Rarely, what no entry may have: both tool lists, or an unknown key. */
const entryFaults = rarely(
  fc.record(
    { disabled_tools: fc.array(fc.string({ maxLength: 8 })), bogus: fc.jsonValue({ maxDepth: 1 }) },
    { requiredKeys: [] },
  ),
  6,
);
const entry = fc.tuple(entryFields, entryFaults).map(([e, faults]) => ({ ...e, ...(faults ?? {}) }));

/** `mcpServers` in either form; the object form is keyed by fuzzed names, prototype keys included. */
const servers = fc.oneof(
  { weight: 12, arbitrary: fc.array(entry, { maxLength: 3 }) },
  {
    weight: 8,
    arbitrary: fc
      .array(
        fc.tuple(mostly(validName, fc.oneof(anyName, fc.constantFrom('__proto__', 'constructor', 'prototype'))), entry),
        {
          maxLength: 3,
        },
      )
      .map((pairs) => {
        // Built from JSON text so that "__proto__" is an own key, as in a file (an object literal would set the
        // prototype).
        const parts = pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify({ ...v, name: undefined })}`);
        return { objectForm: `{${parts.join(',')}}` };
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);

export interface FuzzConfig {
  /** The file's text. */
  text: string;
  /** Keys of an object-form `mcpServers`, in file order (to check none is dropped). */
  objectKeys: string[] | undefined;
  /** Garbage text rather than a config-shaped object. */
  garbage?: boolean | undefined;
}

/** A config file: structured with fuzzed values (optionally without `listen`/`api_key`/gates), or garbage text. */
export function configArb({ keepAccess = false }: { keepAccess?: boolean } = {}): fc.Arbitrary<FuzzConfig> {
  const structured = fc
    .tuple(
      fc.record(
        {
          listen: mostly(
            fc.constantFrom('127.0.0.1:0', 'localhost:0', '[::1]:0', '127.0.0.1:8080'),
            fc.constantFrom(':0', '0.0.0.0:8080', 'nope', '127.0.0.1:99999', ''),
          ),
          api_key: mostly(fc.string({ minLength: 1, maxLength: 12 }), fc.oneof(fc.constant(''), fc.integer())),
          read_only_mode: flag,
          disable_management: flag,
          quarantine_enabled: flag,
          tools_limit: mostly(
            fc.integer({ min: 1, max: 100 }),
            fc.oneof(fc.integer({ min: -5, max: 200 }), fc.double(), fc.string()),
          ),
          call_tool_timeout: duration,
          health_check_interval: duration,
          features: fc.record(
            {
              enable_observability: featureFlag,
              enable_health_checks: featureFlag,
              enable_metrics: featureFlag,
              enable_tracing: featureFlag,
              enable_web_ui: featureFlag,
              enable_search: featureFlag,
            },
            { requiredKeys: [] },
          ),
          retry: fc.record(
            {
              initial_delay: duration,
              max_delay: duration,
              max_retries: mostly(fc.nat({ max: 100 }), fc.oneof(fc.integer(), fc.string())),
            },
            { requiredKeys: [] },
          ),
          circuit_breaker: fc.record(
            { failure_threshold: mostly(fc.integer({ min: 1, max: 20 }), fc.integer()), reset_timeout: duration },
            { requiredKeys: [] },
          ),
          events: fc.record(
            {
              send_buffer: mostly(fc.integer({ min: 1, max: 1000 }), fc.integer()),
              max_message_size: mostly(fc.integer({ min: 1024, max: 1_000_000 }), fc.integer()),
              batch_window: duration,
            },
            { requiredKeys: [] },
          ),
          mcpServers: servers,
        },
        { requiredKeys: [] },
      ),
      // Rarely, what no config may have: unknown keys at the top or among the features.
      rarely(
        fc.record(
          { unknown_top_level: fc.jsonValue({ maxDepth: 1 }), features: fc.constant({ bogus: true }) },
          { requiredKeys: [] },
        ),
        8,
      ),
    )
    .map(([fields, faults]) => ({ ...fields, ...(faults ?? {}) }))
    .map((raw) => {
      const cfg: Record<string, unknown> = { ...raw };
      if (keepAccess) {
        for (const k of ['listen', 'api_key', 'read_only_mode', 'disable_management']) delete cfg[k];
      }
      const objectForm = (cfg.mcpServers as { objectForm?: string } | undefined)?.objectForm;
      if (objectForm === undefined) return { text: JSON.stringify(cfg, null, 2), objectKeys: undefined };
      delete cfg.mcpServers;
      const head = JSON.stringify(cfg);
      const text = `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"mcpServers":${objectForm}}`;
      return { text, objectKeys: Object.keys(JSON.parse(objectForm) as object) };
    });
  const garbage = fc
    .oneof(
      fc.constantFrom(...NASTY_BODIES, '// comment\n{}', '{"mcpServers":[],}', '\u0000'),
      fc.string({ maxLength: 80 }),
    )
    .map((text) => ({ text, objectKeys: undefined, garbage: true }));
  return fc.oneof({ weight: 5, arbitrary: structured }, { weight: 1, arbitrary: garbage });
}

/** Whether a parse kept every object-form key as a server (a valid config must). */
function checkNoDrop(cfg: FuzzConfig, names: readonly string[] | undefined, what: string): void {
  if (!cfg.objectKeys || !names) return;
  for (const key of cfg.objectKeys) {
    if (!names.includes(key)) throw new InvariantError(`server "${key}" of the object form was silently dropped`, what);
  }
}

const ALLOWED_CONFIG_CODES = new Set(['INVALID_CONFIG', 'CONFIG_READ_FAILED']);

export interface ConfigContext {
  /** A scratch directory for fuzzed files. */
  dir: string;
  /** A running fuzz server without upstreams (validate and reload go to it). */
  server: TestServer;
  client: HttpClient;
  stats?: FuzzStats | undefined;
}

/** The config targets. */
export function configTargets(ctx: ConfigContext): FuzzTarget<unknown>[] {
  const { client, server } = ctx;
  let n = 0;

  const load = target('config: configsvc loads or refuses fuzzed files', configArb(), async (cfg) => {
    const path = join(ctx.dir, `fuzz-${n++}.json`);
    writeFileSync(path, cfg.text);
    const what = `file ${cfg.text.slice(0, 300)}`;
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(cfg.text);
    } catch {
      isJson = false;
    }
    const expected = isJson ? parseConfig(json) : undefined;
    try {
      const svc = await createConfigService({ path, watch: false });
      try {
        ctx.stats?.outcome('config: configsvc loads or refuses fuzzed files', 'loaded');
        if (expected && !expected.ok) throw new InvariantError('configsvc loaded a config the contract refuses', what);
        checkNoDrop(
          cfg,
          svc.snapshot().mcpServers.map((s) => s.name),
          what,
        );
      } finally {
        await svc.close();
      }
    } catch (error) {
      if (error instanceof InvariantError) throw error;
      const code = (error as { code?: unknown }).code;
      ctx.stats?.outcome('config: configsvc loads or refuses fuzzed files', `refused ${String(code)}`);
      if ((error as Error).name !== 'ConfigError' || !ALLOWED_CONFIG_CODES.has(String(code))) {
        throw new InvariantError(
          `load threw ${(error as Error).name} ${String(code)}: ${(error as Error).message}`,
          what,
        );
      }
      if (expected?.ok && code === 'INVALID_CONFIG')
        throw new InvariantError('configsvc refused a config the contract accepts', what);
      if (readFileSync(path, 'utf8') !== cfg.text) throw new InvariantError('a refused file was rewritten', what);
    }
    if (expected?.ok)
      checkNoDrop(
        cfg,
        expected.value.mcpServers.map((s) => s.name),
        what,
      );
  });

  const validate = target('config: POST /config/validate agrees with the contract', configArb(), async (cfg) => {
    const req: HttpRequest = {
      method: 'POST',
      path: '/api/v1/config/validate',
      headers: { 'content-type': 'application/json' },
      body: cfg.text,
    };
    const res = await client.send(req);
    ctx.stats?.outcome('config: POST /config/validate agrees with the contract', outcomeOf(res));
    checkAnswer(res, req);
    let json: unknown;
    try {
      // A leading byte-order mark is no error: HTTP bodies are decoded as UTF-8 text, which drops it.
      json = JSON.parse(cfg.text.replace(/^\uFEFF/, ''));
    } catch {
      if (res.status !== 400) throw new InvariantError(`a non-JSON body answered ${res.status}`, describe(req));
      return;
    }
    const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
    if (!isObject) {
      if (res.status !== 400) throw new InvariantError(`a non-object body answered ${res.status}`, describe(req));
      return;
    }
    // Pathological garbage (nesting thousands deep) may be refused as a bad request; a config-shaped body may not.
    if (res.status !== 200 && !(cfg.garbage && res.status === 400)) {
      throw new InvariantError(`a JSON object answered ${res.status}`, describe(req));
    }
    if (res.status !== 200) return;
    const ok = (res.body as { ok?: unknown }).ok;
    const expected = parseConfig(json);
    if (ok !== expected.ok)
      throw new InvariantError(`validate says ok=${String(ok)}, the contract ${expected.ok}`, describe(req));
    if (expected.ok)
      checkNoDrop(
        cfg,
        expected.value.mcpServers.map((s) => s.name),
        describe(req),
      );
  });

  const original = readFileSync(server.configPath, 'utf8');
  const rows = async () => {
    const res = await client.send({ method: 'GET', path: '/api/v1/servers' });
    return JSON.stringify(
      (res.body as { servers: { name: string; enabled: boolean; quarantined: boolean }[] }).servers.map((s) => [
        s.name,
        s.enabled,
        s.quarantined,
      ]),
    );
  };

  const reload = target(
    'config: a refused hot reload keeps the running config',
    configArb({ keepAccess: true }),
    async (cfg) => {
      const before = await rows();
      writeFileSync(server.configPath, cfg.text);
      const req: HttpRequest = { method: 'POST', path: '/api/v1/config/reload' };
      let broken: Error | undefined;
      try {
        const res = await client.send(req);
        ctx.stats?.outcome('config: a refused hot reload keeps the running config', outcomeOf(res));
        checkAnswer(res, req);
        const what = `reload of ${cfg.text.slice(0, 300)}`;
        if (res.status !== 200 && res.status !== 422) throw new InvariantError(`answered ${res.status}`, what);
        if (res.status === 422 && (await rows()) !== before) {
          throw new InvariantError('a refused reload changed the servers', what);
        }
      } catch (error) {
        broken = error as Error;
      }
      // Put the fixture back whatever happened, so the next input starts from the same config.
      writeFileSync(server.configPath, original);
      const back = await client.send(req);
      if (broken) throw broken;
      if (back.status !== 200)
        throw new Error(`restoring the config answered ${back.status} ${back.text.slice(0, 200)}`);
    },
  );

  return [load, validate, reload] as FuzzTarget<unknown>[];
}
