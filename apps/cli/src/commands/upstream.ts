import type { RestClient } from '@mcpproxy/client';
import type { BulkResult, ServerSummary, ToolInfo } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { action, Command, type Context, examples, withTarget } from '../context.js';
import { type Column, paint, renderTable, stateColor, useColor } from '../output.js';

/** The columns of a server row, shared with `watch`. */
export const SERVER_COLUMNS: readonly Column<ServerSummary>[] = [
  { header: 'NAME', value: (s) => s.name },
  { header: 'STATE', value: (s) => s.state, color: stateColor },
  { header: 'PROTOCOL', value: (s) => s.protocol },
  { header: 'TOOLS', value: (s) => String(s.tool_count) },
  { header: 'GROUPS', value: (s) => s.groups.join(',') || '-' },
  { header: 'NOTES', value: notesOf, flex: true, color: (_v, s) => (s.last_error ? 'red' : undefined) },
];

/** What needs a person's attention on a row: the error, tools to review, an open circuit. */
export function notesOf(s: ServerSummary): string {
  const notes: string[] = [];
  if (s.auto_disabled) notes.push(`auto-disabled: ${s.auto_disabled.reason}`);
  else if (s.last_error) notes.push(s.last_error);
  if (s.circuit !== 'closed') notes.push(`circuit ${s.circuit}`);
  if (s.pending_tools > 0) notes.push(`${s.pending_tools} pending tool(s)`);
  if (s.changed_tools > 0) notes.push(`${s.changed_tools} changed tool(s)`);
  if (s.retry_count > 0 && s.next_retry_at) notes.push(`retry #${s.retry_count} at ${s.next_retry_at}`);
  return notes.join('; ') || '-';
}

const BULK_COLUMNS: readonly Column<[string, { ok: boolean; error?: string | undefined }]>[] = [
  { header: 'NAME', value: ([name]) => name },
  { header: 'RESULT', value: ([, r]) => (r.ok ? 'ok' : 'failed'), color: stateColor },
  { header: 'ERROR', value: ([, r]) => r.error ?? '', flex: true },
];

/** Prints a bulk result (table plus summary line, or JSON) and returns the exit code: 1 when any failed. */
function printBulk(ctx: Context, verb: string, result: BulkResult): number {
  ctx.print(() => {
    const rows = Object.entries(result.results).sort(([a], [b]) => (a < b ? -1 : 1));
    const table = rows.length > 0 ? renderTable(rows, BULK_COLUMNS, ctx.io) : '';
    const color = useColor(ctx.io);
    const summary = `${verb}: ${paint(`${result.successful} succeeded`, 'green', color && result.successful > 0)}, ${paint(`${result.failed} failed`, 'red', color && result.failed > 0)} (of ${result.total})`;
    return `${table}${summary}\n`;
  }, result);
  return result.failed > 0 ? 1 : 0;
}

interface BulkFlags {
  all?: boolean | undefined;
  group?: string | undefined;
}

/** The name, or bulk flags — exactly one of them. */
function target(name: string | undefined, flags: BulkFlags, verb: string): string | undefined {
  if (name && (flags.all || flags.group)) {
    throw new CliError('USAGE', `give a server name or --all/--group, not both`, {
      hint: `e.g. \`mcpproxy upstream ${verb} github\` or \`mcpproxy upstream ${verb} --all\``,
    });
  }
  if (!name && !flags.all && !flags.group) {
    throw new CliError('USAGE', `which server? give a name, --all, or --group GROUP`, {
      hint: 'see the names with `mcpproxy upstream list`',
    });
  }
  return name;
}

/**
 * Runs `op` on every server (of `group`) one by one, as the server's bulk endpoints do for enable/disable/restart:
 * continues past failures, shows progress on a TTY, and returns the same result shape.
 */
