/** Timing of one measured function. Times are nanoseconds per operation. */
export interface Timing {
  name: string;
  ops: number;
  opsPerSec: number;
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
}

export interface MeasureOptions {
  /** Operations per timed sample; per-op time is sample time / batch. @default 1 */
  batch?: number | undefined;
  /** Timed samples. @default 2000 */
  samples?: number | undefined;
  /** Untimed warm-up operations. @default 1000 */
  warmup?: number | undefined;
}

/** Times `fn` in `samples` samples of `batch` calls each, after a warm-up. */
export function measure(name: string, fn: () => unknown, options?: MeasureOptions): Timing;
/** Async variant of {@link measure}. */
export function measureAsync(name: string, fn: () => Promise<unknown>, options?: MeasureOptions): Promise<Timing>;
/** Percentile (0..100) of an unsorted numeric array. */
export function percentile(values: readonly number[], p: number): number;

/** One line of BENCHMARKS.md. */
export interface BenchRow {
  /** What was measured, e.g. "publish, 100 subscribers". */
  name: string;
  /** Our figure, already formatted or a number. */
  value: string | number;
  unit: string;
  /** The baseline measured in the same run, if any. */
  baseline?: { name: string; value: string | number } | undefined;
  /** Ratio to the baseline, e.g. 1.12 (ours / baseline cost). */
  ratio?: number | undefined;
  /** The goal from the issue, in words, e.g. "≤ 1.5× mitt". */
  goal?: string | undefined;
  /** Whether the goal was met; undefined when there is no goal. */
  met?: boolean | undefined;
}

export interface BenchReport {
  /** Package name, e.g. "@mcpproxy/events". */
  package: string;
  /** Issue the figures belong to, e.g. 2. */
  issue: number;
  rows: BenchRow[];
  notes?: string[] | undefined;
}

/** Prints the report as a table and writes it to `<repo>/bench-results/<package>.json` for BENCHMARKS.md. */
export function writeReport(report: BenchReport): void;
/** Formats nanoseconds for people: "812 ns", "3.4 µs", "1.20 ms". */
export function formatNs(ns: number): string;
