import type { ScanFinding, SecurityFindingsResponse } from '@mcpproxy/contracts';

/** Characters of evidence shown; the scanner already bounds it, this guards the page against a longer one. */
export const EVIDENCE_MAX = 240;

/** `text` cut to `max` characters (never half a surrogate pair), saying how much was left out. */
export function capText(text: string, max = EVIDENCE_MAX): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max);
  return `${cut}… (${text.length - cut.length} more characters)`;
}

/** `1 finding`, `4 findings`. */
export const findingsCount = (n: number): string => `${n} finding${n === 1 ? '' : 's'}`;

/** `hard` when any finding is hard, `soft` when there are only soft ones, null without findings. */
export function worstTier(findings: readonly ScanFinding[] | undefined): 'hard' | 'soft' | null {
  if (!findings?.length) return null;
  return findings.some((f) => f.tier === 'hard') ? 'hard' : 'soft';
}

/** The outcome of `POST /servers/{name}/scan` in words. */
export function scanOutcome(name: string, r: SecurityFindingsResponse): string {
  if (!r.scanner) return `The tool scanner is off (security.scanner: false): nothing was scanned on ${name}.`;
  const { block, review, clean } = r.counts;
  return (
    `Scanned ${r.results.length} tools of ${name}: ${block} blocked, ${review} to review, ${clean} clean` +
    (r.block_on === 'none' ? ' (block_on "none": nothing is held).' : '.')
  );
}

/** A tool's worst finding as a badge (the word says it; colour is a second cue). */
export function TierBadge({ findings }: { findings: readonly ScanFinding[] | undefined }) {
  const tier = worstTier(findings);
  return tier ? <span class={`badge badge-${tier}`}>{`scanner: ${tier}`}</span> : null;
}

/**
 * The scanner's findings on one tool definition. The evidence quotes the upstream's own text, which an attacker
 * writes: it is a text node (Preact escapes it, never HTML) and capped at {@link EVIDENCE_MAX} characters.
 */
export function Findings({ findings, label }: { findings: readonly ScanFinding[]; label: string }) {
  return (
    <ul class="findings" aria-label={label}>
      {findings.map((f, i) => (
        <li key={i} data-tier={f.tier}>
          <span class={`badge badge-${f.tier}`}>{f.tier}</span> <strong>{f.threat.replace(/_/g, ' ')}</strong> (
          {f.check}, {Math.round(f.confidence * 100)}% sure, in <code>{f.path}</code>)
          <q class="evidence">{capText(f.evidence)}</q>
        </li>
      ))}
    </ul>
  );
}
