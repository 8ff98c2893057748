import { resolve } from 'node:path';
import { ClientError } from '@mcpproxy/client';
import { parseConfig } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { CLIENTS, type ClientKind, detectClient, importServers } from '../client-configs.js';
import { readClientFile } from '../client-file.js';
import { action, Command, configPathOf, examples, readJsonFile, withTarget } from '../context.js';
import { type Column, renderTable, stateColor } from '../output.js';

interface ImportRow {
  name: string;
  result: 'added' | 'would add' | 'exists' | 'failed' | 'skipped';
  detail: string;
}

const IMPORT_COLUMNS: readonly Column<ImportRow>[] = [
  { header: 'NAME', value: (r) => r.name },
  {
    header: 'RESULT',
    value: (r) => r.result,
    color: (v) => (v === 'failed' ? 'red' : v === 'exists' || v === 'skipped' ? 'yellow' : stateColor('added')),
  },
  { header: 'DETAIL', value: (r) => r.detail, flex: true },
];

function validateCommand(): Command {
  const command = withTarget(
    new Command('validate')
      .description('check a config file without starting anything (exit 4 when it is invalid)')
      .argument('[file]', 'the file (default: -c, else <data dir>/mcp_config.json)'),
  ).action(
    action(async (ctx, file: string | undefined) => {
      const path = file ? resolve(file) : configPathOf(ctx.flags, ctx.io.env);
      const config = readJsonFile(path);
      if (!config) {
        throw new CliError('CONFIG_INVALID', `no config file at ${path}`, {
          hint: 'give the path, or run `mcpproxy serve` once to create a default one',
        });
      }
      const parsed = parseConfig(config);
      const issues = parsed.ok ? [] : parsed.issues;
      ctx.print(
        () =>
          parsed.ok
            ? `${path}: valid (${parsed.value.mcpServers.length} servers)\n`
            : `${path}: invalid\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message} [${i.rule}]`).join('\n')}\n`,
        { path, ok: parsed.ok, issues },
      );
      if (!parsed.ok) {
        ctx.io.stderr.write('  → fix the keys above; durations are strings like "30s" or milliseconds\n');
        return 4;
      }
      return 0;
    }),
  );
  return examples(command, ['mcpproxy config validate', 'mcpproxy config validate ./mcp_config.json -o json']);
}

function importCommand(): Command {
  const command = withTarget(
    new Command('import')
      .description(
        'add the servers of a Claude Desktop, Cursor, VS Code or Windsurf MCP config (format detected); they arrive quarantined, for you to review and approve',
      )
      .argument('<file>', "the client's config file")
      .option('--from <client>', `the file's format, when detection guesses wrong (${CLIENTS.join(', ')})`)
      .option('--dry-run', 'show what would be added; change nothing'),
  ).action(
    action(async (ctx, file: string) => {
      const flags = ctx.flags as unknown as { from?: string; dryRun?: boolean };
      const path = resolve(file);
      // Client configs are JSONC: VS Code's (and files copied from it) hold comments and trailing commas.
      const config = readClientFile(path)?.value;
      if (!config) throw new CliError('FAILED', `no file at ${path}`, { hint: 'check the path' });
      if (flags.from && !(CLIENTS as readonly string[]).includes(flags.from)) {
        throw new CliError('USAGE', `--from must be one of ${CLIENTS.join(', ')}`);
      }
      const client = (flags.from as ClientKind | undefined) ?? detectClient(config, path);
      if (!client) {
        throw new CliError(
          'CONFIG_INVALID',
          `${path} has no "mcpServers", "servers" or "mcp.servers": not an MCP client config`,
          {
            hint: `name the format with --from (${CLIENTS.join(', ')})`,
          },
        );
      }
      const found = importServers(config, client);
      const rows: ImportRow[] = [];
      const api = flags.dryRun ? undefined : ctx.api();
      for (const item of found) {
        if (!item.ok) {
          rows.push({ name: item.name, result: 'skipped', detail: item.reason });
          continue;
        }
        const name = String(item.entry.name);
        const what = item.entry.url
          ? String(item.entry.url)
          : `${item.entry.command} ${((item.entry.args as string[] | undefined) ?? []).join(' ')}`.trim();
        if (!api) {
          rows.push({ name, result: 'would add', detail: what });
          continue;
        }
        try {
          await api.addServer(item.entry as never);
          rows.push({ name, result: 'added', detail: `${what} (quarantined)` });
        } catch (error) {
          if (error instanceof ClientError && error.code === 'CONFLICT') {
            rows.push({ name, result: 'exists', detail: error.detail });
          } else if (
            error instanceof ClientError &&
            error.status > 0 &&
            error.status < 500 &&
            error.code !== 'UNAUTHORIZED'
          ) {
            rows.push({ name, result: 'failed', detail: error.detail });
          } else {
            throw error; // the server is down or refuses us: the rest would fail the same way
          }
        }
      }
      const failed = rows.filter((r) => r.result === 'failed').length;
      ctx.print(
        () => {
          const table = rows.length > 0 ? renderTable(rows, IMPORT_COLUMNS, ctx.io) : '';
          const added = rows.filter((r) => r.result === 'added' || r.result === 'would add').length;
          const verb = flags.dryRun ? 'would add' : 'added';
          const next =
            !flags.dryRun && added > 0
              ? '\n  → review them with `mcpproxy upstream list`, then `mcpproxy upstream unquarantine NAME`'
              : '';
          return `${table}${client}: ${verb} ${added}, ${failed} failed, ${rows.length - added - failed} skipped (of ${rows.length})${next}\n`;
        },
        { client, dry_run: flags.dryRun === true, results: rows },
      );
      return failed > 0 ? 1 : 0;
    }),
  );
  return examples(command, [
    'mcpproxy config import ~/.cursor/mcp.json --dry-run',
    'mcpproxy config import "~/Library/Application Support/Claude/claude_desktop_config.json"',
    'mcpproxy config import .vscode/mcp.json --from vscode -o json',
  ]);
}

/** `mcpproxy config validate|import` */
export function configCommand(): Command {
  return new Command('config')
    .description('check a config file, or import servers from another MCP client')
    .addCommand(validateCommand())
    .addCommand(importCommand());
}
