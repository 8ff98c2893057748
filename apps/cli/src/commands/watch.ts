import type { ConnectionInfo } from '@mcpproxy/client';
import type { ServerSummary } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { action, Command, examples, withTarget } from '../context.js';
import { type Io, paint, renderTable, stateColor, useColor } from '../output.js';
import { openLive, retryIn, untilSignal } from './live-options.js';
import { SERVER_COLUMNS } from './upstream.js';

/** Redraws are coalesced: at most one per this many ms, however many events arrive. */
export const REDRAW_MS = 100;

// Alternate screen and hidden cursor while watching; both are undone on exit so the shell comes back as it was.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** One frame of the watch screen: a status line, the server table, and a key hint. */
export function renderFrame(
  url: string,
  connection: ConnectionInfo,
  servers: readonly ServerSummary[],
  io: Io,
  { now = new Date(), rows }: { now?: Date; rows?: number | undefined } = {},
): string {
  const color = useColor(io);
  const ready = servers.filter((s) => s.state === 'ready').length;
  const status =
    connection.status === 'live'
      ? 'live'
      : `${connection.status}${retryIn(connection.retryAt)}${connection.lastError ? ` (${connection.lastError})` : ''}`;
  const head = `mcpproxy ${url}  ${paint(`● ${status}`, stateColor(connection.status), color)}  ${servers.length} servers, ${ready} ready  ${now.toTimeString().slice(0, 8)}`;
  // Lines past the bottom would scroll the screen and break the next redraw, so the table stops at the last row.
  const room = rows === undefined ? servers.length : Math.max(1, rows - 6);
  const shown = servers.length > room ? servers.slice(0, room - 1) : servers;
  const more = servers.length - shown.length;
  const table = servers.length > 0 ? renderTable(shown, SERVER_COLUMNS, io) : 'no servers\n';
  const tail = more > 0 ? `… ${more} more (a taller terminal shows them; \`mcpproxy upstream list\` lists all)\n` : '';
  return `${head}\n\n${table}${tail}\n${paint('Ctrl+C to quit', 'gray', color)}\n`;
}

/** `mcpproxy watch` */
export function watchCommand(): Command {
  const command = withTarget(
    new Command('watch').description(
      'a live table of the servers, redrawn from events (at most every 100 ms); Ctrl+C restores the terminal',
    ),
  ).action(
    action(async (ctx) => {
      if (ctx.flags.output === 'json') {
        throw new CliError('USAGE', 'watch draws a table; it has no JSON form', {
          hint: 'for JSON use `mcpproxy events` (a stream) or `mcpproxy upstream list -o json`',
        });
      }
      if (!ctx.io.isTTY) {
        throw new CliError('NOT_A_TTY', 'watch draws on a terminal, and stdout is not one', {
          hint: 'for scripts use `mcpproxy events` (a stream) or `mcpproxy upstream list -o json`',
        });
      }
      const target = ctx.target();
      const live = openLive(target);
      const out = process.stdout;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let lastDraw = 0;

      const draw = () => {
        timer = undefined;
        lastDraw = Date.now();
        const io = { ...ctx.io, columns: out.columns };
        const frame = renderFrame(target.url, live.connection.get(), live.servers.get(), io, { rows: out.rows });
        out.write(`${HOME}${frame.replace(/\n/g, `${CLEAR_LINE_END}\n`)}${CLEAR_BELOW}`);
      };
      // Leading edge when idle, trailing edge otherwise: a burst of events costs one frame per 100 ms.
      const schedule = () => {
        if (timer) return;
        timer = setTimeout(draw, Math.max(0, lastDraw + REDRAW_MS - Date.now()));
      };
      const restore = () => out.write(LEAVE);

      out.write(ENTER);
      process.once('exit', restore); // even if something throws below
      draw();
      const offServers = live.servers.subscribe(schedule);
      const offConnection = live.connection.subscribe(schedule);
      out.on('resize', schedule);
      // The status line counts down to the next retry while disconnected.
      const tick = setInterval(() => {
        if (live.status.get() !== 'live') schedule();
      }, 1_000);
      try {
        await untilSignal();
      } finally {
        clearInterval(tick);
        clearTimeout(timer);
        out.off('resize', schedule);
        offServers();
        offConnection();
        live.close();
        restore();
        process.off('exit', restore);
      }
      return 0;
    }),
  );
  return examples(command, ['mcpproxy watch', 'mcpproxy watch --url http://10.0.0.5:8080 --api-key "$KEY"']);
}
