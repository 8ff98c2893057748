import { createRoute, z } from '@hono/zod-openapi';
import {
  ApproveToolsRequestSchema,
  BulkRequestSchema,
  BulkResultSchema,
  DiagnosticSchema,
  ProblemSchema,
  SecurityFindingSchema,
  SecurityFindingsResponseSchema,
  ServerConfigSchema,
  ServerHealthSchema,
  ServerSummarySchema,
  ServersResponseSchema,
  StatusResponseSchema,
  ToolCallRequestSchema,
  ToolInfoSchema,
  ToolSearchHitSchema,
} from '@mcpproxy/contracts';
import { jsonBody } from './body.js';

// Route definitions of /api/v1 (docs/rest.md). The OpenAPI document is generated from these; handlers live in app.ts.
// Contract schemas are named with zod's own `.meta({id})` (not `.openapi()`, which needs zod's prototype patched by
// @hono/zod-openapi, and the contracts may hold another copy of zod); both become `components.schemas` entries.

const Problem = ProblemSchema.meta({ id: 'Problem' });
const ServerSummary = ServerSummarySchema.meta({ id: 'ServerSummary' });
const ServerEntry = ServerConfigSchema.meta({ id: 'ServerConfig' });

/**
 * A PATCH body (RFC 7396 merge patch): any fields of a server entry, none defaulted (a missing field keeps its
 * value, `null` removes it). `name` may be repeated but not changed.
 */
export const ServerPatchSchema = z
  .strictObject(
    Object.fromEntries(
      Object.entries(ServerConfigSchema.shape).map(([key, schema]) => {
        // Duck-typed rather than `instanceof`: the contracts may hold another copy of zod (e.g. under vitest).
        const def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
        const inner = def.type === 'default' && def.innerType ? def.innerType : (schema as unknown as z.ZodType);
        // `null` removes a key (RFC 7396 merge patch); `name` may only be repeated.
        return [key, key === 'name' ? inner.optional() : inner.nullable().optional()];
      }),
    ) as Record<string, z.ZodType>,
  )
  .openapi('ServerPatch');

/** A masked config entry or config: secrets are `"***"`. */
const MaskedConfig = z.record(z.string(), z.unknown()).openapi('MaskedConfig');

const ServerDetail = z.object({ summary: ServerSummary, config: MaskedConfig }).openapi('ServerDetail');
const CallResult = z
  .looseObject({
    content: z.array(z.unknown()),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    isError: z.boolean().optional(),
  })
  .openapi('ToolCallResult');
const ValidateResult = z
  .object({
    ok: z.boolean(),
    issues: z.array(z.object({ path: z.string(), rule: z.string(), message: z.string() })),
  })
  .openapi('ConfigValidation');

const NameParam = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'github' }),
});

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const jsonBodyOf = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { 'application/json': { schema } },
});

const common = {
  401: problem('UNAUTHORIZED: missing or wrong API key'),
  403: problem('FORBIDDEN_ORIGIN, READ_ONLY or MANAGEMENT_DISABLED'),
  500: problem('INTERNAL'),
} as const;
const writeErrors = {
  ...common,
  400: problem('BAD_REQUEST: the body or a parameter is invalid'),
  404: problem('NOT_FOUND: no such server'),
  409: problem('CONFLICT: the config changed on disk, or the name is taken'),
  413: problem('PAYLOAD_TOO_LARGE: the body is over 4 MiB'),
  422: problem('INVALID_CONFIG: the resulting config does not validate'),
} as const;
/** HTTP 415 is `BAD_REQUEST` with a precise status: the API has no media-type code (see the README). */
const unsupportedMedia = {
  415: problem('BAD_REQUEST (HTTP 415): the body is not JSON; send Content-Type: application/json'),
} as const;
const bodyErrors = { ...writeErrors, ...unsupportedMedia } as const;

export const statusRoute = createRoute({
  method: 'get',
  path: '/status',
  tags: ['status'],
  summary: 'Process state and server counts',
  responses: { 200: json(StatusResponseSchema.meta({ id: 'Status' }), 'The status'), ...common },
});

export const listServersRoute = createRoute({
  method: 'get',
  path: '/servers',
  tags: ['servers'],
  summary: 'Every server (from the read model; never waits on upstreams)',
  responses: {
    200: json(ServersResponseSchema.meta({ id: 'Servers' }), 'Every server, ordered by name'),
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
    ...common,
  },
});

export const addServerRoute = createRoute({
  method: 'post',
  path: '/servers',
  tags: ['servers'],
  summary: 'Add a server (quarantined when quarantine_enabled)',
  middleware: [jsonBody(true)],
  request: { body: jsonBodyOf(ServerEntry, true) },
  responses: { 201: json(ServerSummary, 'The new server'), ...bodyErrors },
});

