/** Where a command writes, and what it knows about the terminal. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (progress, colour and `watch` need one). */
  isTTY: boolean;
  /** Terminal width; `undefined` when unknown (output to a pipe without `COLUMNS`). */
  columns: number | undefined;
}

/** The process's own streams. */
export function processIo(): Io {
  const columns = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS) || undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    columns,
  };
}

/** Colour is for people: only on a TTY, never with `NO_COLOR` (https://no-color.org) or `TERM=dumb`. */
export function useColor(io: Io): boolean {
  return io.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, cyan: 36, gray: 90, bold: 1 } as const;
/** A colour name of {@link paint}. */
export type Color = keyof typeof CODES;

/** Wraps `text` in an ANSI colour when `on`. */
export function paint(text: string, color: Color | undefined, on: boolean): string {
  return on && color ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

/** The colour of a server state or result word, for tables. */
export function stateColor(value: string): Color | undefined {
  switch (value) {
    case 'ready':
    case 'ok':
    case 'live':
    case 'added':
    case 'approved':
    case 'closed':
      return 'green';
    case 'error':
    case 'failed':
    case 'open':
    case 'changed':
      return 'red';
    case 'quarantined':
    case 'disabled':
    case 'pending':
    case 'polling':
    case 'half_open':
    case 'warning':
      return 'yellow';
    case 'connecting':
    case 'reconnecting':
    case 'idle':
      return 'cyan';
    default:
      return undefined;
  }
}

/** A column of {@link renderTable}. */
export interface Column<T> {
  header: string;
  value(row: T): string;
  /** Colour of a cell. */
  color?: ((value: string, row: T) => Color | undefined) | undefined;
  /** Whether this column may be cut to fit the width (long free text: descriptions, errors). @default false */
  flex?: boolean | undefined;
}

const visible = (s: string) => [...s].length;

/** Cuts `s` to `width` characters with an ellipsis. */
export function truncate(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 1) return chars.slice(0, width).join('');
  return `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * A plain table: a header row and one line per row, columns two spaces apart. When it is wider than `columns`,
 * the flexible columns are cut first (widest first), then any column, so no line is wider than the terminal.
 * Newlines inside cells become spaces.
 */
export function renderTable<T>(rows: readonly T[], cols: readonly Column<T>[], io: Io): string {
  const color = useColor(io);
  const cells = rows.map((row) => cols.map((c) => c.value(row).replace(/\s*\n\s*/g, ' ')));
  const widths = cols.map((c, i) => Math.max(visible(c.header), ...cells.map((r) => visible(r[i] ?? ''))));
  const gap = 2;
  if (io.columns !== undefined) {
    const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
    // Shrink the widest column of a class by one until it fits: flexible columns first, then any.
    for (const onlyFlex of [true, false]) {
      while (total() > io.columns) {
        let widest = -1;
        for (const [i, w] of widths.entries()) {
          if (onlyFlex && !cols[i]?.flex) continue;
          if (w > 4 && (widest < 0 || w > (widths[widest] ?? 0))) widest = i;
        }
        if (widest < 0) break;
        widths[widest] = (widths[widest] ?? 0) - 1;
      }
    }
  }
  const line = (values: string[], paintCell: (value: string, i: number) => string) =>
    values
      .map((v, i) => {
        const width = widths[i] ?? 0;
        const cut = truncate(v, width);
        const pad = i === values.length - 1 ? '' : ' '.repeat(Math.max(0, width - visible(cut)));
        return paintCell(cut, i) + pad;
      })
      .join(' '.repeat(gap))
      .trimEnd();
  const out = [
    line(
      cols.map((c) => c.header),
      (v) => paint(v, 'bold', color),
    ),
  ];
  for (const [r, values] of cells.entries()) {
    out.push(line(values, (v, i) => paint(v, cols[i]?.color?.(v, rows[r] as T), color)));
  }
  return `${out.join('\n')}\n`;
}

/** Key/value lines (`status`), keys padded to one width. */
export function renderPairs(pairs: readonly [string, string, Color?][], io: Io): string {
  const color = useColor(io);
  const width = Math.max(...pairs.map(([k]) => k.length));
  return `${pairs.map(([k, v, c]) => `${k.padEnd(width)}  ${paint(v, c, color)}`).join('\n')}\n`;
}

/** Stable JSON for scripts: two-space indent and a final newline. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
