import type { ToolInfo, ToolSearchHit } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { action, Command, examples, withTarget } from '../context.js';
import { type Column, renderTable, stateColor } from '../output.js';

const HIT_COLUMNS: readonly Column<ToolSearchHit>[] = [
  { header: 'TOOL', value: (h) => h.name },
  { header: 'SCORE', value: (h) => h.score.toFixed(2) },
  { header: 'DESCRIPTION', value: (h) => h.description ?? '', flex: true },
];

const LIST_COLUMNS: readonly Column<ToolInfo>[] = [
  { header: 'TOOL', value: (t) => `${t.server}:${t.name}` },
  { header: 'APPROVAL', value: (t) => t.approval, color: stateColor },
  { header: 'DESCRIPTION', value: (t) => t.description ?? '', flex: true },
];

/** `mcpproxy tools search|list` */
export function toolsCommand(): Command {
  const tools = new Command('tools').description('find and list upstream tools');
  tools.addCommand(
    examples(
      withTarget(
        new Command('search')
          .description('search callable tools by name, description and parameters (BM25), best first')
          .argument('<query...>', 'words to search for')
          .option('-n, --limit <n>', 'at most this many hits (1-100; default: tools_limit of the server)'),
      ).action(
        action(async (ctx, words: string[]) => {
          const raw = (ctx.flags as unknown as { limit?: string }).limit;
          const limit = raw === undefined ? undefined : Number(raw);
          if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 100)) {
            throw new CliError('USAGE', `--limit must be a whole number from 1 to 100, not "${raw}"`);
          }
          const body = await ctx.api().searchTools(words.join(' '), { limit });
          ctx.print(
            () => (body.tools.length ? renderTable(body.tools, HIT_COLUMNS, ctx.io) : 'no matching tools\n'),
            body,
          );
          return 0;
        }),
      ),
      ['mcpproxy tools search create issue', 'mcpproxy tools search read file --limit 3 -o json'],
    ),
  );
  tools.addCommand(
    examples(
      withTarget(
        new Command('list')
          .description("every server's tools (or one server's) with their approval state")
          .argument('[server]', 'only this server'),
      ).action(
        action(async (ctx, server: string | undefined) => {
          const api = ctx.api();
          const names = server ? [server] : (await api.listServers()).servers.map((s) => s.name);
          const all: ToolInfo[] = [];
          for (const name of names) all.push(...(await api.serverTools(name)).tools);
          ctx.print(() => (all.length ? renderTable(all, LIST_COLUMNS, ctx.io) : 'no tools\n'), { tools: all });
          return 0;
        }),
      ),
      ['mcpproxy tools list', 'mcpproxy tools list github -o json'],
    ),
  );
  return tools;
}
