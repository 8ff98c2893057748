import type { ActivityLog } from '@mcpproxy/activity';
import type { ConfigService } from '@mcpproxy/configsvc';
import type { Logger, ServerConfigInput, ToolInfo } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import {
  type Caller,
  ManagementError,
  type ManagementService,
  type OperationName,
  toManagementError,
} from '@mcpproxy/management';
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { callSignal } from './direct-dispatch.js';
import { answerInvalidParams } from './invalid-params.js';

/** What the `/mcp` tool set (and `serve --stdio`) needs. */
export interface SearchToolsDeps {
  management: ManagementService;
  config: Pick<ConfigService, 'snapshot'>;
  bus: Pick<EventBus, 'subscribe'>;
  logger: Logger;
  version: string;
  /** The tool scanner: adds each tool's verdict and findings to `inspect_tools`. @default none */
  scanner?: ToolAnnotator | undefined;
  /** The activity log: `tools_stat` adds each tool's last 24 hours from it (survives restarts). @default none */
  activity?: Pick<ActivityLog, 'stats'> | undefined;
}

/** Adds the tool scanner's verdict and findings to tool rows. */
export interface ToolAnnotator {
  annotate(tools: readonly ToolInfo[]): ToolInfo[];
}

const CALLER: Caller = { source: 'mcp' };

/** `upstream_servers` operations and the management operation each one runs (`undefined` = a read). */
export const UPSTREAM_OPERATIONS = {
  list: undefined,
  add: 'addServer',
  remove: 'removeServer',
  update: 'updateServer',
  enable: 'enableServer',
  disable: 'disableServer',
  restart: 'restartServer',
} as const satisfies Record<string, OperationName | undefined>;

/** `quarantine_security` operations; it can never unquarantine or approve (those are human-only). */
export const QUARANTINE_OPERATIONS = {
  list_quarantined: undefined,
  inspect_quarantined: undefined,
  inspect_tools: undefined,
  quarantine_server: 'quarantineServer',
  // Listed so an agent that tries is told plainly that approving is human-only (HUMAN_ONLY); it reaches no
  // management operation at all, so no gate change can ever make it approve.
  approve_tools: undefined,
} as const satisfies Record<string, OperationName | undefined>;

/**
 * Whether a management tool is listed: at least one of its write operations is allowed for an agent now. Its reads
 * alone do not keep it listed: with `read_only_mode` or `disable_management` the management tools disappear
 * (docs/mcp.md), and the reads stay available to people over REST and the CLI.
 */
export function toolAllowed(
  management: Pick<ManagementService, 'allowed'>,
  operations: Record<string, OperationName | undefined>,
): boolean {
  return Object.values(operations).some((op) => op !== undefined && management.allowed(op, CALLER));
}

const text = (value: unknown): CallToolResult => {
  const structured =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { result: value };
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: structured };
};

