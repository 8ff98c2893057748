/** Props of {@link RateChart}. */
export interface RateChartProps {
  /** Values per second, oldest first. */
  values: readonly number[];
  /** Seconds per bar: values are summed in buckets of this many. @default 5 */
  bucket?: number;
  width?: number;
  height?: number;
}

/**
 * Events per second over the last minutes as a small inline SVG area chart: no chart library, a few hundred bytes,
 * and a text summary for screen readers.
 */
export function RateChart({ values, bucket = 5, width = 300, height = 60 }: RateChartProps) {
  const points: number[] = [];
  for (let i = 0; i + bucket <= values.length; i += bucket) {
    let sum = 0;
    for (let j = i; j < i + bucket; j++) sum += values[j] ?? 0;
    points.push(sum / bucket);
  }
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? width / (points.length - 1) : width;
  const line = points.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 4)).toFixed(1)}`);
  const area = `0,${height} ${line.join(' ')} ${width},${height}`;
  const minutes = Math.round(values.length / 60);
  const peak = Math.max(0, ...points);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Events per second over the last ${minutes} minutes: peak ${peak.toFixed(1)}, now ${(points.at(-1) ?? 0).toFixed(1)}`}
    >
      <polygon points={area} class="chart-area" />
      <polyline points={line.join(' ')} class="chart-line" fill="none" />
    </svg>
  );
}
