import { ClientError } from '@mcpproxy/client';
import { type Diagnostic, formatValidationIssues, parseConfig } from '@mcpproxy/contracts';
import { CliError } from '../cli-error.js';
import { action, Command, configPathOf, examples, readJsonFile, withTarget } from '../context.js';
import { type Column, renderTable, stateColor } from '../output.js';

/** A doctor finding: the server's diagnostics plus the CLI's own checks (config file, reachability). */
export interface Finding {
  code: string;
  severity: Diagnostic['severity'];
  server?: string | undefined;
  message: string;
  fix: string;
}

const COLUMNS: readonly Column<Finding>[] = [
  { header: 'SEVERITY', value: (f) => f.severity, color: (v) => (v === 'error' ? 'red' : stateColor(v)) },
  { header: 'SERVER', value: (f) => f.server ?? '-' },
  { header: 'FINDING', value: (f) => f.message, flex: true },
  { header: 'FIX', value: (f) => f.fix, flex: true },
];

/** `mcpproxy doctor` */
export function doctorCommand(): Command {
  const command = withTarget(
    new Command('doctor').description('find what is wrong (config, server, upstreams) and say how to fix it'),
  ).action(
    action(async (ctx) => {
      const findings: Finding[] = [];
      const path = configPathOf(ctx.flags, ctx.io.env);
      try {
        const file = readJsonFile(path);
        if (file) {
          const parsed = parseConfig(file);
          if (!parsed.ok) {
            findings.push({
              code: 'CONFIG_INVALID',
              severity: 'error',
              message: `${path} is invalid: ${formatValidationIssues(parsed.issues).replace(/\n/g, '; ')}`,
              fix: 'fix the listed keys; `mcpproxy config validate` checks the file',
            });
          }
        }
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        findings.push({ code: error.code, severity: 'error', message: error.message, fix: error.hint ?? '' });
      }
      try {
        const { diagnostics } = await ctx.api().diagnostics();
        findings.push(...diagnostics);
      } catch (error) {
        if (!(error instanceof ClientError) || (error.code !== 'UNREACHABLE' && error.code !== 'TIMEOUT')) throw error;
        findings.push({
          code: 'SERVER_UNREACHABLE',
          severity: 'error',
          message: `no mcpproxy answers at ${ctx.target().url}`,
          fix: 'start it with `mcpproxy serve`, or point at it with --url / MCPPROXY_URL',
        });
      }
      ctx.print(
        () =>
          findings.length > 0
            ? renderTable(findings, COLUMNS, ctx.io)
            : 'no problems found: the config is valid and every server is healthy\n',
        { findings },
      );
      return findings.some((f) => f.severity === 'error') ? 1 : 0;
    }),
  );
  return examples(command, ['mcpproxy doctor', 'mcpproxy doctor -o json']);
}
