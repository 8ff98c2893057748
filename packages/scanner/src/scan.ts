// Runs the independent checks over one tool, relates their findings, and turns them into a verdict and a severity.
import type {
  ScanCoverageGap,
  ScanFinding,
  ScanSeverity,
  ScanVerdict,
  ToolScanResult,
  UpstreamTool,
} from '@mcpproxy/contracts';
import { capabilityMismatchCheck } from './checks/capability-mismatch.js';
import { directiveCheck } from './checks/directive.js';
import { embeddedSecretCheck } from './checks/embedded-secret.js';
import { encodedPayloadCheck } from './checks/encoded-payload.js';
import { hiddenUnicodeCheck } from './checks/hidden-unicode.js';
import { shadowingCheck } from './checks/shadowing.js';
import { createScanContext, type ScanContext, type ServerTools } from './context.js';
import { extractTool } from './extract.js';
import { renderSafe } from './text.js';
import type { Check, RawFinding, ScanLimits, ScannableTool } from './types.js';

/** The checks every scan runs, in this order. */
export const DEFAULT_CHECKS: readonly Check[] = [
  hiddenUnicodeCheck,
  encodedPayloadCheck,
  directiveCheck,
  shadowingCheck,
  capabilityMismatchCheck,
  embeddedSecretCheck,
];

/** `hard`: a hard finding blocks the tool (`verdict: "block"`); `none`: nothing blocks, findings are only reported. */
export type BlockOn = 'hard' | 'none';

/** Options of {@link scanTool}. */
export interface ScanToolOptions extends ScanLimits {
  /** The server the tool belongs to: shadowing compares against other servers only. @default undefined */
  server?: string | undefined;
  /** Every server's tools, for shadowing; without it, only context-free shadowing is checked. @default undefined */
  context?: ScanContext | undefined;
  /** @default 'hard' */
  blockOn?: BlockOn | undefined;
  /** The checks to run. @default DEFAULT_CHECKS */
  checks?: readonly Check[] | undefined;
}

/** Soft signals from this many independent checks count as one hard signal. */
const CORROBORATING_CHECKS = 3;

/** A side-channel parameter that another check's order routes data into is no longer just odd. */
function corroborate(findings: RawFinding[]): RawFinding[] {
  return findings.map((f) => {
    if (f.check !== 'capability_mismatch' || f.tier === 'hard' || f.param === undefined) return f;
    const name = f.param.toLowerCase();
    let re: RegExp | undefined; // built once per parameter, and only if some finding has a subject to test
    const named = findings.some((o) => {
      if (o === f || o.check === 'capability_mismatch') return false;
      if (o.param === f.param) return true;
      if (o.subject === undefined) return false;
      re ??= new RegExp(`(?:^|[^\\w])${name.replace(/[^\w]/g, '\\$&')}(?:[^\\w]|$)`);
      return re.test(o.subject);
    });
    return named
      ? {
          ...f,
          tier: 'hard' as const,
          confidence: Math.max(f.confidence, 0.9),
          evidence: `${f.evidence}; another check routes data into it`,
        }
      : f;
  });
}

function severityOf(findings: readonly ScanFinding[]): ScanSeverity {
  const hard = new Set(findings.filter((f) => f.tier === 'hard').map((f) => f.check));
  const any = new Set(findings.map((f) => f.check));
  if (hard.size >= 2) return 'critical';
  if (hard.size === 1) return any.size >= 2 ? 'critical' : 'high';
  if (any.size >= 2) return 'medium';
  return any.size === 1 ? 'low' : 'none';
}

function scoreOf(findings: readonly ScanFinding[]): number {
  const best = new Map<string, number>();
  for (const f of findings) best.set(f.check, Math.max(best.get(f.check) ?? 0, f.confidence));
  let miss = 1;
  for (const c of best.values()) miss *= 1 - c;
  return Math.round((1 - miss) * 1000) / 1000;
}

