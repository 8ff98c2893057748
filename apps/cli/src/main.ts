import { VERSION } from '@mcpproxy/server';
import { Command } from 'commander';
import { serveCommand } from './serve-command.js';

/** The `mcpproxy` program. `serve` is the default command; the management commands arrive in later issues. */
export function createProgram(): Command {
  const program = new Command('mcpproxy')
    .description('One MCP endpoint in front of many upstream MCP servers')
    .version(VERSION, '-V, --version')
    .showHelpAfterError();
  program.addCommand(serveCommand(), { isDefault: true });
  return program;
}

await createProgram().parseAsync(process.argv);
