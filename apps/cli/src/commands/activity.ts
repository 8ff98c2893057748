import type { ActivityFilters, ActivityRecord, RestClient } from '@mcpproxy/client';
import { CliError } from '../cli-error.js';
import { action, Command, examples, withTarget } from '../context.js';
import { type Column, renderPairs, renderTable, stateColor } from '../output.js';
import { untilSignal } from './live-options.js';

/** How often `activity tail` asks for new records. */
const TAIL_INTERVAL_MS = 1_000;
/** Most pages `activity tail` reads in one turn (records beyond are skipped, with a note). */
const TAIL_MAX_PAGES = 10;

const what = (r: ActivityRecord): string =>
  r.kind === 'tool_call' ? `${r.server ?? '-'}:${r.tool ?? '-'}` : `${r.action ?? r.kind} ${r.server ?? ''}`.trim();

const COLUMNS: readonly Column<ActivityRecord>[] = [
  { header: 'ID', value: (r) => String(r.id) },
  { header: 'TIME', value: (r) => r.time },
  { header: 'KIND', value: (r) => r.kind },
  { header: 'WHAT', value: what },
  { header: 'STATUS', value: (r) => r.status ?? '-', color: (v) => (v === 'ok' ? 'green' : stateColor(v)) },
  { header: 'MS', value: (r) => (r.duration_ms === null ? '-' : String(r.duration_ms)) },
  { header: 'BY', value: (r) => r.surface ?? r.actor ?? '-' },
  { header: 'CLIENT', value: (r) => r.client_name ?? '-' },
  { header: 'ERROR', value: (r) => (r.error_code ? `${r.error_code}: ${r.error_message ?? ''}` : ''), flex: true },
];

interface FilterFlags {
  server?: string;
  tool?: string;
  status?: string;
  session?: string;
  client?: string;
  kind?: string;
  q?: string;
  since?: string;
  until?: string;
}

/** The shared filter options of list, tail and export. */
function withFilters(command: Command): Command {
  return command
    .option('--server <name>', 'only this server')
    .option('--tool <name>', 'only this tool')
    .option('--status <status>', 'ok | error | timeout | rejected | circuit_open | blocked')
    .option('--session <id>', 'only this MCP session')
    .option('--client <name>', 'only this MCP client (its initialize name)')
    .option('--kind <kind>', 'tool_call | lifecycle | management')
    .option('-q, --query <words>', 'words in the tool name, error or payload')
    .option('--since <time>', 'from this time (ISO 8601, epoch ms)')
    .option('--until <time>', 'before this time (ISO 8601, epoch ms)');
}

function filtersOf(flags: FilterFlags & { query?: string }): ActivityFilters {
  const { server, tool, status, session, client, kind, query, since, until } = flags;
  return { server, tool, status, session, client, kind, q: query, since, until };
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliError('USAGE', `${name} must be a positive integer (got ${value})`);
  return n;
}

/** The records newer than `after`, oldest first (at most `TAIL_MAX_PAGES` pages of them). */
async function newerThan(api: RestClient, filters: ActivityFilters, after: number): Promise<ActivityRecord[]> {
  const out: ActivityRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < TAIL_MAX_PAGES; page++) {
    const { records, next_cursor } = await api.listActivity({ ...filters, limit: 200, cursor });
    for (const r of records) {
      if (r.id <= after) return out.reverse();
      out.push(r);
    }
    if (!next_cursor) break;
    cursor = next_cursor;
  }
  return out.reverse();
}

