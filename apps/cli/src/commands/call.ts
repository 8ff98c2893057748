import { CliError } from '../cli-error.js';
import { action, Command, examples, withTarget } from '../context.js';

/** `mcpproxy call SERVER:TOOL --args JSON` */
export function callCommand(): Command {
  const command = withTarget(
    new Command('call')
      .description('call an upstream tool; prints its text content (or the whole result with -o json)')
      .argument('<server:tool>', 'the tool, as SERVER:TOOL')
      .option('-a, --args <json>', 'the arguments as a JSON object', '{}'),
  ).action(
    action(async (ctx, name: string) => {
      if (!/^[^:]+:.+$/.test(name)) {
        throw new CliError('USAGE', `"${name}" is not SERVER:TOOL`, {
          hint: 'find tools with `mcpproxy tools search WORDS`',
        });
      }
      const raw = (ctx.flags as unknown as { args: string }).args;
      let args: unknown;
      try {
        args = JSON.parse(raw);
      } catch (error) {
        throw new CliError('USAGE', `--args is not valid JSON: ${(error as Error).message}`, {
          hint: `quote it for the shell, e.g. --args '{"message":"hi"}'`,
        });
      }
      if (typeof args !== 'object' || args === null || Array.isArray(args)) {
        throw new CliError('USAGE', '--args must be a JSON object', { hint: `e.g. --args '{"message":"hi"}'` });
      }
      const result = await ctx.api().callTool(name, args as Record<string, unknown>);
      ctx.print(() => {
        const parts = result.content.map((item) => {
          const block = item as { type?: string; text?: string };
          return block.type === 'text' && typeof block.text === 'string' ? block.text : JSON.stringify(item);
        });
        return `${parts.join('\n')}\n`;
      }, result);
      if (result.isError) {
        ctx.io.stderr.write(`mcpproxy: ${name} reported an error (isError)\n`);
        return 1;
      }
      return 0;
    }),
  );
  return examples(command, [
    `mcpproxy call everything:echo --args '{"message":"hello"}'`,
    `mcpproxy call everything:get-sum --args '{"a":1,"b":2}' -o json`,
  ]);
}
