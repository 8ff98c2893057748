/**
 * Writes `docs/rest.md` from the OpenAPI document the server serves at `/api/v1/openapi.json`, so the REST
 * reference is the route schemas themselves, not a second description of them. Not part of the package's API:
 * run it with `pnpm --filter @mcpproxy/server run docs`; `test/docs.test.ts` fails when the file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultConfig, ERROR_STATUS, type ErrorCode } from '@mcpproxy/contracts';
import { createHttpApp } from './app.js';
import { createSecurity } from './security.js';

/** Where the generated reference lives, from the repository root. */
export const REST_DOC_PATH = fileURLToPath(new URL('../../../docs/rest.md', import.meta.url));

/** The command that regenerates it. */
export const REST_DOC_COMMAND = 'pnpm --filter @mcpproxy/server run docs';

/** What each API error code means to a client; the type makes a new code fail to compile until it is described. */
export const ERROR_MEANINGS: Readonly<Record<ErrorCode, string>> = {
  BAD_REQUEST:
    'the body, a query or path parameter, or a live-endpoint query is invalid; `issues` names each path and rule. A body that is not JSON gets this code with HTTP 415',
  UNAUTHORIZED:
    'the API key is missing or wrong (required when `api_key` is set, and always off loopback); the answer carries `WWW-Authenticate: Bearer`',
  FORBIDDEN_ORIGIN:
    "the `Host` header does not name this server, or the `Origin` is neither the server's own nor in `allowed_origins`",
  READ_ONLY: '`read_only_mode` is on and the operation would change the config',
  MANAGEMENT_DISABLED: '`disable_management` is on and the operation is a management write',
  HUMAN_ONLY:
    'an operation only a person may do (unquarantine, approve tools, change `enabled_tools`/`disabled_tools`) was tried by an agent over MCP',
  TOOL_BLOCKED:
    "the tool is `pending` (new, or held by the tool scanner's hard finding) or `changed` since its approval, and needs a person's approval; the detail says which",
  NOT_FOUND:
    'no such server, tool or route; a tool filtered out by `enabled_tools`/`disabled_tools`; a route whose feature is off',
  CONFLICT:
    'the config file changed on disk since it was read (nothing written; retry), a server name is taken, or the server is quarantined or disabled',
  PAYLOAD_TOO_LARGE: 'the request body is over 4 MiB',
  INVALID_CONFIG:
    'the change, or the file on reload, does not validate; `issues` names each path and rule; nothing applied',
  INTERNAL: 'an unexpected failure (logged with the request id); the detail is generic',
  CIRCUIT_OPEN: "the server's circuit breaker is open; the upstream was not contacted",
  UPSTREAM_UNAVAILABLE: 'the server is not `ready`, or its connection or the call failed',
  UPSTREAM_TIMEOUT: 'the call passed `call_tool_timeout` (or the connection `init_timeout`)',
};

// ---------------------------------------------------------------- the OpenAPI document

type Json = Record<string, unknown>;