export const getServerRoute = createRoute({
  method: 'get',
  path: '/servers/{name}',
  tags: ['servers'],
  summary: 'One server: its summary and masked config entry',
  request: { params: NameParam },
  responses: { 200: json(ServerDetail, 'The server'), 404: problem('NOT_FOUND'), ...common },
});

export const patchServerRoute = createRoute({
  method: 'patch',
  path: '/servers/{name}',
  tags: ['servers'],
  summary: 'Change fields of a server entry (objects merged, arrays and scalars replaced)',
  middleware: [jsonBody(true)],
  request: { params: NameParam, body: jsonBodyOf(ServerPatchSchema, true) },
  responses: { 200: json(ServerSummary, 'The updated server'), ...bodyErrors },
});

export const deleteServerRoute = createRoute({
  method: 'delete',
  path: '/servers/{name}',
  tags: ['servers'],
  summary: 'Remove a server',
  request: { params: NameParam },
  responses: { 204: { description: 'Removed' }, ...writeErrors },
});

export const SERVER_ACTIONS = ['enable', 'disable', 'restart', 'quarantine', 'unquarantine'] as const;
export type ServerAction = (typeof SERVER_ACTIONS)[number];

export const serverActionRoute = (action: ServerAction) =>
  createRoute({
    method: 'post',
    path: `/servers/{name}/${action}`,
    tags: ['servers'],
    summary: `${action[0]?.toUpperCase()}${action.slice(1)} a server`,
    request: { params: NameParam },
    responses: { 200: json(ServerSummary, 'The server after the change'), ...writeErrors },
  });

export const BULK_ACTIONS = ['enable_all', 'disable_all', 'restart_all'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export const bulkRoute = (action: BulkAction) =>
  createRoute({
    method: 'post',
    path: `/servers/${action}`,
    tags: ['servers'],
    summary: `${action.replace('_', ' ')} servers (of one group when given); continues past failures`,
    middleware: [jsonBody(false)],
    request: { body: jsonBodyOf(BulkRequestSchema.meta({ id: 'BulkRequest' }), false) },
    responses: { 200: json(BulkResultSchema.meta({ id: 'BulkResult' }), 'Per-server results'), ...bodyErrors },
  });

export const serverToolsRoute = createRoute({
  method: 'get',
  path: '/servers/{name}/tools',
  tags: ['tools'],
  summary: "A server's tools with their pinning state",
  request: { params: NameParam },
  responses: {
    200: json(z.object({ tools: z.array(ToolInfoSchema.meta({ id: 'ToolInfo' })) }), 'The tools'),
    404: problem('NOT_FOUND'),
    ...common,
  },
});

export const approveToolsRoute = createRoute({
  method: 'post',
  path: '/servers/{name}/tools/approve',
  tags: ['tools'],
  summary: 'Approve tools (all pending and changed when `tools` is omitted)',
  middleware: [jsonBody(false)],
  request: {
    params: NameParam,
    body: jsonBodyOf(ApproveToolsRequestSchema.meta({ id: 'ApproveToolsRequest' }), false),
  },
  responses: {
    200: json(z.object({ approved: z.array(z.string()) }), 'The tools whose state changed'),
    ...bodyErrors,
  },
});

const SecurityFindings = SecurityFindingsResponseSchema.extend({
  results: z.array(SecurityFindingSchema.meta({ id: 'SecurityFinding' })),
}).meta({ id: 'SecurityFindings' });

export const scanServerRoute = createRoute({
  method: 'post',
  path: '/servers/{name}/scan',
  tags: ['security'],
  summary:
    "Scan a server's tools again with the tool scanner (every tool's result; approved tools that now block are held)",
  request: { params: NameParam },
  responses: {
    200: json(SecurityFindings, 'Every tool of the server with its verdict and findings'),
    404: problem('NOT_FOUND: no such server'),
    ...common,
  },
});

const PromptInfo = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    arguments: z.unknown().optional(),
    hash: z.string(),
    approval: z.enum(['approved', 'pending', 'changed']),
    approved_hash: z.string().optional(),
  })
  .openapi('PromptInfo');

export const serverPromptsRoute = createRoute({
  method: 'get',
  path: '/servers/{name}/prompts',
  tags: ['security'],
  summary:
    "A server's prompts as last listed through /mcp/servers/{name}, with their pinning state (empty before any prompts/list)",
  request: { params: NameParam },
  responses: {
    200: json(z.object({ prompts: z.array(PromptInfo) }), 'The prompts'),
    404: problem('NOT_FOUND'),
    ...common,
  },
});

