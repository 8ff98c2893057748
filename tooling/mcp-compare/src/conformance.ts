/**
 * `pnpm conformance`: runs every server scenario of @modelcontextprotocol/conformance (Node 22) directly against
 * the fixture server, then through mcpproxy's `/mcp/servers/fixture`, and prints both scores and the difference.
 * Exit code 1 when a scenario that passes directly fails through the proxy (the goal is transparency).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFORMANCE, NODE22, type Running, startFixture, startProxy } from './processes.js';

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  errorMessage?: string;
}

interface ScenarioResult {
  /** Ran, and no check failed. */
  pass: boolean;
  success: number;
  failure: number;
  warning: number;
  failures: string[];
}

function listScenarios(): string[] {
  const out = execFileSync(NODE22, [CONFORMANCE, 'list', '--server'], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*-\s+(\S+)/gm)].map((m) => m[1] as string);
}

function runSuite(url: string, scenarios: string[]): Map<string, ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  const results = new Map<string, ScenarioResult>();
  try {
    for (const scenario of scenarios) {
      try {
        execFileSync(NODE22, [CONFORMANCE, 'server', '--url', url, '--scenario', scenario, '-o', dir], {
          stdio: 'ignore',
          timeout: 120_000,
        });
      } catch {
        // A failing scenario exits non-zero; its checks.json says why.
      }
      const sub = readdirSync(dir).find((d) => d.startsWith(`server-${scenario}-`) && /-\d{4}-\d\d-\d\dT/.test(d));
      const checks: Check[] = sub ? JSON.parse(readFileSync(join(dir, sub, 'checks.json'), 'utf8')) : [];
      if (sub) rmSync(join(dir, sub), { recursive: true, force: true });
      const failures = checks.filter((c) => c.status === 'FAILURE');
      results.set(scenario, {
        pass: checks.length > 0 && failures.length === 0,
        success: checks.filter((c) => c.status === 'SUCCESS').length,
        failure: failures.length,
        warning: checks.filter((c) => c.status === 'WARNING').length,
        failures: failures.map((c) => `${c.id}: ${c.errorMessage ?? ''}`),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const pad = (s: string, n: number) => s.padEnd(n);
const cell = (r: ScenarioResult | undefined) =>
  r ? `${r.pass ? 'pass' : 'FAIL'} ${r.success}✓ ${r.failure}✗ ${r.warning}!` : 'not run';

async function main(): Promise<number> {
  if (!process.version.startsWith('v20')) {
    process.stderr.write(`note: servers under test run on ${process.version} (expected Node 20)\n`);
  }
  const scenarios = listScenarios();
  process.stdout.write(`conformance: ${scenarios.length} server scenarios (${NODE22})\n`);
  const running: Running[] = [];
  try {
    const fixture = await startFixture();
    running.push(fixture);
    const direct = `http://127.0.0.1:${fixture.port}/mcp`;
    const proxy = await startProxy({
      mcpServers: [{ name: 'fixture', protocol: 'streamable-http', url: direct, quarantined: false }],
    });
    running.push(proxy);
    const proxied = `${proxy.url}/mcp/servers/fixture`;

    process.stdout.write(`direct:  ${direct}\nproxied: ${proxied}\n\n`);
    const a = runSuite(direct, scenarios);
    const b = runSuite(proxied, scenarios);

    const width = Math.max(...scenarios.map((s) => s.length)) + 2;
    process.stdout.write(`${pad('scenario', width)}${pad('direct', 22)}through mcpproxy\n`);
    for (const s of scenarios) process.stdout.write(`${pad(s, width)}${pad(cell(a.get(s)), 22)}${cell(b.get(s))}\n`);
    const score = (m: Map<string, ScenarioResult>) => [...m.values()].filter((r) => r.pass).length;
    const checks = (m: Map<string, ScenarioResult>) => [...m.values()].reduce((n, r) => n + r.success, 0);
    const total = (m: Map<string, ScenarioResult>) => [...m.values()].reduce((n, r) => n + r.success + r.failure, 0);
    process.stdout.write(
      `\ndirect:           ${score(a)}/${scenarios.length} scenarios pass (${checks(a)}/${total(a)} checks)\n` +
        `through mcpproxy: ${score(b)}/${scenarios.length} scenarios pass (${checks(b)}/${total(b)} checks)\n`,
    );
    const regressions = scenarios.filter((s) => a.get(s)?.pass && !b.get(s)?.pass);
    const differ = scenarios.filter(
      (s) =>
        a.get(s)?.pass === b.get(s)?.pass &&
        (a.get(s)?.warning !== b.get(s)?.warning || a.get(s)?.success !== b.get(s)?.success),
    );
    if (differ.length) process.stdout.write(`same verdict, different checks: ${differ.join(', ')}\n`);
    if (regressions.length === 0) {
      process.stdout.write('every scenario that passes directly also passes through the proxy\n');
      return 0;
    }
    process.stdout.write(`\nREGRESSIONS through the proxy (${regressions.length}):\n`);
    for (const s of regressions) process.stdout.write(`- ${s}: ${b.get(s)?.failures.join('; ')}\n`);
    return 1;
  } finally {
    for (const r of running.reverse()) await r.stop();
  }
}

process.exitCode = await main();