/** Builds the HTTP app the server runs (collaborators the document never touches are left out) and asks it. */
export async function openApiDocument(): Promise<Json> {
  const config = defaultConfig();
  const app = createHttpApp({
    // The document is built from the route definitions alone; no handler runs, so these are never called.
    management: {} as never,
    view: {} as never,
    bus: {} as never,
    broadcaster: {} as never,
    config: { snapshot: () => config, reload: async () => config },
    security: createSecurity({ address: () => ({ host: '127.0.0.1', port: 8080 }), apiKey: () => undefined }),
  });
  const res = await app.request('http://127.0.0.1:8080/api/v1/openapi.json');
  if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.status}`);
  return (await res.json()) as Json;
}

// ---------------------------------------------------------------- rendering

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const refName = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);
const link = (name: string): string => `[${name}](#${name.toLowerCase()})`;

/** Component schemas by their JSON text, so an inlined copy of a named schema is shown by its name. */
let named = new Map<string, string>();

const isAny = (schema: Json): boolean => Object.keys(schema).every((k) => k === 'nullable' || k === 'description');

/** A schema as a short type expression: `ServerSummary[]`, `"a" | "b"`, `{ok, issues}`, `object of string`. */
export function typeOf(schema: Json | undefined): string {
  if (!schema || isAny(schema)) return 'any';
  if (typeof schema.$ref === 'string') return link(refName(schema.$ref));
  const name = named.get(JSON.stringify(schema));
  if (name) return link(name);
  const enumValues = Array.isArray(schema.enum) ? (schema.enum as unknown[]) : undefined;
  const nullable = schema.nullable === true && !enumValues?.includes(null) ? ' or null' : '';
  const alts = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (alts) {
    const parts = alts.map((a) => (isAny(a) && a.nullable === true ? 'null' : typeOf(a)));
    return `${[...new Set(parts)].join(' or ')}${nullable}`;
  }
  if (enumValues) return `${enumValues.map((v) => JSON.stringify(v)).join(' | ')}${nullable}`;
  const type = Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type as string | undefined);
  if (type === 'array') return `${typeOf(schema.items as Json | undefined)}[]${nullable}`;
  if (type === 'object' || schema.properties) {
    const props = schema.properties as Record<string, Json> | undefined;
    if (props && Object.keys(props).length > 0) {
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const fields = Object.entries(props).map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${typeOf(v)}`);
      return `{${fields.join(', ')}}${nullable}`;
    }
    const extra = schema.additionalProperties;
    if (extra && typeof extra === 'object') return `object of ${typeOf(extra as Json)}${nullable}`;
    return `object${nullable}`;
  }
  return `${type ?? 'any'}${nullable}`;
}

/** Constraints worth a reader's attention: default, bounds, pattern, example. */
function notes(schema: Json): string {
  const out: string[] = [];
  if (schema.default !== undefined) out.push(`default \`${JSON.stringify(schema.default)}\``);
  if (schema.minimum !== undefined) out.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) out.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) out.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) out.push(`length ≤ ${schema.maxLength}`);
  if (schema.minItems !== undefined) out.push(`≥ ${schema.minItems} items`);
  if (typeof schema.pattern === 'string') out.push(`pattern \`${schema.pattern}\``);
  if (schema.example !== undefined) out.push(`e.g. \`${JSON.stringify(schema.example)}\``);
  if (typeof schema.description === 'string') out.push(schema.description);
  return out.join('; ');
}

function contentLine(content: Record<string, { schema?: Json }> | undefined): string {
  if (!content) return '';
  return Object.entries(content)
    .map(([type, { schema }]) => `\`${type}\` ${typeOf(schema)}`)
    .join(', ');
}

function renderOperation(method: string, path: string, op: Json): string[] {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, '', `${op.summary ?? ''}`.trim(), ''];
  const params = (op.parameters as Json[] | undefined) ?? [];
  if (params.length > 0) {
    lines.push('| parameter | in | type | required | notes |', '|---|---|---|---|---|');
    for (const p of params) {
      const schema = (p.schema as Json | undefined) ?? {};
      lines.push(
        `| \`${p.name}\` | ${p.in} | ${cell(typeOf(schema))} | ${p.required ? 'yes' : 'no'} | ${cell(notes(schema))} |`,
      );
    }
    lines.push('');
  }
  const body = op.requestBody as { required?: boolean; content?: Record<string, { schema?: Json }> } | undefined;
  if (body) lines.push(`Body (${body.required ? 'required' : 'optional'}): ${contentLine(body.content)}`, '');
  const responses = Object.entries((op.responses as Record<string, Json> | undefined) ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  );
  // Problem answers share one schema; listing them on one line keeps each route readable.
  const isProblem = (r: Json) => Object.hasOwn((r.content as Json | undefined) ?? {}, 'application/problem+json');
  lines.push('| status | body | meaning |', '|---|---|---|');
  for (const [status, r] of responses.filter(([, r]) => !isProblem(r))) {
    const content = r.content as Record<string, { schema?: Json }> | undefined;
    lines.push(`| ${status} | ${cell(contentLine(content))} | ${cell(String(r.description ?? ''))} |`);
  }
  const errors = responses.filter(([, r]) => isProblem(r)).map(([status, r]) => `${status} ${r.description ?? ''}`);
  if (errors.length > 0) lines.push('', `Errors ([problem+json](#error-codes)): ${errors.join(' · ')}.`);
  lines.push('');
  return lines;
}

function renderSchema(name: string, schema: Json): string[] {
  const lines = [`### ${name}`, ''];
  const props = schema.properties as Record<string, Json> | undefined;
  if (!props || Object.keys(props).length === 0) {
    lines.push(`${typeOf(schema)}.`, '');
    return lines;
  }
  const required = new Set((schema.required as string[] | undefined) ?? []);
  lines.push('| field | type | required | notes |', '|---|---|---|---|');
  for (const [field, s] of Object.entries(props)) {
    lines.push(`| \`${field}\` | ${cell(typeOf(s))} | ${required.has(field) ? 'yes' : 'no'} | ${cell(notes(s))} |`);
  }
  if (schema.additionalProperties === false) lines.push('', 'Other fields are refused (`BAD_REQUEST`).');
  lines.push('');
  return lines;
}

