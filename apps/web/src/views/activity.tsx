import type { ActivityPage, ActivityRecord, ActivityStats } from '@mcpproxy/client';
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { Choice, TextFilter } from '../filters.js';
import type { Session } from '../store.js';
import { JsonBlock, ScrollBlock, ViewHeader } from '../ui.js';

const STATUSES = ['ok', 'error', 'timeout', 'rejected', 'circuit_open', 'blocked'] as const;
/** Shortest gap between two reloads caused by live `tool_called` events. */
const LIVE_RELOAD_MS = 1_000;

/** What a record is about, in a few words. */
function whatOf(r: ActivityRecord): string {
  return r.kind === 'tool_call' ? `${r.server ?? '-'}:${r.tool ?? '-'}` : `${r.action ?? r.kind} ${r.server ?? ''}`;
}

/** Calls and errors of one server per bucket over the window, as a small inline SVG bar chart (time runs left to right). */
export function CallsChart({
  group,
  since,
  windowMs,
  bucketMs,
  width = 240,
  height = 48,
}: {
  group: ActivityStats['groups'][number];
  since: string;
  windowMs: number;
  bucketMs: number;
  width?: number;
  height?: number;
}) {
  const start = Date.parse(since);
  const max = Math.max(1, ...group.buckets.map((b) => b.calls));
  const w = Math.max(1, (bucketMs / Math.max(1, windowMs)) * width - 1);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${group.key}: ${group.calls} calls, ${group.errors} errors in the window`}
    >
      {group.buckets.map((b) => {
        const x = ((Date.parse(b.start) - start) / Math.max(1, windowMs)) * width;
        const h = (b.calls / max) * (height - 2);
        const e = (b.errors / max) * (height - 2);
        return (
          <g key={b.start}>
            <rect class="chart-area" x={x} y={height - h} width={w} height={h} />
            {b.errors > 0 ? <rect class="chart-errors" x={x} y={height - e} width={w} height={e} /> : null}
          </g>
        );
      })}
    </svg>
  );
}

/** The activity log: filters, a page of records (newest first, older pages on demand), a detail drawer, charts. */
export function ActivityView({ session }: { session: Session }) {
  const server = useSignal('');
  const status = useSignal('');
  const tool = useSignal('');
  const q = useSignal('');
  const records = useSignal<readonly ActivityRecord[]>([]);
  const cursor = useSignal<string | null>(null);
  const error = useSignal<string | null>(null);
  const open = useSignal<ActivityRecord | null>(null);
  const stats = useSignal<ActivityStats | null>(null);
  const loads = useSignal(0);
  const lastReload = useRef(0);

  const filters = () => ({
    server: server.value || undefined,
    status: status.value || undefined,
    tool: tool.value.trim() || undefined,
    q: q.value.trim() || undefined,
  });

  // A fresh first page (and the charts) whenever a filter changes or a reload is asked for.
  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    session.api.listActivity({ ...filters(), limit: 50 }, { signal }).then(
      (page: ActivityPage) => {
        records.value = page.records;
        cursor.value = page.next_cursor;
        error.value = null;
      },
      (e: unknown) => {
        if (!signal.aborted) error.value = e instanceof Error ? e.message : String(e);
      },
    );
    session.api.activityStats({ group_by: 'server', window: '1h', bucket: '5m' }, { signal }).then(
      (s) => {
        stats.value = s;
      },
      () => {},
    );
    return () => controller.abort();
  }, [server.value, status.value, tool.value, q.value, loads.value]);

  // New calls arrive as `tool_called` events: reload, at most once a second, while nothing is open.
  const lastCall = [...session.events.value].reverse().find((e) => e.type === 'tool_called')?.seq ?? 0;
  useEffect(() => {
    if (lastCall === 0 || open.value) return;
    const wait = Math.max(0, lastReload.current + LIVE_RELOAD_MS - Date.now());
    // Records are written in batches a moment after the call: the reload waits for one.
    const timer = setTimeout(
      () => {
        lastReload.current = Date.now();
        loads.value++;
      },
      Math.max(wait, 300),
    );
    return () => clearTimeout(timer);
  }, [lastCall]);

  const older = async () => {
    if (!cursor.value) return;
    try {
      const page = await session.api.listActivity({ ...filters(), limit: 50, cursor: cursor.value });
      records.value = [...records.value, ...page.records];
      cursor.value = page.next_cursor;
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e);
    }
  };

  const servers = session.servers.value.map((s) => s.name);
  const groups = stats.value?.groups ?? [];

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Activity">
        <button type="button" onClick={() => loads.value++}>
          Refresh
        </button>
      </ViewHeader>
      {groups.length > 0 ? (
        <section class="activity-panel" aria-label="Calls and errors per server, last hour">
          <ul class="activity-charts">
            {groups.map((g) => (
              <li key={g.key} data-chart={g.key}>
                <strong>{g.key}</strong>{' '}
                <span class="hint">
                  {g.calls} calls, {g.errors} errors, p95 {g.p95_ms ?? '—'} ms
                </span>
                <CallsChart
                  group={g}
                  since={stats.value?.since ?? new Date().toISOString()}
                  windowMs={stats.value?.window_ms ?? 3_600_000}
                  bucketMs={stats.value?.bucket_ms ?? 300_000}
                />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <div class="toolbar">
        <Choice label="Server" id="activity-server" value={server} any="All servers" options={servers} />
        <Choice label="Status" id="activity-status" value={status} any="Any status" options={STATUSES} />
        <TextFilter label="Tool" id="activity-tool" value={tool} />
        <TextFilter
          label="Search"
          id="activity-q"
          type="search"
          value={q}
          placeholder="words in arguments, results, errors"
        />
      </div>
      {error.value ? (
        <p role="alert" class="notice error">
          {error.value}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="activity-table">
          <caption class="sr-only">Activity, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">What</th>
              <th scope="col">Status</th>
              <th scope="col">ms</th>
              <th scope="col">By</th>
              <th scope="col">Client</th>
              <th scope="col">
                <span class="sr-only">Details</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {records.value.map((r) => (
              <tr key={r.id} data-activity={r.id} data-status={r.status ?? ''}>
                <td>
                  <time dateTime={r.time}>{r.time.replace('T', ' ').slice(0, 19)}</time>
                </td>
                <td>{whatOf(r)}</td>
                <td>{r.status ? <span class={`badge badge-${r.status}`}>{r.status}</span> : '—'}</td>
                <td class="num">{r.duration_ms ?? '—'}</td>
                <td>{r.surface ?? r.actor ?? '—'}</td>
                <td>{r.client_name ?? '—'}</td>
                <td>
                  <button
                    type="button"
                    aria-label={`Details of ${whatOf(r)} #${r.id}`}
                    onClick={() => (open.value = r)}
                  >
                    Details
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {records.value.length === 0 && !error.value ? <p>No activity recorded yet.</p> : null}
      {cursor.value ? (
        <button type="button" onClick={older}>
          Older
        </button>
      ) : null}
      {open.value ? <Drawer record={open.value} onClose={() => (open.value = null)} /> : null}
    </section>
  );
}

/** One record in full, beside the list; Escape or the button closes it. */
function Drawer({ record: r, onClose }: { record: ActivityRecord; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [r.id]);
  const { arguments: args, result, ...fields } = r;
  return (
    <aside class="drawer" role="dialog" aria-modal="false" aria-labelledby="activity-drawer-title">
      <div class="view-header">
        <h3 id="activity-drawer-title" tabIndex={-1} ref={heading}>
          {whatOf(r)} #{r.id}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <JsonBlock label="Record" value={fields} />
      <h4>Arguments{r.arguments_truncated ? ' (truncated)' : ''}</h4>
      <ScrollBlock label="Arguments" kind="json">
        {args ?? '—'}
      </ScrollBlock>
      <h4>Result{r.result_truncated ? ' (truncated)' : ''}</h4>
      <ScrollBlock label="Result" kind="json">
        {result ?? '—'}
      </ScrollBlock>
    </aside>
  );
}
