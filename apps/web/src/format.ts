import type { ServerSummary } from '@mcpproxy/contracts';

/** "in 4 s", "in 2 min", "now" for a time in the future; `''` for none. */
export function countdown(iso: string | null, now: number): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'now';
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `in ${s} s` : `in ${Math.round(s / 60)} min`;
}

/** "12 s ago", "3 min ago", "2 h ago". */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** Columns of the servers table that sort. */
export type SortKey = 'name' | 'state' | 'circuit' | 'tool_count' | 'groups' | 'last_error' | 'next_retry_at';

/** Sorted copy of `rows` by `key` (name breaks ties, so the order is stable across updates). */
export function sortServers(rows: readonly ServerSummary[], key: SortKey, descending: boolean): ServerSummary[] {
  const value = (s: ServerSummary): string | number => {
    switch (key) {
      case 'tool_count':
        return s.tool_count;
      case 'groups':
        return s.groups.join(',');
      case 'last_error':
        return s.last_error ?? '';
      case 'next_retry_at':
        return s.next_retry_at ?? '';
      default:
        return s[key];
    }
  };
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return c !== 0 ? sign * c : a.name.localeCompare(b.name);
  });
}

/** Rows whose name, group, state, circuit or last error contains every word of `query` (case-insensitive). */
export function filterServers(rows: readonly ServerSummary[], query: string): readonly ServerSummary[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((s) => {
    const text = [s.name, s.state, s.circuit, ...s.groups, s.last_error ?? ''].join(' ').toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Every group any server is in, sorted. */
export function groupsOf(rows: readonly ServerSummary[]): string[] {
  return [...new Set(rows.flatMap((s) => s.groups))].sort();
}

/** Why an operation was refused, in words a person acts on (gates get their own sentence). */
export function refusal(error: unknown): string {
  const e = error as { code?: string; detail?: string; message?: string };
  const detail = e.detail ?? e.message ?? String(error);
  switch (e.code) {
    case 'READ_ONLY':
      return `Refused: the server is in read-only mode (read_only_mode is on). ${detail}`;
    case 'MANAGEMENT_DISABLED':
      return `Refused: management is disabled on this server (disable_management is on). ${detail}`;
    case 'HUMAN_ONLY':
      return `Refused: only a person may do this. ${detail}`;
    case 'UNAUTHORIZED':
      return `Refused: the API key is missing or wrong. ${detail}`;
    case 'UNREACHABLE':
    case 'TIMEOUT':
      return `The server did not answer. ${detail}`;
    default:
      return detail;
  }
}

/** A line of a two-sided diff. */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

/** Line diff of two texts (longest common subsequence; inputs here are tool definitions, a few hundred lines). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  if (n * m > 250_000) {
    return [
      ...a.map((text) => ({ kind: 'removed' as const, text })),
      ...b.map((text) => ({ kind: 'added' as const, text })),
    ];
  }
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const next = lcs[i + 1] as number[];
    for (let j = m - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] as string });
      i++;
      j++;
    } else if ((lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0)) out.push({ kind: 'removed', text: a[i++] as string });
    else out.push({ kind: 'added', text: b[j++] as string });
  }
  while (i < n) out.push({ kind: 'removed', text: a[i++] as string });
  while (j < m) out.push({ kind: 'added', text: b[j++] as string });
  return out;
}

/** JSON with sorted keys at every depth, so a reordered schema diffs as equal (the hash ignores order too). */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
    );
  };
  return JSON.stringify(sort(value), null, 2) ?? 'undefined';
}
