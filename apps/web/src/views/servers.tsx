// biome-ignore-all lint/a11y/useSemanticElements: an ARIA table of grid rows instead of <table>, so that off-screen rows skip layout (see ServersView)
// biome-ignore-all lint/a11y/useFocusableInteractive: rows and headers are table structure, not widgets; the links and buttons in them take focus
import type { BulkResult, ServerSummary } from '@mcpproxy/contracts';
import { useSignal } from '@preact/signals';
import { useMemo } from 'preact/hooks';
import { Choice } from '../filters.js';
import { countdown, filterServers, groupsOf, refusal, type SortKey, sortServers } from '../format.js';
import type { Session } from '../store.js';
import { announce, memo, NoticeBar, StateBadge, ViewHeader } from '../ui.js';

type Action = 'enable' | 'disable' | 'restart' | 'quarantine' | 'unquarantine';

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'groups', label: 'Groups' },
  { key: 'state', label: 'State' },
  { key: 'circuit', label: 'Circuit' },
  { key: 'tool_count', label: 'Tools' },
  { key: 'last_error', label: 'Last error' },
  { key: 'next_retry_at', label: 'Retry' },
];

/** Runs one server action and says how it went. */
async function runAction(session: Session, action: Action, name: string): Promise<void> {
  const call = {
    enable: session.api.enableServer,
    disable: session.api.disableServer,
    restart: session.api.restartServer,
    quarantine: session.api.quarantineServer,
    unquarantine: session.api.unquarantineServer,
  }[action];
  try {
    await call(name);
    announce(true, `${action} ${name}: done`);
  } catch (error) {
    announce(false, `${action} ${name}: ${refusal(error)}`);
  }
}

function bulkText(action: string, scope: string, r: BulkResult): string {
  const failed = Object.entries(r.results)
    .filter(([, v]) => !v.ok)
    .map(([n, v]) => `${n} (${v.error ?? 'failed'})`);
  return `${action} ${scope}: ${r.successful} of ${r.total} done${failed.length ? `; failed: ${failed.join(', ')}` : ''}`;
}

interface RowProps {
  server: ServerSummary;
  /** Countdown text, computed by the parent so that rows without a retry do not re-render each second. */
  retry: string;
  session: Session;
}

/** One row; memoised on the summary object, which the read model keeps identical while a server does not change. */
const Row = memo(function Row({ server: s, retry, session }: RowProps) {
  const act = (a: Action) => () => void runAction(session, a, s.name);
  return (
    <div role="row" class="row" data-server={s.name}>
      <div role="rowheader" class="name">
        <a href={`#/servers/${encodeURIComponent(s.name)}`}>{s.name}</a>
      </div>
      <div role="cell" class="groups">
        {s.groups.join(', ')}
      </div>
      <div role="cell" class="state">
        <StateBadge state={s.state} />
        {s.auto_disabled ? <span class="hint"> auto-disabled</span> : null}
      </div>
      <div role="cell" class="circuit">
        {s.circuit}
      </div>
      <div role="cell" class="num">
        <span class="count">{s.tool_count}</span>
        {s.pending_tools + s.changed_tools > 0 ? (
          <a class="hint" href="#/quarantine">
            {' '}
            ({s.pending_tools + s.changed_tools} to review)
          </a>
        ) : null}
      </div>
      <div role="cell" class="error-text">
        {s.last_error ?? ''}
      </div>
      <div role="cell" class="retry">
        {retry}
      </div>
      <div role="cell" class="actions">
        {s.enabled ? (
          <button type="button" onClick={act('disable')} aria-label={`Disable ${s.name}`}>
            Disable
          </button>
        ) : (
          <button type="button" onClick={act('enable')} aria-label={`Enable ${s.name}`}>
            Enable
          </button>
        )}
        <button type="button" onClick={act('restart')} aria-label={`Restart ${s.name}`}>
          Restart
        </button>
        {s.quarantined ? (
          <button type="button" onClick={act('unquarantine')} aria-label={`Unquarantine ${s.name}`}>
            Unquarantine
          </button>
        ) : (
          <button type="button" onClick={act('quarantine')} aria-label={`Quarantine ${s.name}`}>
            Quarantine
          </button>
        )}
      </div>
    </div>
  );
});

