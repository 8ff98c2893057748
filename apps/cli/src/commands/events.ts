import type { BusEvent } from '@mcpproxy/contracts';
import { EVENT_TYPES } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { action, Command, examples, withTarget } from '../context.js';
import { paint, stateColor, useColor } from '../output.js';
import { openLive, retryIn, untilSignal } from './live-options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** One human line of an event (`-o table`). */
function eventLine(event: BusEvent, color: boolean): string {
  const data = event.data as {
    to?: string;
    change?: string;
    tool?: string;
    status?: string;
    summary?: { state?: string };
  };
  const what = data.change ?? data.to ?? data.status ?? data.summary?.state ?? '';
  const tool = data.tool ? ` ${data.tool}` : '';
  return `${event.time}  ${String(event.seq).padStart(6)}  ${event.type.padEnd(24)} ${event.server ?? '-'}${tool} ${paint(what, stateColor(what), color)}`.trimEnd();
}

/** `mcpproxy events` */
export function eventsCommand(): Command {
  const command = withTarget(
    new Command('events')
      .description(
        'stream live events as NDJSON (one JSON object per line) until Ctrl+C; reconnects and resumes without a gap',
      )
      .option('--server <name>', 'only events of this server (repeatable)', collect, [])
      .option('--types <types>', `only these event types, comma-separated (${EVENT_TYPES.slice(0, 3).join(', ')}, …)`),
  ).action(
    action(async (ctx) => {
      const flags = ctx.flags as unknown as { server: string[]; types?: string };
      const types = flags.types
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const unknown = (types ?? []).filter(
        (t) => !(EVENT_TYPES as readonly string[]).includes(t) && t !== 'state_change' && t !== 'config_change',
      );
      if (unknown.length > 0) {
        throw new CliError('USAGE', `unknown event type(s): ${unknown.join(', ')}`, {
          hint: `known types: ${EVENT_TYPES.join(', ')}`,
        });
      }
      // NDJSON unless a table was asked for explicitly: a stream is for scripts first.
      const ndjson = !ctx.outputGiven || ctx.flags.output === 'json';
      const color = useColor(ctx.io);
      const target = ctx.target();
      const live = openLive(target, { types, servers: flags.server.length > 0 ? flags.server : undefined });
      let greeted = false;
      let lastStatus = '';
      live.onEvent((event) => {
        ctx.io.stdout.write(ndjson ? `${JSON.stringify(event)}\n` : `${eventLine(event, color)}\n`);
      });
      live.onReset((reason) => {
        if (reason === 'fresh' && greeted) {
          ctx.io.stderr.write(
            'mcpproxy: the server restarted (or fell too far behind): events in between are not available\n',
          );
        }
        if (reason === 'fresh') greeted = true;
      });
      let lastRetry: number | null = null;
      live.connection.subscribe((c) => {
        const statusChanged = c.status !== lastStatus;
        const retryChanged = c.retryAt !== lastRetry;
        lastStatus = c.status;
        lastRetry = c.retryAt;
        if (c.status === 'live') {
          if (statusChanged) ctx.io.stderr.write(`mcpproxy: live at ${target.url} (epoch ${c.epoch}, seq ${c.seq})\n`);
        } else if (retryChanged && c.retryAt !== null) {
          const what = greeted ? 'connection lost' : 'cannot connect';
          const then = c.status === 'polling' ? ' (is the server running? `mcpproxy serve`)' : '';
          ctx.io.stderr.write(`mcpproxy: ${what} (${c.lastError ?? 'closed'}); retrying${retryIn(c.retryAt)}${then}\n`);
        }
      });
      // A closed pipe (`mcpproxy events | head`) ends the stream quietly.
      const stdout = process.stdout as NodeJS.WriteStream;
      const closed = new Promise<void>((resolve) => stdout.once('error', () => resolve()));
      await Promise.race([untilSignal(), closed]);
      live.close();
      return 0;
    }),
  );
  return examples(command, [
    'mcpproxy events',
    'mcpproxy events --server github --types server_state_changed,tools_updated',
    'mcpproxy events -o table',
  ]);
}
