import { createRoute, z } from '@hono/zod-openapi';
import { ActivityError, type ActivityLog, ActivityRecordSchema } from '@mcpproxy/activity';
import { ProblemSchema } from '@mcpproxy/contracts';
import type { HttpApp } from './app.js';
import { ApiError } from './problems.js';

// `/api/v1/activity*` (docs/activity.md). Query strings are declared as strings here and validated by the activity
// log itself, so a malformed filter or cursor answers 400 BAD_REQUEST naming the field the library names.

const Problem = ProblemSchema.meta({ id: 'Problem' });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});
const common = {
  400: problem('BAD_REQUEST: a malformed filter, limit or cursor (the problem names the field)'),
  401: problem('UNAUTHORIZED: missing or wrong API key'),
  404: problem('NOT_FOUND: the activity log is off (`activity.enabled: false`) or no such record'),
  500: problem('INTERNAL'),
} as const;

const q = (description: string, example?: string) =>
  z
    .string()
    .optional()
    .openapi({ description, ...(example === undefined ? {} : { example }) });

const Filters = {
  server: q('Only this server'),
  tool: q('Only this tool'),
  status: q('ok | error | timeout | rejected | circuit_open | blocked'),
  session: q('Only this MCP session id'),
  client: q("Only this client name (from the client's initialize)"),
  kind: q('tool_call | lifecycle | management'),
  q: q('Whole words, in order, in the tool name, error or (masked, truncated) payload'),
  since: q('From this time (ISO 8601 or epoch ms), inclusive'),
  until: q('Before this time (ISO 8601 or epoch ms), exclusive'),
};

const ActivityRecord = ActivityRecordSchema.meta({ id: 'ActivityRecord' });
const ActivityPage = z
  .object({ records: z.array(ActivityRecord), next_cursor: z.string().nullable() })
  .openapi('ActivityPage');
const Figures = {
  calls: z.number().int(),
  errors: z.number().int(),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
};
const ActivityStats = z
  .object({
    group_by: z.enum(['server', 'tool']),
    since: z.string(),
    until: z.string(),
    window_ms: z.number(),
    bucket_ms: z.number(),
    groups: z.array(
      z.object({ key: z.string(), ...Figures, buckets: z.array(z.object({ start: z.string(), ...Figures })) }),
    ),
  })
  .openapi('ActivityStats');

export const listActivityRoute = createRoute({
  method: 'get',
  path: '/activity',
  tags: ['activity'],
  summary: 'Recorded tool calls, lifecycle steps and management actions, newest first (keyset pages)',
  request: {
    query: z.object({
      ...Filters,
      limit: q('1–1000, default 50'),
      cursor: q('`next_cursor` of the previous page'),
    }),
  },
  responses: { 200: { description: 'A page', content: { 'application/json': { schema: ActivityPage } } }, ...common },
});

export const activityStatsRoute = createRoute({
  method: 'get',
  path: '/activity/stats',
  tags: ['activity'],
  summary: 'Calls, errors and p50/p95 duration per server or per tool over a window, in buckets',
  request: {
    query: z.object({
      group_by: q('server | tool (default server)'),
      window: q('A duration, default 1h (at most 31d)', '1h'),
      bucket: q('Bucket width, default a twelfth of the window'),
      until: q('End of the window, default now'),
    }),
  },
  responses: {
    200: { description: 'The figures', content: { 'application/json': { schema: ActivityStats } } },
    ...common,
  },
});

export const exportActivityRoute = createRoute({
  method: 'get',
  path: '/activity/export',
  tags: ['activity'],
  summary: 'Every matching record, oldest first, streamed as NDJSON or CSV',
  request: { query: z.object({ ...Filters, format: q('ndjson (default) | csv') }) },
  responses: {
    200: {
      description: 'The records',
      content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
    },
    ...common,
  },
});

export const getActivityRoute = createRoute({
  method: 'get',
  path: '/activity/{id}',
  tags: ['activity'],
  summary: 'One record',
  request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '42' }) }) },
  responses: {
    200: { description: 'The record', content: { 'application/json': { schema: ActivityRecord } } },
    ...common,
  },
});

/** What the activity routes read. */
export interface ActivityRoutesDeps {
  /** The open log; without one every route answers 404 (the activity log is off). */
  log: ActivityLog | undefined;
}

/** The log's bad-input errors as 400 with the field; anything else as it is. */
function asApiError(error: unknown): unknown {
  if (error instanceof ActivityError) {
    if (error.code === 'ACTIVITY_INVALID_QUERY' || error.code === 'ACTIVITY_INVALID_CURSOR') {
      const field = error.field ?? 'query';
      return new ApiError('BAD_REQUEST', error.message, {
        cause: error,
        issues: [
          { path: field, rule: error.code === 'ACTIVITY_INVALID_CURSOR' ? 'cursor' : 'query', message: error.message },
        ],
      });
    }
    if (error.code === 'ACTIVITY_CLOSED') return new ApiError('UPSTREAM_UNAVAILABLE', 'the activity log is closed');
  }
  return error;
}

function required(log: ActivityLog | undefined): ActivityLog {
  if (!log) throw new ApiError('NOT_FOUND', 'the activity log is off (activity.enabled is false)');
  return log;
}

/** Mounts `GET /activity`, `/activity/stats`, `/activity/export` and `/activity/{id}` on the `/api/v1` app. */
export function mountActivityRoutes(api: HttpApp, { log }: ActivityRoutesDeps): void {
  api.openapi(listActivityRoute, (c) => {
    const active = required(log);
    try {
      c.req.valid('query');
      // The raw query, so an unknown parameter reaches the log's strict schema and is refused by name.
      return c.json(active.list(c.req.query()), 200);
    } catch (error) {
      throw asApiError(error);
    }
  });

  api.openapi(activityStatsRoute, async (c) => {
    const active = required(log);
    c.req.valid('query');
    const { group_by, ...rest } = c.req.query();
    try {
      const stats = await active.stats({
        ...rest,
        ...(group_by === undefined ? {} : { groupBy: group_by as 'server' }),
      });
      return c.json(stats, 200);
    } catch (error) {
      if (error instanceof ActivityError && error.field === 'groupBy') {
        throw new ApiError('BAD_REQUEST', 'group_by: must be "server" or "tool"', {
          issues: [{ path: 'group_by', rule: 'enum', message: 'must be "server" or "tool"' }],
        });
      }
      throw asApiError(error);
    }
  });

  api.openapi(exportActivityRoute, async (c) => {
    const active = required(log);
    c.req.valid('query');
    const query = c.req.query();
    // The first chunk is read before the headers go out, so a malformed filter still answers 400.
    let chunks: AsyncIterator<string>;
    let first: IteratorResult<string>;
    try {
      chunks = active.export(query)[Symbol.asyncIterator]();
      first = await chunks.next();
    } catch (error) {
      throw asApiError(error);
    }
    const encoder = new TextEncoder();
    let pending: IteratorResult<string> | undefined = first;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = pending ?? (await chunks.next());
          pending = undefined;
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    const csv = query.format === 'csv';
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="activity.${csv ? 'csv' : 'ndjson'}"`,
        'cache-control': 'no-store',
      },
    }) as never;
  });

  api.openapi(getActivityRoute, (c) => {
    const active = required(log);
    const raw = c.req.valid('param').id;
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ApiError('BAD_REQUEST', 'id: must be a positive integer', {
        issues: [{ path: 'id', rule: 'integer', message: 'must be a positive integer' }],
      });
    }
    const record = active.get(id);
    if (!record) throw new ApiError('NOT_FOUND', `no activity record ${id}`);
    return c.json(record, 200);
  });
}
