import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { activityCommand } from './commands/activity.js';
import { callCommand } from './commands/call.js';
import { configCommand } from './commands/config.js';
import { connectCommand } from './commands/connect.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsCommand } from './commands/events.js';
import { securityCommand } from './commands/security.js';
import { statusCommand } from './commands/status.js';
import { toolsCommand } from './commands/tools.js';
import { upstreamCommand } from './commands/upstream.js';
import { watchCommand } from './commands/watch.js';

/** The management commands: they talk to a running server and never need the server's code. */
const MANAGEMENT = new Set([
  'upstream',
  'tools',
  'call',
  'status',
  'events',
  'watch',
  'doctor',
  'config',
  'connect',
  'security',
  'activity',
]);

/**
 * The `mcpproxy` program: `serve` (the default command) runs the proxy; the others manage a running one over its
 * REST API and live events (`--url`, `--api-key`, `-o table|json` on each).
 */
export async function createProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('mcpproxy')
    .description('One MCP endpoint in front of many upstream MCP servers')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError();
  // Loading the server takes most of a second; a management command would pay it on every run for nothing.
  if (!MANAGEMENT.has(argv[2] ?? '')) {
    const { serveCommand } = await import('./serve-command.js');
    program.addCommand(serveCommand(), { isDefault: true });
  }
  program.addCommand(upstreamCommand());
  program.addCommand(toolsCommand());
  program.addCommand(callCommand());
  program.addCommand(statusCommand());
  program.addCommand(eventsCommand());
  program.addCommand(watchCommand());
  program.addCommand(doctorCommand());
  program.addCommand(configCommand());
  program.addCommand(connectCommand());
  program.addCommand(securityCommand());
  program.addCommand(activityCommand());
  program.addHelpText(
    'after',
    `
Examples:
  $ mcpproxy serve --demo                 run the proxy with a demo upstream
  $ mcpproxy status                       is it up?
  $ mcpproxy upstream list -o json        servers, for scripts
  $ mcpproxy watch                        a live table
  $ mcpproxy connect cursor               point Cursor at the proxy
  $ mcpproxy security scan                scan every tool for poisoning
  $ mcpproxy activity tail                what agents call, as it happens

The server URL and key come from --url/--api-key, else MCPPROXY_URL/MCPPROXY_API_KEY, else the config file.
Exit codes: 0 ok, 1 error, 2 port in use, 3 data dir locked, 4 config error, 5 permission denied.
`,
  );
  return program;
}

const first = process.argv[2];
if (first !== undefined && !first.startsWith('-') && !MANAGEMENT.has(first) && first !== 'serve' && first !== 'help') {
  // `serve` is the default command, so commander would report a typo as "too many arguments for 'serve'".
  process.stderr.write(
    `mcpproxy: unknown command '${first}'\n  → the commands are serve, ${[...MANAGEMENT].join(', ')} (mcpproxy --help)\n`,
  );
  process.exitCode = 1;
} else {
  await (await createProgram()).parseAsync(process.argv);
}