/** The live servers table with sorting, a filter box, per-row and bulk actions. */
export function ServersView({ session }: { session: Session }) {
  const sortKey = useSignal<SortKey>('name');
  const descending = useSignal(false);
  const filter = useSignal('');
  const scope = useSignal('');
  const busy = useSignal(false);
  const all = session.servers.value;
  const now = session.now.value;
  const rows = useMemo(
    () => sortServers(filterServers(all, filter.value), sortKey.value, descending.value),
    [all, filter.value, sortKey.value, descending.value],
  );
  const groups = useMemo(() => groupsOf(all), [all]);

  const sortBy = (key: SortKey) => {
    if (sortKey.value === key) descending.value = !descending.value;
    else {
      sortKey.value = key;
      descending.value = false;
    }
  };
  const bulk = async (action: 'enable' | 'disable' | 'restart') => {
    const group = scope.value || undefined;
    const label = group ? `group ${group}` : 'all servers';
    busy.value = true;
    try {
      const call = { enable: session.api.enableAll, disable: session.api.disableAll, restart: session.api.restartAll }[
        action
      ];
      const result = await call({ group });
      announce(result.failed === 0, bulkText(action, label, result));
    } catch (error) {
      announce(false, `${action} ${label}: ${refusal(error)}`);
    } finally {
      busy.value = false;
    }
  };

  return (
    <section aria-labelledby="view-title">
      <ViewHeader title="Servers">
        <label class="field-inline">
          Filter
          <input
            id="server-filter"
            type="search"
            value={filter.value}
            onInput={(e) => {
              filter.value = e.currentTarget.value;
            }}
            placeholder="name, group, state, error"
          />
        </label>
        <Choice
          label="Bulk scope"
          id="bulk-scope"
          value={scope}
          any="All servers"
          options={groups}
          text={(g) => `Group ${g}`}
        />
        <button type="button" disabled={busy.value} onClick={() => void bulk('enable')}>
          Enable all
        </button>
        <button type="button" disabled={busy.value} onClick={() => void bulk('disable')}>
          Disable all
        </button>
        <button type="button" disabled={busy.value} onClick={() => void bulk('restart')}>
          Restart all
        </button>
      </ViewHeader>
      <NoticeBar />
      <p class="summary" aria-live="off">
        {rows.length === all.length ? `${all.length} servers` : `${rows.length} of ${all.length} servers`}
      </p>
      <div class="table-wrap">
        {/* ARIA table of grid rows rather than <table>: each row is its own layout box, so the browser lays out and
            paints only the rows on screen (content-visibility) and one changed row, not all 1,000. */}
        <div role="table" class="grid servers" aria-label="Servers, live" aria-rowcount={rows.length + 1}>
          <div role="rowgroup" class="head">
            <div role="row" class="row">
              {COLUMNS.map((c) => (
                <div
                  key={c.key}
                  role="columnheader"
                  aria-sort={sortKey.value === c.key ? (descending.value ? 'descending' : 'ascending') : 'none'}
                >
                  <button type="button" class="sort" onClick={() => sortBy(c.key)}>
                    {c.label}
                    <span aria-hidden="true">{sortKey.value === c.key ? (descending.value ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                </div>
              ))}
              <div role="columnheader">Actions</div>
            </div>
          </div>
          <div role="rowgroup" class="rows">
            {rows.map((s) => (
              <Row key={s.name} server={s} retry={countdown(s.next_retry_at, now)} session={session} />
            ))}
          </div>
        </div>
      </div>
    </section>
  );
}
