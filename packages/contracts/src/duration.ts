import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses a duration (`"500ms"`, `"30s"`, `"2m"`, `"1h"`, `"30d"` or integer milliseconds) to milliseconds.
 * Returns `undefined` for anything else so callers can report it in their own words.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = DURATION_RE.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Formats milliseconds as the shortest exact duration string: 30000 → `"30s"`, 1500 → `"1500ms"`. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms !== 0 && ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms !== 0 && ms % UNIT_MS.s === 0) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}

/** A config duration: accepts a duration string or integer milliseconds, outputs milliseconds. */
export const DurationSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a duration such as "500ms", "30s", "2m" or integer milliseconds (got ${JSON.stringify(value)})`,
      params: { rule: 'duration' },
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * The longest timer duration: Node runs any `setTimeout` above 2^31−1 ms (~24.8 days) after 1 ms, so a longer
 * timeout would fire at once. 24 days is the largest whole-day value below that limit.
 */
export const MAX_TIMER_MS = 24 * UNIT_MS.d;

/**
 * A config duration that drives a timer (timeouts, intervals, delays): like {@link DurationSchema}, but refuses
 * values above {@link MAX_TIMER_MS} with rule `duration_max` instead of letting the timer fire immediately.
 */
export const TimerDurationSchema = DurationSchema.superRefine((ms, ctx) => {
  if (ms > MAX_TIMER_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `must be at most 24d (got ${formatDuration(ms)})`,
      params: { rule: 'duration_max' },
    });
  }
});

const UNIT_BYTES = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)$/i;

/**
 * Parses a size (`"16KB"`, `"256MB"`, `"1GB"`, `"512B"` — binary units, KB = 1024 B — or integer bytes) to bytes.
 * Returns `undefined` for anything else.
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = SIZE_RE.exec(value.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * UNIT_BYTES[(match[2] as string).toUpperCase() as keyof typeof UNIT_BYTES];
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

/** A config size: accepts a size string or integer bytes, outputs bytes. */
export const SizeSchema = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a size such as "16KB", "256MB" or integer bytes (got ${JSON.stringify(value)})`,
      params: { rule: 'size' },
    });
    return z.NEVER;
  }
  return bytes;
});
