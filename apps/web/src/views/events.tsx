import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { RateChart } from '../chart.js';
import { Choice } from '../filters.js';
import type { Session } from '../store.js';
import { ViewHeader } from '../ui.js';
import { summaryOf } from './detail.js';

/** Sum of `mcpproxy_events_dropped_total` in a Prometheus text body. */
export function droppedFromMetrics(text: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('mcpproxy_events_dropped_total')) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}

/** The event log (newest first, filters, pause) and the live panel (connections, events/s, dropped, chart). */
export function EventsView({ session }: { session: Session }) {
  const type = useSignal('');
  const server = useSignal('');
  const paused = useSignal(false);
  const frozen = useRef<typeof session.events.value>([]);
  const dropped = useSignal<number | null>(null);
  const all = session.events.value;
  if (!paused.value) frozen.current = all;
  const shown = frozen.current;
  const metrics = session.metrics.value;
  const rate = session.rate.value;
  const lastSecond = rate.at(-1) ?? 0;

  // Server-wide dropped events come from /metrics, read when the view opens and on each system_metrics event
  // (every 10 s): no polling loop of its own.
  useEffect(() => {
    const controller = new AbortController();
    const headers: Record<string, string> = {};
    if (session.key) headers.authorization = `Bearer ${session.key}`;
    fetch(`${session.api.baseUrl}/metrics`, { headers, signal: controller.signal })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then(
        (text) => {
          dropped.value = droppedFromMetrics(text);
        },
        () => {},
      );
    return () => controller.abort();
  }, [metrics]);

  const types = [...new Set(all.map((e) => e.type))].sort();
  const servers = [...new Set(all.map((e) => e.server).filter((s): s is string => !!s))].sort();
  const filtered = shown.filter(
    (e) => (!type.value || e.type === type.value) && (!server.value || e.server === server.value),
  );
  const newestFirst = filtered.slice(-200).reverse();

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Events" />
      <section class="panel" aria-label="Live panel">
        <dl class="stats">
          <div>
            <dt>Live connections</dt>
            <dd data-stat="connections">{metrics ? metrics.ws_clients : '—'}</dd>
          </div>
          <div>
            <dt>Events/s (this page)</dt>
            <dd data-stat="rate">{lastSecond}</dd>
          </div>
          <div>
            <dt>Events/s (server)</dt>
            <dd>{metrics ? Number(metrics.events_per_s).toFixed(1) : '—'}</dd>
          </div>
          <div>
            <dt>Dropped (server)</dt>
            <dd data-stat="dropped">{dropped.value ?? '—'}</dd>
          </div>
          <div>
            <dt>Resyncs (this page)</dt>
            <dd>{session.resyncs.value}</dd>
          </div>
        </dl>
        <RateChart values={rate} />
      </section>
      <div class="toolbar">
        <Choice label="Type" id="events-type" value={type} any="All types" options={types} />
        <Choice label="Server" id="events-server" value={server} any="All servers" options={servers} />
        <button type="button" aria-pressed={paused.value} onClick={() => (paused.value = !paused.value)}>
          {paused.value ? 'Resume' : 'Pause'}
        </button>
        {paused.value ? (
          <span class="hint">
            Paused:{' '}
            {all.length - shown.length > 0 ? `${all.length - shown.length} newer events held` : 'no newer events'}
          </span>
        ) : null}
      </div>
      <ol class="event-list log" aria-label="Event log, newest first">
        {newestFirst.map((e) => (
          <li key={e.seq} data-type={e.type}>
            <code>#{e.seq}</code> <time dateTime={e.time}>{e.time.slice(11, 23)}</time> <strong>{e.type}</strong>{' '}
            {e.server ? <span class="server">{e.server}</span> : null} {summaryOf(e.data)}
          </li>
        ))}
      </ol>
      {newestFirst.length === 0 ? <p>No events yet.</p> : null}
    </section>
  );
}
