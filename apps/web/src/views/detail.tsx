import type { Diagnostic, ServerHealth, ToolInfo } from '@mcpproxy/contracts';
import { useSignal } from '@preact/signals';
import { useEffect, useMemo } from 'preact/hooks';
import { Findings, findingsCount, scanOutcome, TierBadge } from '../findings.js';
import { ago, countdown, refusal } from '../format.js';
import type { Session } from '../store.js';
import { announce, JsonBlock, NoticeBar, ScrollBlock, StateBadge, ViewHeader } from '../ui.js';

interface Loaded {
  config: Record<string, unknown>;
  health: ServerHealth;
  tools: ToolInfo[];
  diagnostics: Diagnostic[];
}

/**
 * One server: its masked config, health (last ping, round trip), tools, recent events, stderr tail and the
 * diagnostics that concern it with their fixes. Re-read whenever the server's row changes. The router keys it by
 * `name`, so all its state belongs to one server; requests still open when it goes are aborted and their answers
 * dropped.
 */
export function DetailView({ session, name }: { session: Session; name: string }) {
  const data = useSignal<Loaded | null>(null);
  const error = useSignal<string | null>(null);
  const row = session.servers.value.find((s) => s.name === name);
  const now = session.now.value;
  // Bumped by "Scan again"; `toolChange` moves when a tool is held (by a scan) or approved anywhere.
  const scanned = useSignal(0);
  const toolChange = session.toolChange.value;

  useEffect(() => {
    const controller = new AbortController();
    const signal = controller.signal;
    const load = () =>
      Promise.all([
        session.api.getServer(name, { signal }),
        session.api.serverHealth(name, { signal }),
        session.api.serverTools(name, { signal }),
        session.api.diagnostics({ signal }),
      ]).then(
        ([detail, health, tools, diagnostics]) => {
          data.value = {
            config: detail.config,
            health,
            tools: tools.tools,
            diagnostics: diagnostics.diagnostics.filter((d) => d.server === name),
          };
          error.value = null;
        },
        (e: unknown) => {
          if (!signal.aborted) error.value = refusal(e);
        },
      );
    // The first read at once; later ones after a quiet 300 ms, so a server changing many times a second costs one
    // read per burst, not four requests per event.
    const timer = setTimeout(load, data.peek() === null ? 0 : 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // The row object changes exactly when the server did: re-read then, and after a scan or an approval.
  }, [name, row, scanned.value, toolChange]);

  // True from the click until the answer: the button is disabled meanwhile, so one person starts one scan at a time.
  // Bound to the button as a signal, so the DOM is disabled before the request leaves.
  const scanning = useSignal(false);
  // Aborted when this page goes: a scan's late answer is never announced on the page that replaced it.
  const life = useMemo(() => new AbortController(), []);
  useEffect(() => () => life.abort(), []);
  const scan = async () => {
    if (scanning.peek()) return;
    scanning.value = true;
    const signal = life.signal;
    try {
      const outcome = scanOutcome(name, await session.api.scanServer(name, { signal }));
      if (signal.aborted) return;
      announce(true, outcome);
      scanned.value++;
    } catch (e) {
      if (!signal.aborted) announce(false, `Scan of ${name} failed: ${refusal(e)}`);
    } finally {
      scanning.value = false;
    }
  };

  const events = session.events.value
    .filter((e) => e.server === name)
    .slice(-20)
    .reverse();
  const d = data.value;
  return (
    <section aria-labelledby="view-title">
      <ViewHeader title={`Server ${name}`}>
        <a href="#/servers">Back to servers</a>
      </ViewHeader>
      <NoticeBar />
      {error.value ? (
        <p role="alert" class="notice error">
          {error.value}
        </p>
      ) : null}
      {row ? (
        <dl class="facts">
          <dt>State</dt>
          <dd>
            <StateBadge state={row.state} />
          </dd>
          <dt>Circuit</dt>
          <dd>{row.circuit}</dd>
          <dt>Protocol</dt>
          <dd>{row.protocol}</dd>
          <dt>Tools</dt>
          <dd>{row.tool_count}</dd>
          <dt>Connected</dt>
          <dd>{ago(row.connected_at, now)}</dd>
          <dt>Retries</dt>
          <dd>
            {row.retry_count}
            {row.next_retry_at ? ` (next ${countdown(row.next_retry_at, now)})` : ''}
          </dd>
          <dt>Last error</dt>
          <dd class="error-text">{row.last_error ?? '—'}</dd>
        </dl>
      ) : (
        <p>No server named {name} is configured.</p>
      )}
      {d ? (
        <>
          <h3>Health</h3>
          <dl class="facts">
            <dt>Healthy</dt>
            <dd>{d.health.healthy ? 'yes' : 'no'}</dd>
            <dt>Last ping</dt>
            <dd>{ago(d.health.last_ping_at, now)}</dd>
            <dt>Round trip</dt>
            <dd>{d.health.last_ping_ms === null ? '—' : `${d.health.last_ping_ms} ms`}</dd>
          </dl>
          <h3>Diagnostics</h3>
          {d.diagnostics.length === 0 ? (
            <p>No findings.</p>
          ) : (
            <ul class="diagnostics">
              {d.diagnostics.map((x) => (
                <li key={x.code}>
                  <strong>
                    {x.severity}: {x.code}
                  </strong>{' '}
                  {x.message} <span class="fix">Fix: {x.fix}</span>
                </li>
              ))}
            </ul>
          )}
          <h3>Config (secrets masked)</h3>
          <JsonBlock value={d.config} label={`Config of ${name}`} />
          <h3>Tools ({d.tools.length})</h3>
          <button type="button" class="scan-again" disabled={scanning} aria-busy={scanning} onClick={scan}>
            {scanning.value ? 'Scanning…' : 'Scan again'}
          </button>
          <ul class="tool-list">
            {d.tools.map((t) => (
              <li key={t.name} data-tool={t.name}>
                <code>{t.name}</code> <span class={`badge badge-${t.approval}`}>{t.approval}</span>{' '}
                <TierBadge findings={t.findings} /> <span class="hint">{t.description ?? ''}</span>
                {t.findings?.length ? (
                  <details>
                    <summary>
                      Scanner: {findingsCount(t.findings.length)} on {t.name}
                      {t.overridden ? ' (approved by a person over them)' : ''}
                    </summary>
                    <Findings findings={t.findings} label={`Scanner findings on ${t.name}`} />
                  </details>
                ) : null}
              </li>
            ))}
          </ul>
          <h3>Standard error (last lines)</h3>
          {d.health.stderr_tail && d.health.stderr_tail.length > 0 ? (
            <ScrollBlock label={`Standard error of ${name}`} kind="stderr">
              {d.health.stderr_tail.join('\n')}
            </ScrollBlock>
          ) : (
            <p>Nothing on standard error.</p>
          )}
        </>
      ) : error.value ? null : (
        <p class="loading hint" aria-busy="true">
          Loading the details of {name}…
        </p>
      )}
      <h3>Recent events</h3>
      {events.length === 0 ? (
        <p>No events since this page opened.</p>
      ) : (
        <ol class="event-list">
          {events.map((e) => (
            <li key={e.seq}>
              <code>#{e.seq}</code> {e.time.slice(11, 19)} <strong>{e.type}</strong> {summaryOf(e.data)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** A short text of an event's data: `from → to`, the error, or the change. */
export function summaryOf(data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d.from === 'string' || typeof d.to === 'string')
    parts.push(`${String(d.from ?? '∅')} → ${String(d.to ?? '∅')}`);
  if (typeof d.change === 'string') parts.push(d.change);
  if (typeof d.tool === 'string') parts.push(d.tool);
  if (typeof d.status === 'string') parts.push(d.status);
  if (typeof d.error === 'string') parts.push(d.error);
  if (typeof d.reason === 'string' && parts.length < 2) parts.push(`(${d.reason})`);
  return parts.join(' ');
}