const INTRO = `# REST API reference

<!-- Generated from the OpenAPI document served at /api/v1/openapi.json. Do not edit: run
     \`${REST_DOC_COMMAND}\`. apps/server/test/docs.test.ts fails when this file is stale. -->

Base URL \`http://127.0.0.1:8080/api/v1\` (see \`listen\` in [configuration](configuration.md)). Bodies are JSON; the
OpenAPI 3.0 document is \`GET /api/v1/openapi.json\`.

- **Authentication**: when \`api_key\` is set, send \`Authorization: Bearer KEY\`, \`X-API-Key: KEY\` or \`?apikey=KEY\`;
  without it the answer is 401. Requests must also carry a \`Host\` naming this server and, from a browser, an
  allowed \`Origin\` ([security](security.md)).
- **Errors** are RFC 9457 \`application/problem+json\`: \`{type, title, status, code, detail, instance?, request_id,
  issues?}\`; branch on \`code\` (table below), never on \`detail\`. \`instance\` is the route pattern that matched
  (\`/api/v1/servers/{name}\`); \`issues\` (\`{path, rule, message}\`) lists at most 100 problems.
- **Request ids**: every response carries \`X-Request-Id\`; a sane incoming one (\`[A-Za-z0-9._:@/+=-]{1,128}\`) is
  echoed, else a UUID is made. The same id is in the problem body and the log lines.
- **Bodies** are JSON (\`Content-Type: application/json\`); another media type gets 415, malformed or too deeply
  nested JSON 400 with the path, over 4 MiB 413. \`GET /servers\` carries an \`ETag\`; \`If-None-Match\` with it
  gets 304.
- **Reads** (\`GET /servers\`, \`/status\`, \`/servers/{name}\`) answer from the in-memory read model and never wait on
  an upstream.
- **Durations** in responses (\`GET /config\`) are milliseconds.

Outside \`/api/v1\`: \`GET /healthz\` (200 \`{status:"ok"}\`), \`GET /readyz\` (200, or 503 until the config is loaded and
the first reconcile is done, and while stopping; never waits on upstreams) — both open without a key and removed by
\`features.enable_health_checks: false\`; \`GET /metrics\` (Prometheus text, every series \`mcpproxy_*\`; behind the key);
\`GET /\` and \`GET /ui\` (302 to \`/ui/\`), \`GET /ui/\` (the dashboard, or a placeholder page when its build is not
installed; removed by \`features.enable_web_ui: false\`).
Live events: \`/events\`, \`/ws/events\`, \`/ws/servers\`, \`/ws/mcp-status\` ([live protocol](live.md)). MCP: \`/mcp\`,
\`/mcp/all\`, \`/mcp/servers/{name}\` ([MCP endpoints](mcp.md)).
`;

/** Renders the reference from an OpenAPI document. Pure, so the test can compare it with the file. */
export function renderRestDocs(doc: Json): string {
  const schemas = ((doc.components as Json | undefined)?.schemas as Record<string, Json> | undefined) ?? {};
  named = new Map(Object.entries(schemas).map(([name, schema]) => [JSON.stringify(schema), name]));
  const lines = [INTRO, '## Error codes', '', '| code | status | meaning |', '|---|---|---|'];
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    lines.push(`| \`${code}\` | ${status} | ${cell(ERROR_MEANINGS[code as ErrorCode])} |`);
  }
  lines.push('');

  const paths = (doc.paths as Record<string, Json> | undefined) ?? {};
  const ops: { method: string; path: string; op: Json }[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (op) ops.push({ method, path, op });
    }
  }
  lines.push('## Routes', '', '| method | path | summary |', '|---|---|---|');
  for (const { method, path, op } of ops) {
    const anchor = `${method}-${path}`.toLowerCase().replace(/[^a-z0-9 _-]/g, '');
    lines.push(`| ${method.toUpperCase()} | [\`${path}\`](#${anchor}) | ${cell(String(op.summary ?? ''))} |`);
  }
  lines.push('');
  for (const { method, path, op } of ops) lines.push(...renderOperation(method, path, op));

  lines.push('## Schemas', '');
  for (const [name, schema] of Object.entries(schemas)) {
    // A component is described by its own fields, not by a link to itself.
    named.delete(JSON.stringify(schema));
    lines.push(...renderSchema(name, schema));
    named.set(JSON.stringify(schema), name);
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

/** Regenerates `docs/rest.md`. */
export async function writeRestDocs(path = REST_DOC_PATH): Promise<void> {
  await writeFile(path, renderRestDocs(await openApiDocument()));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeRestDocs();
  process.stdout.write(`wrote ${REST_DOC_PATH}\n`);
}
