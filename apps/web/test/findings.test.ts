import type { ScanFinding, SecurityFindingsResponse } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { capText, EVIDENCE_MAX, findingsCount, scanOutcome, worstTier } from '../src/findings.js';

const finding = (tier: 'hard' | 'soft'): ScanFinding => ({
  check: 'directive',
  tier,
  threat: 'secret_access',
  confidence: 0.9,
  evidence: 'read ~/.ssh/id_rsa',
  path: 'description',
});

describe('scanner findings helpers', () => {
  it('caps long evidence and says how much was left out, never splitting a surrogate pair', () => {
    expect(capText('short')).toBe('short');
    const long = 'x'.repeat(EVIDENCE_MAX + 60);
    expect(capText(long)).toBe(`${'x'.repeat(EVIDENCE_MAX)}… (60 more characters)`);
    const emoji = `${'a'.repeat(9)}😀tail`;
    const cut = capText(emoji, 10);
    expect(cut.startsWith('a'.repeat(9))).toBe(true);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(cut).toContain('(6 more characters)');
  });

  it('takes the worst tier of a tool’s findings', () => {
    expect(worstTier(undefined)).toBeNull();
    expect(worstTier([])).toBeNull();
    expect(worstTier([finding('soft')])).toBe('soft');
    expect(worstTier([finding('soft'), finding('hard')])).toBe('hard');
    expect([findingsCount(1), findingsCount(4)]).toEqual(['1 finding', '4 findings']);
  });

  it('words the outcome of a scan, the scanner being off, and block_on none', () => {
    const r: SecurityFindingsResponse = {
      scanner: true,
      block_on: 'hard',
      counts: { block: 1, review: 1, clean: 1 },
      results: [],
    };
    expect(scanOutcome('math', { ...r, results: new Array(3).fill(null) as never })).toBe(
      'Scanned 3 tools of math: 1 blocked, 1 to review, 1 clean.',
    );
    expect(scanOutcome('math', { ...r, block_on: 'none' })).toContain('(block_on "none": nothing is held).');
    expect(scanOutcome('math', { ...r, scanner: false })).toBe(
      'The tool scanner is off (security.scanner: false): nothing was scanned on math.',
    );
  });
});
