import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { jsonEqual } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { type ClientKind, defaultConfigPath, mcpproxyEntry, serversKey, settingsServers } from '../client-configs.js';
import { editClientFile, readClientFile } from '../client-file.js';
import { action, Command, examples, withTarget } from '../context.js';

/** The clients `connect` knows (docs/cli.md), besides Windsurf, which shares the import code. */
const CONNECT_CLIENTS: readonly ClientKind[] = ['claude-desktop', 'cursor', 'vscode', 'windsurf'];

/** Writes `text` to `path` atomically: a temp file beside it, then a rename, so the client never reads half a file. */
function writeAtomic(path: string, text: string): void {
  const temp = `${path}.mcpproxy-${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new CliError('PERMISSION_DENIED', `cannot write ${path}: permission denied`, {
        hint: 'run as the user whose client this is, or give another file with --config-file',
        cause: error,
      });
    }
    throw new CliError('FAILED', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** `mcpproxy connect CLIENT [--remove] [--dry-run]` */
export function connectCommand(): Command {
  const command = withTarget(
    new Command('connect')
      .description(
        'point an MCP client at mcpproxy: writes an "mcpproxy" entry for the /mcp endpoint into the client\'s config (a backup is kept as FILE.bak)',
      )
      .argument('<client>', CONNECT_CLIENTS.join(' | '))
      .option('--remove', 'take the entry out again')
      .option('--dry-run', 'show the change; write nothing')
      .option('--config-file <path>', "the client's config file (default: where the client keeps it)")
      .option('--name <name>', 'the entry name', 'mcpproxy'),
  ).action(
    action(async (ctx, clientArg: string) => {
      const flags = ctx.flags as unknown as { remove?: boolean; dryRun?: boolean; configFile?: string; name: string };
      if (!CONNECT_CLIENTS.includes(clientArg as ClientKind)) {
        throw new CliError('USAGE', `unknown client "${clientArg}"`, {
          hint: `use one of ${CONNECT_CLIENTS.join(', ')}`,
        });
      }
      const client = clientArg as ClientKind;
      const path = flags.configFile ? resolve(flags.configFile) : defaultConfigPath(client);
      const file = readClientFile(path);
      const before = file?.value;
      const config: Record<string, unknown> = structuredClone(before ?? {});
      const key = serversKey(client);
      if (client === 'vscode' && before && before.servers === undefined && settingsServers(before)) {
        // Its servers sit under "mcp.servers"; a top-level "servers" there would be an unknown setting, not a server.
        throw new CliError(
          'USAGE',
          `${path} is a VS Code settings.json (servers under "mcp.servers"), not an mcp.json`,
          {
            hint: 'give --config-file an mcp.json: .vscode/mcp.json in a project, or leave it out for the user one',
          },
        );
      }
      const existing = config[key];
      const servers: Record<string, unknown> =
        typeof existing === 'object' && existing !== null && !Array.isArray(existing)
          ? (existing as Record<string, unknown>)
          : {};

      let change: 'added' | 'updated' | 'removed' | 'unchanged';
      let entry: Record<string, unknown> | undefined;
      if (flags.remove) {
        change = flags.name in servers ? 'removed' : 'unchanged';
        delete servers[flags.name];
      } else {
        const target = ctx.target();
        entry = mcpproxyEntry(client, `${target.url.replace(/\/+$/, '')}/mcp`, target.apiKey);
        const old = servers[flags.name];
        change = old === undefined ? 'added' : jsonEqual(old, entry) ? 'unchanged' : 'updated';
        servers[flags.name] = entry;
      }
      config[key] = servers;

      let backup: string | undefined;
      if (change !== 'unchanged' && !flags.dryRun) {
        // An existing file is edited in place (its comments and layout kept, or a refusal before anything is
        // written); a new one is written whole.
        const text = file
          ? editClientFile(file, { key, name: flags.name, entry }, config)
          : `${JSON.stringify(config, null, 2)}\n`;
        if (file) {
          backup = `${path}.bak`;
          try {
            copyFileSync(path, backup);
          } catch (error) {
            throw new CliError(
              'PERMISSION_DENIED',
              `cannot back up ${path} to ${backup}: ${(error as Error).message}`,
              {
                hint: 'check the permissions of the folder',
              },
            );
          }
        }
        writeAtomic(path, text);
      }
      const verb = flags.dryRun ? `would be ${change}` : change;
      ctx.print(
        () => {
          const lines = [`${client}: "${flags.name}" ${verb} in ${path}`];
          if (entry && flags.dryRun) lines.push(JSON.stringify({ [flags.name]: entry }, null, 2));
          if (backup) lines.push(`  backup: ${backup}`);
          if (change !== 'unchanged' && !flags.dryRun) lines.push(`  → restart ${client} to pick it up`);
          return `${lines.join('\n')}\n`;
        },
        {
          client,
          path,
          name: flags.name,
          change,
          dry_run: flags.dryRun === true,
          backup: backup ?? null,
          entry: entry ?? null,
        },
      );
      return 0;
    }),
  );
  return examples(command, [
    'mcpproxy connect cursor',
    'mcpproxy connect claude-desktop --dry-run',
    'mcpproxy connect vscode --config-file .vscode/mcp.json',
    'mcpproxy connect cursor --remove',
  ]);
}