/** An error as an MCP tool result an agent can read: `CODE: message` (plus validation issues). */
export function errorResult(error: unknown): CallToolResult {
  const e = toManagementError(error);
  const issues = e.issues?.length
    ? `\n${e.issues.map((i) => `- ${i.path || '(entry)'}: ${i.message}`).join('\n')}`
    : '';
  return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}${issues}` }] };
}

/** Fields of a config entry an agent may give to `add` / `update` (docs/configuration.md); the service validates them. */
const serverFields = {
  name: z.string().optional().describe('Server name: letters, digits, "-", "_" or "." (no ":" or "__"); ≤ 64'),
  protocol: z
    .enum(['stdio', 'http', 'streamable-http', 'sse', 'auto'])
    .optional()
    .describe('Transport; default auto (stdio when command is set, else Streamable HTTP falling back to SSE)'),
  command: z.string().optional().describe('stdio: the program to run (no shell)'),
  args: z.array(z.string()).optional().describe('stdio: its arguments'),
  env: z.record(z.string(), z.string().nullable()).optional().describe('stdio: extra environment variables'),
  working_dir: z.string().optional().describe('stdio: working directory'),
  url: z.string().optional().describe('http/sse: the endpoint URL'),
  headers: z.record(z.string(), z.string().nullable()).optional().describe('http/sse: request headers'),
  groups: z.array(z.string()).optional().describe('Group names for bulk operations'),
  enabled: z.boolean().optional(),
  init_timeout: z.union([z.string(), z.number()]).optional().describe('e.g. "30s"'),
  health_check_interval: z.union([z.string(), z.number()]).optional(),
};

/**
 * Builds one MCP server with the `/mcp` tool set: `retrieve_tools`, `call_tool`, `upstream_servers`,
 * `quarantine_security` and `tools_stat`. Management tools are enabled/disabled as the gates change (the SDK then
 * sends `notifications/tools/list_changed`). `signal` (the session's) aborts every upstream call made for it.
 */
export function createSearchServer(
  { management, config, bus, logger, version, scanner, activity }: SearchToolsDeps,
  signal?: AbortSignal,
): { server: McpServer; close(): Promise<void> } {
  const server = new McpServer(
    { name: 'mcpproxy', version },
    {
      // No `capabilities` here: declared in the constructor, the SDK would install its tool handlers at once, before
      // answerInvalidParams can wrap them; the first registerTool installs them and declares tools.listChanged.
      instructions:
        'mcpproxy fronts many MCP servers. Find a tool with retrieve_tools (describe the task in words), then run ' +
        'it with call_tool using the exact "server:tool" name and arguments matching its inputSchema.',
    },
  );
  answerInvalidParams(server.server);
  const limitMax = 100;

  server.registerTool(
    'retrieve_tools',
    {
      title: 'Find upstream tools',
      description:
        'Search the tools of every connected upstream MCP server by describing what you want to do ' +
        '(e.g. "list files in a folder", "echo a message back"). Returns the best matches, best first, each with ' +
        '`name` ("server:tool" — pass it to call_tool as is), `description`, `inputSchema` (the arguments call_tool ' +
        'expects) and a relevance `score`. Call this before call_tool; only tools that are approved and whose ' +
        'server is ready are returned.',
      inputSchema: {
        query: z.string().min(1).describe('What you want to do, in plain words'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(limitMax)
          .optional()
          .describe(`How many tools to return (1–${limitMax}; default from the proxy config, usually 15)`),
      },
    },
    async ({ query, limit }) => {
      const hits = management.searchTools(query, { limit: limit ?? config.snapshot().tools_limit });
      return text({
        tools: hits.map((h) => ({
          name: h.name,
          description: h.description ?? '',
          inputSchema: h.inputSchema ?? { type: 'object' },
          score: h.score,
        })),
      });
    },
  );

  server.registerTool(
    'call_tool',
    {
      title: 'Call an upstream tool',
      description:
        'Run one upstream tool found with retrieve_tools. `name` is the exact "server:tool" name it returned; ' +
        "`args` is an object matching that tool's inputSchema. The upstream result is returned unchanged. A failed " +
        'call returns isError with a message that starts with a code: NOT_FOUND (no such server or tool — search ' +
        'again), TOOL_BLOCKED (the tool is pending, changed or flagged by the tool scanner until a person approves ' +
        'it — do not retry; tell the user), CIRCUIT_OPEN or UPSTREAM_UNAVAILABLE (the server is failing ' +
        'or down — try later or another tool), UPSTREAM_TIMEOUT (it took too long).',
      inputSchema: {
        name: z.string().min(3).describe('"server:tool", exactly as retrieve_tools returned it'),
        args: z.record(z.string(), z.unknown()).optional().describe("The tool's arguments (an object); default {}"),
      },
    },
    async ({ name, args }, extra) => {
      try {
        const client = server.server.getClientVersion();
        const result = await management.callTool(name, args ?? {}, {
          signal: callSignal(signal, extra.signal),
          origin: {
            surface: 'mcp',
            session: extra.sessionId,
            client: { name: client?.name, version: client?.version },
          },
        });
        return result as CallToolResult;
      } catch (error) {
        return errorResult(error);
      }
    },
  );

  const upstream = server.registerTool(
    'upstream_servers',
    {
      title: 'Manage upstream servers',
      description:
        'List and manage the upstream MCP servers behind this proxy. operation: "list" (every server with its ' +
        'state, circuit and tool count), "add" (name plus command/args/env for stdio, or url/headers for HTTP; a ' +
        'server you add is ALWAYS quarantined: nothing runs until a person approves it in the dashboard, CLI or REST ' +
        'API — tell the user), "update" (name plus the fields to change; changing how it is started or reached puts ' +
        'it back in quarantine), "remove", "enable", "disable", "restart" (each with name). Errors start with a code ' +
        '(NOT_FOUND, CONFLICT, INVALID_CONFIG with the bad fields, READ_ONLY, MANAGEMENT_DISABLED).',
      inputSchema: {
        operation: z.enum(Object.keys(UPSTREAM_OPERATIONS) as [keyof typeof UPSTREAM_OPERATIONS]),
        ...serverFields,
      },
    },
    async ({ operation, name, ...fields }) => {
      try {
        if (operation === 'list') return text({ servers: management.listServers() });
        if (!name)
          return errorResult(new ManagementError('BAD_REQUEST', `operation "${operation}" needs a server name`));
        switch (operation) {
          case 'add': {
            const summary = await management.addServer({ name, ...fields } as ServerConfigInput, CALLER);
            return text({
              server: summary,
              note: 'The server is quarantined: it will not run until a person approves it (dashboard, `mcpproxy upstream unquarantine NAME`, or POST /api/v1/servers/NAME/unquarantine).',
            });
          }
          case 'update':
            return text({ server: await management.updateServer(name, fields as Partial<ServerConfigInput>, CALLER) });
          case 'remove':
            await management.removeServer(name, CALLER);
            return text({ removed: name });
          case 'enable':
            return text({ server: await management.enableServer(name, CALLER) });
          case 'disable':
            return text({ server: await management.disableServer(name, CALLER) });
          case 'restart':
            return text({ server: await management.restartServer(name, CALLER) });
        }
      } catch (error) {
        return errorResult(error);
      }
    },
  );

  const quarantine = server.registerTool(
    'quarantine_security',
    {
      title: 'Review quarantined servers and tools',
      description:
        'Security review of upstream servers. operation: "list_quarantined" (servers waiting for a person\'s ' +
        'approval), "inspect_quarantined" (name: what a quarantined server would run or reach — its config with ' +
        'secrets masked), "inspect_tools" (name: every tool of a server with its approval state: approved, pending ' +
        "(new) or changed (its definition changed since approval — a possible rug pull) and the tool scanner's " +
        'verdict (block, review, clean) and findings (check, tier, threat, evidence) — a blocked tool cannot be ' +
        'called), "quarantine_server" (name: stop a server and put it back in quarantine if it looks malicious). ' +
        'Approving a server or a tool is for people only (dashboard, CLI, REST): "approve_tools" always answers ' +
        'HUMAN_ONLY.',
      inputSchema: {
        operation: z.enum(Object.keys(QUARANTINE_OPERATIONS) as [keyof typeof QUARANTINE_OPERATIONS]),
        name: z.string().optional().describe('Server name (all operations but list_quarantined)'),
      },
    },
    async ({ operation, name }) => {
      try {
        if (operation === 'list_quarantined') {
          return text({ servers: management.listServers().filter((s) => s.quarantined || s.state === 'quarantined') });
        }
        if (!name)
          return errorResult(new ManagementError('BAD_REQUEST', `operation "${operation}" needs a server name`));
        switch (operation) {
          case 'inspect_quarantined': {
            const detail = management.getServer(name);
            return text({ summary: detail.summary, config: detail.config });
          }
          case 'inspect_tools': {
            const tools = management.getServerTools(name);
            return text({ server: name, tools: scanner ? scanner.annotate(tools) : tools });
          }
          case 'approve_tools':
            return errorResult(
              new ManagementError(
                'HUMAN_ONLY',
                'approving tools is human-only: a person approves them in the dashboard, with `mcpproxy upstream approve`, or over REST',
              ),
            );
          case 'quarantine_server':
            return text({ server: await management.quarantineServer(name, CALLER) });
        }
      } catch (error) {
        return errorResult(error);
      }
    },
  );

  server.registerTool(
    'tools_stat',
    {
      title: 'Tool call statistics',
      description:
        'Call statistics per upstream tool ("server:tool"): calls, errors, timeouts, rejected calls, total time and ' +
        'the last call, since the proxy started; `last_24h` adds calls, errors and p50/p95 duration per tool over ' +
        'the last 24 hours from the activity log. Use it to pick reliable tools or to see what failed.',
      inputSchema: {},
    },
    async () => {
      let last24h: unknown[] | undefined;
      try {
        last24h = (await activity?.stats({ groupBy: 'tool', window: '24h', bucket: '24h' }))?.groups.map(
          ({ buckets: _b, ...figures }) => figures,
        );
      } catch (error) {
        logger.warn('tools_stat: reading the activity log failed', { error: String(error) });
      }
      return text(last24h ? { tools: management.toolStats(), last_24h: last24h } : { tools: management.toolStats() });
    },
  );

  const gated: [RegisteredTool, Record<string, OperationName | undefined>][] = [
    [upstream, UPSTREAM_OPERATIONS],
    [quarantine, QUARANTINE_OPERATIONS],
  ];
  const applyGates = () => {
    for (const [tool, ops] of gated) {
      const allowed = toolAllowed(management, ops);
      if (allowed !== tool.enabled) {
        // enable()/disable() send notifications/tools/list_changed when connected.
        if (allowed) tool.enable();
        else tool.disable();
        logger.debug('mcp management tool visibility changed', { tool: String(tool.title), listed: allowed });
      }
    }
  };
  applyGates();
  const off = bus.subscribe('config_reloaded', () => {
    try {
      applyGates();
    } catch (error) {
      logger.warn('mcp gate re-evaluation failed', { error: String(error) });
    }
  });

  return {
    server,
    async close() {
      off();
      await server.close().catch(() => {});
    },
  };
}
