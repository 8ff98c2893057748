// Embedded secrets: credentials with a known shape (AWS, GitHub, GitLab, Slack, OpenAI, Anthropic, Stripe, Google,
// npm, private key blocks, JWTs) in descriptions or schema values, and high-entropy defaults of secret-named
// parameters. Placeholders ("AKIAIOSFODNN7EXAMPLE", "ghp_XXXX…", "sk-your-key-here") are not secrets.
import { rawText } from '../doc.js';
import { entropy, execAll, renderSafe } from '../text.js';
import type { Check, RawFinding } from '../types.js';

interface Kind {
  readonly name: string;
  readonly re: RegExp;
  readonly tier: 'hard' | 'soft';
  /** Characters at the start that are the fixed prefix (left out of the entropy test). */
  readonly prefix: number;
  /** Text every match holds (one of them): a field without any is not searched for this kind. */
  readonly needs: readonly string[];
}

const KINDS: readonly Kind[] = [
  {
    name: 'private key block',
    re: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----\s*[A-Za-z0-9+/=\s]{40,}/g,
    tier: 'hard',
    prefix: 0,
    needs: ['-----BEGIN'],
  },
  {
    name: 'AWS access key id',
    re: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g,
    tier: 'hard',
    prefix: 4,
    needs: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
  },
  {
    name: 'GitHub token',
    re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,40}\b|\bgithub_pat_[A-Za-z0-9_]{50,}\b/g,
    tier: 'hard',
    prefix: 4,
    needs: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  { name: 'GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/g, tier: 'hard', prefix: 6, needs: ['glpat-'] },
  { name: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{20,}\b/g, tier: 'hard', prefix: 5, needs: ['xox'] },
  {
    name: 'Slack webhook',
    re: /hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{20,}/g,
    tier: 'hard',
    prefix: 24,
    needs: ['hooks.slack.com/services/'],
  },
  {
    name: 'Anthropic key',
    re: /\bsk-ant-[a-z]+\d{2}-[A-Za-z0-9_-]{40,}/g,
    tier: 'hard',
    prefix: 14,
    needs: ['sk-ant-'],
  },
  {
    name: 'OpenAI key',
    re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b/g,
    tier: 'hard',
    prefix: 3,
    needs: ['sk-'],
  },
  { name: 'Stripe key', re: /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}\b/g, tier: 'hard', prefix: 8, needs: ['_live_'] },
  { name: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{30,40}\b/g, tier: 'hard', prefix: 4, needs: ['AIza'] },
  { name: 'npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/g, tier: 'hard', prefix: 4, needs: ['npm_'] },
  {
    name: 'JSON Web Token',
    re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g,
    tier: 'soft',
    prefix: 0,
    needs: ['eyJ'],
  },
];

/** Cheap pre-test: a field without any of these prefixes cannot hold a known key shape. */
const ANY_PREFIX_RE =
  /AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|hooks\.slack|sk-|_live_|AIza|npm_|eyJ|-----BEGIN/;
const PLACEHOLDER_RE =
  /example|sample|dummy|fake|test|your|x{4}|0{4}|redacted|placeholder|here|replace|changeme|<|>|\.\.\.|…/i;
/** Keyboard runs typed by hand, matched case-sensitively (a random key may hold "AbCd" but hardly "abcdef"). */
const SEQUENCE_RE = /abcdef|ABCDEF|123456|012345/;
const SECRET_NAME_RE =
  /(?:secret|token|passw(?:or)?d|api_?key|apikey|access_?key|private_?key|client_?secret|auth|credential)/i;

function needsMet(text: string, needs: readonly string[]): boolean {
  for (const n of needs) if (text.includes(n)) return true;
  return false;
}

/** Masks all but the first and last four characters, so evidence never carries the secret. */
function mask(s: string): string {
  const flat = s.replace(/\s+/g, ' ');
  if (flat.length <= 12) return `${flat.slice(0, 3)}…`;
  return `${flat.slice(0, Math.min(8, flat.length - 4))}…${flat.slice(-4)} (${flat.length} chars)`;
}

function looksReal(secret: string, prefix: number): boolean {
  const body = secret.slice(prefix).replace(/[\s-]/g, '');
  if (PLACEHOLDER_RE.test(secret) || SEQUENCE_RE.test(secret)) return false;
  if (new Set(body).size < 8) return false;
  return entropy(body) >= 3;
}

/** Credentials in the definition: known key shapes anywhere, and random-looking defaults of secret-named parameters. */
export const embeddedSecretCheck: Check = {
  id: 'embedded_secret',
  run({ view }) {
    const out: RawFinding[] = [];
    const hasPrefix = ANY_PREFIX_RE.test(rawText(view));
    const hasSecretParam = view.params.some((p) => SECRET_NAME_RE.test(p.name));
    if (!hasPrefix && !hasSecretParam) return out;
    for (const field of view.fields) {
      const text = field.text;
      if (text.length < 16 || field.kind === 'name' || field.kind === 'param_name') continue;
      for (const kind of ANY_PREFIX_RE.test(text) ? KINDS : []) {
        if (!needsMet(text, kind.needs)) continue; // twelve regexes per field with any prefix cost more than this
        // An exec loop: matchAll would clone each of the twelve regexes for every field with a prefix.
        for (const m of execAll(kind.re, text)) {
          const secret = m[0];
          if (kind.name !== 'private key block' && !looksReal(secret, kind.prefix)) continue;
          if (kind.name === 'OpenAI key' && /^sk-ant-/.test(secret)) continue;
          out.push({
            check: 'embedded_secret',
            tier: kind.tier,
            threat: 'credential_exposure',
            confidence: kind.tier === 'hard' ? 0.9 : 0.6,
            evidence: `${kind.name} ${renderSafe(mask(secret), 60)} at ${m.index}`,
            path: field.path,
            param: field.param,
          });
          if (out.length >= 16) return out;
        }
      }
      // A random-looking default of a parameter named like a secret is a live credential whatever its shape.
      if (field.kind === 'value' && field.param !== undefined && SECRET_NAME_RE.test(field.param)) {
        const v = text.trim();
        if (v.length >= 16 && v.length <= 512 && !/\s/.test(v) && looksReal(v, 0) && entropy(v) >= 3.5) {
          if (!out.some((f) => f.path === field.path)) {
            out.push({
              check: 'embedded_secret',
              tier: 'hard',
              threat: 'credential_exposure',
              confidence: 0.75,
              evidence: `random-looking value ${renderSafe(mask(v), 60)} for secret-named parameter "${renderSafe(field.param, 40)}"`,
              path: field.path,
              param: field.param,
            });
          }
        }
      }
    }
    return out;
  },
};
