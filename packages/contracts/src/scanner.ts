import { z } from 'zod';

/**
 * The tool scanner's checks. `truncated` is not an attack: it says part of a tool
 * definition was past the scanner's bounds and went unscanned.
 */
export const ScanCheckSchema = z.enum([
  'hidden_unicode',
  'encoded_payload',
  'directive',
  'shadowing',
  'capability_mismatch',
  'embedded_secret',
  'truncated',
]);
export type ScanCheck = z.infer<typeof ScanCheckSchema>;

/** `hard` blocks the tool (under `security.block_on: "hard"`) until a person approves it; `soft` marks it for review. */
export const ScanTierSchema = z.enum(['hard', 'soft']);
export type ScanTier = z.infer<typeof ScanTierSchema>;

/** What a finding says the tool tries to do. */
export const ScanThreatSchema = z.enum([
  /** Text a person reviewing the tool cannot see (tag characters, zero-width runs, bidi controls). */
  'invisible_text',
  /** An encoded blob that decodes to a command, an outside fetch, a secret path or a directive. */
  'obfuscated_payload',
  /** Tells the model to drop its instructions, switch role or take orders from elsewhere. */
  'instruction_override',
  /** Tells the model to hide what it does from the user. */
  'concealment',
  /** Tells the model to read credentials or private files. */
  'secret_access',
  /** Tells the model to send user data, files or secrets somewhere. */
  'exfiltration',
  /** Tells the model to run a shell command that downloads, reverse-connects or destroys. */
  'code_execution',
  /** Instructs about another server's tool, or clones one under the same name. */
  'tool_shadowing',
  /** A parameter unrelated to the tool's job that can carry data out. */
  'side_channel',
  /** A live-looking credential in the definition. */
  'credential_exposure',
  /** Part of the definition was beyond the scan bounds. */
  'unscanned',
]);
export type ScanThreat = z.infer<typeof ScanThreatSchema>;

/** One signal of one check. `evidence` is render-safe: invisible and control characters are written as `U+XXXX`. */
export const ScanFindingSchema = z.object({
  check: ScanCheckSchema,
  tier: ScanTierSchema,
  threat: ScanThreatSchema,
  /** 0..1: how sure the check is that this is an attack. */
  confidence: z.number().min(0).max(1),
  /** Render-safe, at most a few hundred characters; never a whole secret. */
  evidence: z.string(),
  /** Where in the tool definition, e.g. `description` or `inputSchema.properties.note.description`. */
  path: z.string(),
});
export type ScanFinding = z.infer<typeof ScanFindingSchema>;

/** `block`: a hard finding under `block_on: "hard"`; `review`: findings that leave the tool callable; `clean`: none. */
export const ScanVerdictSchema = z.enum(['block', 'review', 'clean']);
export type ScanVerdict = z.infer<typeof ScanVerdictSchema>;

/** Rises with the tier and the number of independent checks that fired. */
export const ScanSeveritySchema = z.enum(['none', 'low', 'medium', 'high', 'critical']);
export type ScanSeverity = z.infer<typeof ScanSeveritySchema>;

/** A check that threw: the scan went on without it, so its coverage of this tool is missing. */
export const ScanCoverageGapSchema = z.object({ check: z.string(), error: z.string() });
export type ScanCoverageGap = z.infer<typeof ScanCoverageGapSchema>;

/** The scan of one tool. */
export const ToolScanResultSchema = z.object({
  server: z.string(),
  tool: z.string(),
  verdict: ScanVerdictSchema,
  severity: ScanSeveritySchema,
  /** 0..1, combined over independent checks: 1 − Π(1 − best confidence of each check). */
  score: z.number().min(0).max(1),
  findings: z.array(ScanFindingSchema),
  coverage: z.array(ScanCoverageGapSchema),
});
export type ToolScanResult = z.infer<typeof ToolScanResultSchema>;

/** One tool's scan as the gateway reports it: the result, the tool's pinning state, and whether a person overrode it. */
export const SecurityFindingSchema = ToolScanResultSchema.extend({
  /** The pinning hash the scan judged. */
  hash: z.string(),
  /** `pending`, `changed` or `approved` (see docs/security.md). */
  approval: z.enum(['approved', 'pending', 'changed']).optional(),
  /** A person approved this definition despite a blocking finding. */
  overridden: z.boolean(),
});
export type SecurityFinding = z.infer<typeof SecurityFindingSchema>;

/** `GET /api/v1/security/findings` (tools with findings) and `POST /api/v1/servers/{name}/scan` (every tool scanned). */
export const SecurityFindingsResponseSchema = z.object({
  /** Whether `security.scanner` is on. */
  scanner: z.boolean(),
  block_on: z.enum(['hard', 'none']),
  counts: z.object({ block: z.number().int(), review: z.number().int(), clean: z.number().int() }),
  results: z.array(SecurityFindingSchema),
});
export type SecurityFindingsResponse = z.infer<typeof SecurityFindingsResponseSchema>;