/**
 * Scans one tool definition. Pure and deterministic: the same tool and context give the same result, with no
 * I/O, clock or randomness. Never throws on malformed tools; a check that throws is listed in `coverage` and the
 * others still run.
 */
export function scanTool(tool: UpstreamTool | ScannableTool, options: ScanToolOptions = {}): ToolScanResult {
  const { server, context, blockOn = 'hard', checks = DEFAULT_CHECKS } = options;
  const coverage: ScanCoverageGap[] = [];
  let view: ReturnType<typeof extractTool>;
  try {
    view = extractTool(tool, options);
  } catch (error) {
    // extractTool guards every read; this is the last line for a hostile object (a throwing Proxy).
    coverage.push({ check: 'extract', error: renderSafe(String((error as Error)?.message ?? error), 200) });
    view = { name: '', fields: [], params: [], truncated: 'the definition could not be read' };
  }
  let raw: RawFinding[] = [];
  const input = { view, server, context };
  for (const check of checks) {
    try {
      const found = check.run(input);
      for (const f of found) raw.push(f);
    } catch (error) {
      coverage.push({ check: check.id, error: renderSafe(String((error as Error)?.message ?? error), 200) });
    }
  }
  if (view.truncated !== undefined) {
    raw.push({
      check: 'truncated',
      tier: 'soft',
      threat: 'unscanned',
      confidence: 0.3,
      evidence: renderSafe(`not scanned: ${view.truncated}`, 200),
      path: '',
    });
  }
  if (raw.length === 0) {
    // Most tools: nothing to relate, rank or count.
    return {
      server: server ?? '',
      tool: view.name,
      verdict: 'clean',
      severity: 'none',
      score: 0,
      findings: [],
      coverage,
    };
  }
  raw = corroborate(raw);
  const findings: ScanFinding[] = raw.map(({ check, tier, threat, confidence, evidence, path }) => ({
    check,
    tier,
    threat,
    confidence,
    evidence,
    path,
  }));
  // Many independent soft signals together are as good as one hard one.
  const softChecks = new Set(findings.filter((f) => f.check !== 'truncated').map((f) => f.check));
  const hard = findings.some((f) => f.tier === 'hard') || softChecks.size >= CORROBORATING_CHECKS;
  const verdict: ScanVerdict = findings.length === 0 ? 'clean' : hard && blockOn === 'hard' ? 'block' : 'review';
  return {
    server: server ?? '',
    tool: view.name,
    verdict,
    severity: severityOf(findings),
    score: scoreOf(findings),
    findings,
    coverage,
  };
}

/** Options of {@link scanServer} and {@link scanServers}. */
export type ScanServerOptions = Omit<ScanToolOptions, 'server'>;

/** The scan of one server's tools. */
export interface ServerScanResult {
  readonly server: string;
  readonly results: readonly ToolScanResult[];
  /** How many tools got each verdict. */
  readonly counts: Readonly<Record<ScanVerdict, number>>;
}

/**
 * Scans every tool of one server. Without a `context`, shadowing only sees this server's own tools (which it
 * ignores), so pass the context of all servers to catch cross-server shadowing.
 */
export function scanServer(
  server: string,
  tools: readonly (UpstreamTool | ScannableTool)[],
  options: ScanServerOptions = {},
): ServerScanResult {
  const counts: Record<ScanVerdict, number> = { block: 0, review: 0, clean: 0 };
  const list = Array.isArray(tools) ? tools : [];
  const toolOptions: ScanToolOptions = { ...options, server }; // once per server, not once per tool
  const results = list.map((tool) => {
    const r = scanTool(tool, toolOptions);
    counts[r.verdict]++;
    return r;
  });
  return { server, results, counts };
}

/** Scans every server's tools against one context built from all of them: the usual entry point of a gateway. */
export function scanServers(
  servers: readonly ServerTools[],
  options: Omit<ScanServerOptions, 'context'> = {},
): ServerScanResult[] {
  const context = createScanContext(servers);
  return servers.map((s) => scanServer(s.server, s.tools, { ...options, context }));
}