/** `mcpproxy activity list|show|tail|stats|export` */
export function activityCommand(): Command {
  const activity = new Command('activity').description(
    'the activity log: every tool call, management action and server lifecycle step, kept by the server',
  );

  activity.addCommand(
    examples(
      withFilters(
        withTarget(
          new Command('list')
            .description('recorded calls and actions, newest first')
            .option('-n, --limit <n>', 'records per page (1–1000)', '50')
            .option('--cursor <cursor>', 'the next_cursor of a previous page (-o json shows it)'),
        ),
      ).action(
        action(async (ctx) => {
          const flags = ctx.flags as unknown as FilterFlags & { query?: string; limit?: string; cursor?: string };
          const page = await ctx.api().listActivity({
            ...filtersOf(flags),
            limit: positiveInt('--limit', flags.limit, 50),
            cursor: flags.cursor,
          });
          ctx.print(() => {
            const more = page.next_cursor ? `more: --cursor ${page.next_cursor}\n` : '';
            return page.records.length ? `${renderTable(page.records, COLUMNS, ctx.io)}${more}` : 'no records\n';
          }, page);
          return 0;
        }),
      ),
      [
        'mcpproxy activity list',
        'mcpproxy activity list --server github --status error',
        'mcpproxy activity list -q "label bug" -o json',
      ],
    ),
  );

  activity.addCommand(
    examples(
      withTarget(new Command('show').description('one record in full, arguments and result included')).argument(
        '<id>',
        'the record id (activity list shows it)',
      ),
      ['mcpproxy activity show 42', 'mcpproxy activity show 42 -o json'],
    ).action(
      action(async (ctx, id: string) => {
        const r = await ctx.api().getActivity(positiveInt('id', id, 0));
        ctx.print(() => {
          const pairs: [string, string][] = Object.entries(r)
            .filter(([, v]) => v !== null && v !== false)
            .map(([k, v]) => [k, String(v)]);
          return renderPairs(pairs, ctx.io);
        }, r);
        return 0;
      }),
    ),
  );

  activity.addCommand(
    examples(
      withFilters(
        withTarget(
          new Command('tail')
            .description('print new records as they are written, until Ctrl+C (NDJSON with -o json)')
            .option('-n, --lines <n>', 'records shown first', '10'),
        ),
      ),
      ['mcpproxy activity tail', 'mcpproxy activity tail --server github -o json'],
    ).action(
      action(async (ctx) => {
        const flags = ctx.flags as unknown as FilterFlags & { query?: string; lines?: string };
        const filters = filtersOf(flags);
        const api = ctx.api();
        const json = ctx.flags.output === 'json';
        const header = COLUMNS.map((c) => c.header).join('  ');
        const write = (records: readonly ActivityRecord[]) => {
          if (records.length === 0) return;
          if (json) for (const r of records) ctx.io.stdout.write(`${JSON.stringify(r)}\n`);
          else {
            // Each batch as its own table, without repeating the header.
            const table = renderTable(records, COLUMNS, ctx.io).split('\n').slice(1).join('\n');
            ctx.io.stdout.write(table);
          }
        };
        const lines = flags.lines === '0' ? 0 : positiveInt('--lines', flags.lines, 10);
        // The newest record now marks where "new" starts, even when none is shown (`-n 0`).
        const first = await api.listActivity({ ...filters, limit: Math.max(1, lines) });
        let last = first.records[0]?.id ?? 0;
        if (!json) ctx.io.stdout.write(`${header}\n`);
        write(first.records.slice(0, lines).reverse());
        const stop = untilSignal();
        let stopped = false;
        void stop.then(() => {
          stopped = true;
        });
        while (!stopped) {
          const wait = new Promise((r) => setTimeout(r, TAIL_INTERVAL_MS));
          await Promise.race([wait, stop]);
          if (stopped) break;
          const fresh = await newerThan(api, filters, last);
          write(fresh);
          last = fresh.at(-1)?.id ?? last;
        }
        return 0;
      }),
    ),
  );

  activity.addCommand(
    examples(
      withTarget(
        new Command('stats')
          .description('calls, errors and p50/p95 duration per server (or tool) over a window')
          .option('--by <what>', 'server | tool', 'server')
          .option('--window <duration>', 'how far back (e.g. 15m, 1h, 24h, 7d)', '1h'),
      ),
      ['mcpproxy activity stats', 'mcpproxy activity stats --by tool --window 24h -o json'],
    ).action(
      action(async (ctx) => {
        const flags = ctx.flags as unknown as { by: string; window: string };
        if (flags.by !== 'server' && flags.by !== 'tool') {
          throw new CliError('USAGE', `--by must be "server" or "tool" (got ${flags.by})`);
        }
        const stats = await ctx.api().activityStats({ group_by: flags.by, window: flags.window });
        ctx.print(() => {
          if (stats.groups.length === 0) return `no calls since ${stats.since}\n`;
          return renderTable(
            stats.groups,
            [
              { header: flags.by === 'tool' ? 'TOOL' : 'SERVER', value: (g) => g.key },
              { header: 'CALLS', value: (g) => String(g.calls) },
              { header: 'ERRORS', value: (g) => String(g.errors), color: (v) => (v === '0' ? undefined : 'red') },
              { header: 'P50 MS', value: (g) => (g.p50_ms === null ? '-' : String(g.p50_ms)) },
              { header: 'P95 MS', value: (g) => (g.p95_ms === null ? '-' : String(g.p95_ms)) },
            ],
            ctx.io,
          );
        }, stats);
        return 0;
      }),
    ),
  );

  activity.addCommand(
    examples(
      withFilters(
        withTarget(
          new Command('export')
            .description('every matching record, oldest first, streamed to stdout as NDJSON or CSV')
            .option('--format <format>', 'ndjson | csv', 'ndjson'),
        ),
      ),
      ['mcpproxy activity export > activity.ndjson', 'mcpproxy activity export --format csv --since 2026-12-01'],
    ).action(
      action(async (ctx) => {
        const flags = ctx.flags as unknown as FilterFlags & { query?: string; format: string };
        if (flags.format !== 'ndjson' && flags.format !== 'csv') {
          throw new CliError('USAGE', `--format must be "ndjson" or "csv" (got ${flags.format})`);
        }
        const chunks = await ctx.api().exportActivity({ ...filtersOf(flags), format: flags.format });
        for await (const chunk of chunks) {
          // Respect the pipe's pace: a slow reader holds the stream, not memory.
          const stdout = ctx.io.stdout as {
            write(text: string): unknown;
            once?(event: 'drain', fn: () => void): unknown;
          };
          if (stdout.write(chunk) === false && stdout.once) await new Promise<void>((r) => stdout.once?.('drain', r));
        }
        return 0;
      }),
    ),
  );

  return activity;
}