export const approvePromptsRoute = createRoute({
  method: 'post',
  path: '/servers/{name}/prompts/approve',
  tags: ['security'],
  summary: 'Approve prompts (all pending and changed when `prompts` is omitted)',
  middleware: [jsonBody(false)],
  request: {
    params: NameParam,
    body: jsonBodyOf(
      z.strictObject({ prompts: z.array(z.string().min(1)).optional() }).openapi('ApprovePromptsRequest'),
      false,
    ),
  },
  responses: {
    200: json(z.object({ approved: z.array(z.string()) }), 'The prompts whose state changed'),
    ...bodyErrors,
  },
});

export const securityFindingsRoute = createRoute({
  method: 'get',
  path: '/security/findings',
  tags: ['security'],
  summary: 'Every current tool definition the tool scanner has findings on, across servers',
  responses: { 200: json(SecurityFindings, 'The tools with findings'), ...common },
});

export const serverHealthRoute = createRoute({
  method: 'get',
  path: '/servers/{name}/health',
  tags: ['servers'],
  summary: "A server's health: state, circuit, last ping, stderr tail",
  request: { params: NameParam },
  responses: {
    200: json(ServerHealthSchema.meta({ id: 'ServerHealth' }), 'The health'),
    404: problem('NOT_FOUND'),
    ...common,
  },
});

export const diagnosticsRoute = createRoute({
  method: 'get',
  path: '/diagnostics',
  tags: ['status'],
  summary: 'Findings with fixes (missing commands, timeouts, quarantine, changed tools…)',
  responses: {
    200: json(z.object({ diagnostics: z.array(DiagnosticSchema.meta({ id: 'Diagnostic' })) }), 'The findings'),
    ...common,
  },
});

export const searchToolsRoute = createRoute({
  method: 'get',
  path: '/tools',
  tags: ['tools'],
  summary: 'Search callable tools (BM25); a blank query finds nothing',
  request: {
    query: z.object({
      q: z.string().optional().openapi({ example: 'echo' }),
      limit: z.coerce.number().int().min(1).max(100).optional().openapi({ example: 15 }),
    }),
  },
  responses: {
    200: json(z.object({ tools: z.array(ToolSearchHitSchema.meta({ id: 'ToolSearchHit' })) }), 'The hits, best first'),
    400: problem('BAD_REQUEST'),
    404: problem('NOT_FOUND: search is off (features.enable_search)'),
    ...common,
  },
});

export const callToolRoute = createRoute({
  method: 'post',
  path: '/tools/call',
  tags: ['tools'],
  summary: 'Call an upstream tool as "server:tool"',
  middleware: [jsonBody(true)],
  request: { body: jsonBodyOf(ToolCallRequestSchema.meta({ id: 'ToolCallRequest' }), true) },
  responses: {
    200: json(CallResult, 'The upstream result, as sent (isError results included)'),
    ...bodyErrors,
    403: problem(
      'FORBIDDEN_ORIGIN, or TOOL_BLOCKED: the tool is pending, changed or held by the tool scanner until a person approves it (the detail says which)',
    ),
    503: problem('CIRCUIT_OPEN or UPSTREAM_UNAVAILABLE'),
    504: problem('UPSTREAM_TIMEOUT'),
  },
});

export const getConfigRoute = createRoute({
  method: 'get',
  path: '/config',
  tags: ['config'],
  summary: 'The effective config with secrets masked',
  responses: { 200: json(MaskedConfig, 'The config (durations in ms)'), ...common },
});

/**
 * The body of `POST /config/validate`: any JSON object, passed on as parsed. Not a `z.record`, which copies the
 * object key by key and so turns an own `"__proto__"` key into a prototype change: validate would then say ok for a
 * file the loader refuses (unknown key).
 */
const ConfigInputBody = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return;
    ctx.addIssue({ code: 'invalid_type', expected: 'record', input: v, message: 'must be a JSON object' });
  })
  .openapi('ConfigInput', { type: 'object', additionalProperties: {} });

export const validateConfigRoute = createRoute({
  method: 'post',
  path: '/config/validate',
  tags: ['config'],
  summary: 'Validate a config without applying it',
  middleware: [jsonBody(true)],
  request: { body: jsonBodyOf(ConfigInputBody, true) },
  responses: {
    200: json(ValidateResult, 'Whether it is valid, and every issue'),
    ...common,
    400: problem('BAD_REQUEST'),
    413: problem('PAYLOAD_TOO_LARGE: the body is over 4 MiB'),
    ...unsupportedMedia,
  },
});

export const reloadConfigRoute = createRoute({
  method: 'post',
  path: '/config/reload',
  tags: ['config'],
  summary: 'Re-read the config file now',
  responses: {
    200: json(z.object({ ok: z.literal(true), config: MaskedConfig }), 'The reloaded config, masked'),
    ...common,
    422: problem('INVALID_CONFIG: the file does not validate; the last good config stays'),
  },
});