async function clientBulk(
  ctx: Context,
  flags: BulkFlags,
  verb: string,
  op: (api: RestClient, name: string) => Promise<unknown>,
): Promise<BulkResult> {
  const api = ctx.api();
  const { servers } = await api.listServers();
  const chosen = servers.filter((s) => !flags.group || s.groups.includes(flags.group));
  const result: BulkResult = { total: chosen.length, successful: 0, failed: 0, results: {} };
  const progress = ctx.io.isTTY && ctx.flags.output === 'table';
  for (const [i, s] of chosen.entries()) {
    if (progress) ctx.io.stderr.write(`\r\x1b[2K${verb} ${i + 1}/${chosen.length}: ${s.name}`);
    try {
      await op(api, s.name);
      result.successful++;
      result.results[s.name] = { ok: true };
    } catch (error) {
      result.failed++;
      result.results[s.name] = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }
  if (progress) ctx.io.stderr.write('\r\x1b[2K');
  return result;
}

/** A one-server action that answers the new row. */
function printRow(ctx: Context, row: ServerSummary, verb: string): number {
  ctx.print(() => `${verb} ${row.name}: ${row.state}${row.quarantined ? ' (quarantined)' : ''}\n`, row);
  return 0;
}

const PAST = {
  enable: 'enabled',
  disable: 'disabled',
  restart: 'restarted',
  quarantine: 'quarantined',
  unquarantine: 'unquarantined',
} as const;

function serverAction(
  verb: 'enable' | 'disable' | 'restart' | 'quarantine' | 'unquarantine',
  describe: string,
  single: (api: RestClient, name: string) => Promise<ServerSummary>,
  bulk: (ctx: Context, flags: BulkFlags) => Promise<BulkResult>,
): Command {
  const command = withTarget(
    new Command(verb)
      .description(describe)
      .argument('[name]', 'the server')
      .option('--all', 'every server')
      .option('--group <group>', 'every server of this group'),
  ).action(
    action(async (ctx, name: string | undefined) => {
      const flags = ctx.flags as unknown as BulkFlags;
      const one = target(name, flags, verb);
      if (one) return printRow(ctx, await single(ctx.api(), one), PAST[verb]);
      return printBulk(ctx, verb, await bulk(ctx, flags));
    }),
  );
  return examples(command, [`mcpproxy upstream ${verb} github`, `mcpproxy upstream ${verb} --group dev -o json`]);
}

function parsePairs(list: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf(what === 'header' ? ':' : '=');
    const at = eq > 0 ? eq : item.indexOf('=');
    if (at <= 0) {
      throw new CliError('USAGE', `--${what} "${item}" is not ${what === 'header' ? 'NAME:VALUE' : 'KEY=VALUE'}`);
    }
    out[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return out;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addCommand(): Command {
  const command = withTarget(
    new Command('add')
      .description('add an upstream server (quarantined until you approve it with `upstream unquarantine`)')
      .argument('<name>', 'a name: letters, digits, "-", "_", "."')
      .argument('<command-or-url...>', 'the command and its arguments (stdio), or the URL (http/sse)')
      .option('--protocol <protocol>', 'stdio | http | streamable-http | sse | auto', 'auto')
      .option('--env <KEY=VALUE>', 'environment variable of a stdio server (repeatable)', collect, [])
      .option('--header <NAME:VALUE>', 'HTTP header of an http/sse server (repeatable)', collect, [])
      .option('--group <group>', 'a group (repeatable)', collect, [])
      .option('--working-dir <dir>', 'working directory of a stdio server')
      .option('--no-quarantine', 'start it right away (you vouch for it)'),
  ).action(
    action(async (ctx, name: string, rest: string[]) => {
      const flags = ctx.flags as unknown as {
        protocol: string;
        env: string[];
        header: string[];
        group: string[];
        workingDir?: string;
        quarantine: boolean;
      };
      const [first = '', ...args] = rest;
      const isUrl = /^https?:\/\//i.test(first);
      const entry: Record<string, unknown> = { name, protocol: flags.protocol };
      if (isUrl) {
        if (args.length > 0) throw new CliError('USAGE', 'a URL takes no further arguments');
        entry.url = first;
        if (flags.header.length > 0) entry.headers = parsePairs(flags.header, 'header');
      } else {
        entry.command = first;
        entry.args = args;
        if (flags.env.length > 0) entry.env = parsePairs(flags.env, 'env');
        if (flags.workingDir) entry.working_dir = flags.workingDir;
      }
      if (flags.group.length > 0) entry.groups = flags.group;
      if (!flags.quarantine) entry.quarantined = false;
      const row = await ctx.api().addServer(entry as never);
      ctx.print(
        () =>
          `added ${row.name}: ${row.state}\n${row.quarantined ? `  → review it, then approve it with \`mcpproxy upstream unquarantine ${row.name}\`\n` : ''}`,
        row,
      );
      return 0;
    }),
  );
  return examples(command, [
    'mcpproxy upstream add fs -- npx -y @modelcontextprotocol/server-filesystem /tmp',
    'mcpproxy upstream add github https://api.githubcopilot.com/mcp/ --header "Authorization: Bearer $TOKEN"',
    'mcpproxy upstream add memory --group dev -- npx -y @modelcontextprotocol/server-memory',
  ]);
}

const TOOL_COLUMNS: readonly Column<ToolInfo>[] = [
  { header: 'TOOL', value: (t) => t.name },
  { header: 'APPROVAL', value: (t) => t.approval, color: stateColor },
  {
    // The tool scanner's verdict; `block (approved)` when a person approved it over a blocking finding.
    header: 'SCAN',
    value: (t) => (t.verdict ? (t.overridden ? `${t.verdict} (approved)` : t.verdict) : '-'),
    color: (v) => (v === 'block' ? 'red' : v === 'review' || v.endsWith('(approved)') ? 'yellow' : undefined),
  },
  { header: 'DESCRIPTION', value: (t) => t.description ?? '', flex: true },
];

/** `mcpproxy upstream …` */
export function upstreamCommand(): Command {
  const upstream = new Command('upstream').description('list and manage upstream MCP servers');

  upstream.addCommand(
    examples(
      withTarget(new Command('list').description('every server with its state')).action(
        action(async (ctx) => {
          const body = await ctx.api().listServers();
          ctx.print(
            () => (body.servers.length ? renderTable(body.servers, SERVER_COLUMNS, ctx.io) : 'no servers\n'),
            body,
          );
          return 0;
        }),
      ),
      ['mcpproxy upstream list', 'mcpproxy upstream list -o json | jq ".servers[].name"'],
    ),
  );
  upstream.addCommand(addCommand());
  upstream.addCommand(
    examples(
      withTarget(new Command('remove').description('remove a server').argument('<name>', 'the server')).action(
        action(async (ctx, name: string) => {
          await ctx.api().removeServer(name);
          ctx.print(() => `removed ${name}\n`, { removed: name });
          return 0;
        }),
      ),
      ['mcpproxy upstream remove github'],
    ),
  );
  // One request does the whole bulk operation on the server; on a TTY a line says it is under way.
  const bulkVia = (op: 'enableAll' | 'disableAll' | 'restartAll') => async (ctx: Context, flags: BulkFlags) => {
    const progress = ctx.io.isTTY && ctx.flags.output === 'table';
    if (progress) ctx.io.stderr.write(`${op.replace('All', '')} ${flags.group ? `group ${flags.group}` : 'all'}…`);
    try {
      return await ctx.api()[op]({ group: flags.group });
    } finally {
      if (progress) ctx.io.stderr.write('\r\x1b[2K');
    }
  };
  upstream.addCommand(serverAction('enable', 'enable a server', (a, n) => a.enableServer(n), bulkVia('enableAll')));
  upstream.addCommand(
    serverAction('disable', 'disable a server (stops it)', (a, n) => a.disableServer(n), bulkVia('disableAll')),
  );
  upstream.addCommand(
    serverAction('restart', 'reconnect a server now', (a, n) => a.restartServer(n), bulkVia('restartAll')),
  );
  upstream.addCommand(
    serverAction(
      'quarantine',
      'quarantine a server (stops it until a person approves it)',
      (a, n) => a.quarantineServer(n),
      (ctx, flags) => clientBulk(ctx, flags, 'quarantine', (a, n) => a.quarantineServer(n)),
    ),
  );
  upstream.addCommand(
    serverAction(
      'unquarantine',
      'approve a quarantined server: it starts',
      (a, n) => a.unquarantineServer(n),
      (ctx, flags) => clientBulk(ctx, flags, 'unquarantine', (a, n) => a.unquarantineServer(n)),
    ),
  );
  upstream.addCommand(
    examples(
      withTarget(
        new Command('approve')
          .description("approve a server's pending and changed tools (all of them, or the named ones)")
          .argument('[name]', 'the server')
          .argument('[tools...]', 'only these tools')
          .option('--all', 'every server')
          .option('--group <group>', 'every server of this group'),
      ).action(
        action(async (ctx, name: string | undefined, tools: string[]) => {
          const flags = ctx.flags as unknown as BulkFlags;
          const one = target(name, flags, 'approve');
          if (one) {
            const body = await ctx.api().approveTools(one, tools.length > 0 ? tools : undefined);
            ctx.print(
              () =>
                body.approved.length > 0
                  ? `approved ${body.approved.length} tool(s) of ${one}: ${body.approved.join(', ')}\n`
                  : `nothing to approve on ${one}\n`,
              body,
            );
            return 0;
          }
          return printBulk(ctx, 'approve', await clientBulk(ctx, flags, 'approve', (a, n) => a.approveTools(n)));
        }),
      ),
      [
        'mcpproxy upstream approve github',
        'mcpproxy upstream approve github create_issue',
        'mcpproxy upstream approve --all',
      ],
    ),
  );
  upstream.addCommand(
    examples(
      withTarget(
        new Command('tools').description("a server's tools with their approval state").argument('<name>', 'the server'),
      ).action(
        action(async (ctx, name: string) => {
          const body = await ctx.api().serverTools(name);
          ctx.print(() => (body.tools.length ? renderTable(body.tools, TOOL_COLUMNS, ctx.io) : 'no tools\n'), body);
          return 0;
        }),
      ),
      ['mcpproxy upstream tools github', 'mcpproxy upstream tools github -o json'],
    ),
  );
  return examples(upstream, [
    'mcpproxy upstream list',
    'mcpproxy upstream add fs -- npx -y @modelcontextprotocol/server-filesystem /tmp',
    'mcpproxy upstream restart --all',
  ]);
}
