import type { SecurityFinding, SecurityFindingsResponse } from '@mcpproxy/contracts';
import { action, Command, examples, withTarget } from '../context.js';
import { type Color, type Column, renderTable, stateColor } from '../output.js';

const verdictColor = (v: string): Color | undefined =>
  v === 'block' ? 'red' : v === 'review' ? 'yellow' : v === 'clean' ? 'green' : undefined;

/** One line per finding kind: `check/threat (tier)`, then the first finding's evidence. */
const describeFindings = (r: SecurityFinding): string => {
  if (r.findings.length === 0)
    return r.coverage.length ? `coverage gap: ${r.coverage.map((c) => c.check).join(', ')}` : '';
  const kinds = [...new Set(r.findings.map((f) => `${f.check}/${f.threat} (${f.tier})`))].join(', ');
  return `${kinds}: ${r.findings[0]?.evidence ?? ''}`;
};

const COLUMNS: readonly Column<SecurityFinding>[] = [
  { header: 'TOOL', value: (r) => `${r.server}:${r.tool}` },
  {
    header: 'VERDICT',
    value: (r) => (r.overridden ? `${r.verdict} (approved)` : r.verdict),
    color: (_v, r) => (r.overridden ? 'yellow' : verdictColor(r.verdict)),
  },
  { header: 'SEVERITY', value: (r) => r.severity },
  { header: 'APPROVAL', value: (r) => r.approval ?? '-', color: stateColor },
  { header: 'FINDINGS', value: describeFindings, flex: true },
];

/** `mcpproxy security scan [SERVER]` */
export function securityCommand(): Command {
  const security = new Command('security').description('the tool scanner: poisoned tool definitions');
  security.addCommand(
    examples(
      withTarget(
        new Command('scan')
          .description(
            "scan one server's tools again (or every server's) with the tool scanner; a tool with a hard finding stays blocked until a person approves it",
          )
          .argument('[server]', 'only this server'),
      ).action(
        action(async (ctx, server: string | undefined) => {
          const api = ctx.api();
          const names = server ? [server] : (await api.listServers()).servers.map((s) => s.name);
          let merged: SecurityFindingsResponse | undefined;
          for (const name of names) {
            const one = await api.scanServer(name);
            if (!merged) merged = { ...one, results: [...one.results] };
            else {
              merged.results.push(...one.results);
              for (const k of ['block', 'review', 'clean'] as const) merged.counts[k] += one.counts[k];
            }
          }
          const body: SecurityFindingsResponse = merged ?? {
            ...(await api.securityFindings()),
            results: [],
            counts: { block: 0, review: 0, clean: 0 },
          };
          ctx.print(() => {
            if (!body.scanner) return 'the tool scanner is off (security.scanner: false)\n';
            const { block, review, clean } = body.counts;
            const summary = `${body.results.length} tool(s): ${block} blocked, ${review} for review, ${clean} clean (block_on: ${body.block_on})\n`;
            return body.results.length ? `${renderTable(body.results, COLUMNS, ctx.io)}${summary}` : summary;
          }, body);
          return 0;
        }),
      ),
      ['mcpproxy security scan', 'mcpproxy security scan github -o json'],
    ),
  );
  return security;
}
