import { MASK, scrubSecrets } from '@mcpproxy/contracts';

/**
 * Keys whose values are masked wherever they appear in arguments, results or details, whatever the value: an
 * agent passing `{"api_key": "…"}` to a tool must not leave that key in the log. Known secret values (the
 * config's, via `secrets`) are scrubbed from all text on top of this.
 */
export const SECRET_KEY_RE =
  /pass(word|wd|phrase)?$|secret|token|api[-_]?key|authorization|cookie|credential|private[-_]?key/i;

/** A payload ready to store: masked, cut to the byte budget, with its full size. */
export interface PreparedText {
  text: string | null;
  bytes: number | null;
  truncated: boolean;
}

function replacer(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_KEY_RE.test(key) && value !== null && typeof value !== 'object') return MASK;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** JSON text of a payload with secret-named keys masked; strings are kept as they are. Never throws. */
export function payloadText(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, replacer) ?? null;
  } catch {
    // Cycles and throwing getters: say so rather than fail the write of the whole batch.
    return '[unserialisable]';
  }
}

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. Secrets are scrubbed from a window a
 * little longer than the budget first, so one straddling the cut is masked whole rather than left half in clear.
 */
export function prepareText(
  text: string | null,
  { maxBytes, secrets, keep }: { maxBytes: number; secrets: readonly string[]; keep: boolean },
): PreparedText {
  if (text === null) return { text: null, bytes: null, truncated: false };
  const bytes = Buffer.byteLength(text);
  if (!keep) return { text: null, bytes, truncated: false };
  let longest = 0;
  for (const s of secrets) longest = Math.max(longest, s.length);
  // Characters are at least one byte each, so maxBytes characters always cover the byte budget.
  const windowed = text.length > maxBytes + longest ? text.slice(0, maxBytes + longest) : text;
  const scrubbed = secrets.length > 0 ? scrubSecrets(windowed, secrets) : windowed;
  const cut = cutUtf8(scrubbed, maxBytes);
  return { text: cut, bytes, truncated: windowed.length < text.length || cut.length < scrubbed.length };
}

/** The longest prefix of `s` that is at most `maxBytes` UTF-8 bytes, never ending inside a character. */
export function cutUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s) <= maxBytes) return s;
  const buf = Buffer.from(s.length > maxBytes ? s.slice(0, maxBytes) : s);
  let end = Math.min(maxBytes, buf.length);
  // Step back over continuation bytes (10xxxxxx) to the start of the character the cut fell in.
  if (end < buf.length) while (end > 0 && ((buf[end] as number) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** Scrubs known secrets from short free text (error messages, detail); `null` stays `null`. */
export function scrubShort(
  text: string | null | undefined,
  secrets: readonly string[],
  maxBytes: number,
): string | null {
  if (text === null || text === undefined) return null;
  let longest = 0;
  for (const s of secrets) longest = Math.max(longest, s.length);
  // As in prepareText: scrub a window a little past the budget, so a huge message costs no more than a short one.
  const windowed = text.length > maxBytes + longest ? text.slice(0, maxBytes + longest) : text;
  return cutUtf8(secrets.length > 0 ? scrubSecrets(windowed, secrets) : windowed, maxBytes);
}
