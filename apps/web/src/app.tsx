import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { countdown } from './format.js';
import { loadSettings, type Settings, sameOriginUrl, saveSettings } from './settings.js';
import { openSession, type Session } from './store.js';
import { notice } from './ui.js';
import { ActivityView } from './views/activity.js';
import { AddView } from './views/add.js';
import { ConnectView } from './views/connect.js';
import { DetailView } from './views/detail.js';
import { EventsView } from './views/events.js';
import { QuarantineView } from './views/quarantine.js';
import { ServersView } from './views/servers.js';
import { ToolsView } from './views/tools.js';

type Phase =
  | { kind: 'checking' }
  | { kind: 'connect'; settings: Settings; problem: { field: 'url' | 'key'; text: string } | null; busy: boolean }
  | { kind: 'ready'; session: Session; settings: Settings };

const phase = signal<Phase>({ kind: 'checking' });
const route = signal(location.hash);

const NAV = [
  { hash: '#/servers', label: 'Servers' },
  { hash: '#/add', label: 'Add server' },
  { hash: '#/quarantine', label: 'Quarantine' },
  { hash: '#/tools', label: 'Tools' },
  { hash: '#/events', label: 'Events' },
  { hash: '#/activity', label: 'Activity' },
];

/** Why a connection attempt failed, on the field that fixes it. */
function problemOf(error: unknown, url: string, hadKey: boolean): { field: 'url' | 'key'; text: string } {
  const code = (error as { code?: string }).code;
  if (code === 'UNAUTHORIZED') {
    return { field: 'key', text: hadKey ? 'The server refused this API key.' : 'This server needs an API key.' };
  }
  if (code === 'FORBIDDEN_ORIGIN') {
    return { field: 'url', text: `The server refuses this origin: add ${location.origin} to its allowed_origins.` };
  }
  if (code === 'UNREACHABLE' || code === 'TIMEOUT') {
    return {
      field: 'url',
      text: `No answer from ${url}: it is not running there, or it does not admit ${location.origin} (allowed_origins).`,
    };
  }
  if (error instanceof TypeError) return { field: 'url', text: error.message };
  return { field: 'url', text: `${url} does not answer as an mcpproxy API (${code ?? String(error)}).` };
}

/** Checks the settings with `GET /api/v1/status` and opens the session, or shows the connect form saying why not. */
async function connect(settings: Settings, { remember, quiet }: { remember: boolean; quiet: boolean }): Promise<void> {
  if (phase.value.kind === 'connect') phase.value = { ...phase.value, settings, busy: true };
  let session: Session | undefined;
  try {
    // The live socket opens while the status request checks the address and key: the first table comes one round
    // trip sooner. A failed check closes it again.
    session = openSession(settings);
    await session.api.status();
  } catch (error) {
    session?.close();
    phase.value = {
      kind: 'connect',
      settings,
      problem:
        quiet && (error as { code?: string }).code !== 'UNAUTHORIZED'
          ? null
          : problemOf(error, settings.url, !!settings.key),
      busy: false,
    };
    return;
  }
  if (remember) saveSettings(settings);
  phase.value = { kind: 'ready', session, settings };
}

/** Starts the dashboard: saved settings first, then this page's own origin without a key. */
export function boot(): void {
  window.addEventListener('hashchange', () => {
    route.value = location.hash;
  });
  const saved = loadSettings();
  if (saved) void connect(saved, { remember: true, quiet: false });
  else void connect({ url: sameOriginUrl(location), key: '' }, { remember: false, quiet: true });
}

function disconnect(): void {
  const p = phase.value;
  if (p.kind !== 'ready') return;
  p.session.close();
  saveSettings(undefined);
  phase.value = { kind: 'connect', settings: p.settings, problem: null, busy: false };
}

/** The connection indicator: live / reconnecting (attempt, next try) / polling, from the live client. */
function Indicator({ session }: { session: Session }) {
  const c = session.connection.value;
  const now = session.now.value;
  const detail =
    c.status === 'live'
      ? 'updates arrive as they happen'
      : c.status === 'polling'
        ? 'socket down: refreshing every 30 s while retrying'
        : c.retryAt
          ? `retry ${countdown(new Date(c.retryAt).toISOString(), now)}${c.attempts ? `, attempt ${c.attempts + 1}` : ''}`
          : 'connecting';
  return (
    <div
      class={`indicator indicator-${c.status}`}
      role="status"
      aria-live="polite"
      data-status={c.status}
      title={c.lastError ?? ''}
    >
      <span class="dot" aria-hidden="true" />
      <span class="indicator-label">{c.status}</span>
      <span class="hint"> — {detail}</span>
    </div>
  );
}

function Routed({ session }: { session: Session }) {
  const hash = route.value || '#/servers';
  const detail = /^#\/servers\/(.+)$/.exec(hash);
  if (detail) {
    const name = decodeURIComponent(detail[1] as string);
    // Keyed by the server: another server's page is a new view with its own state (its data, its scan), never the
    // last one's carried over until the new answers arrive.
    return <DetailView key={name} session={session} name={name} />;
  }
  switch (hash) {
    case '#/add':
      return <AddView session={session} />;
    case '#/quarantine':
      return <QuarantineView session={session} />;
    case '#/tools':
      return <ToolsView session={session} />;
    case '#/events':
      return <EventsView session={session} />;
    case '#/activity':
      return <ActivityView session={session} />;
    default:
      return <ServersView session={session} />;
  }
}

/** The whole page. */
export function App() {
  const p = phase.value;
  const hash = route.value || '#/servers';
  useEffect(() => {
    // A new view: its feedback starts empty and focus moves to its heading, as a page load would.
    notice.value = null;
    if (p.kind === 'ready' && document.activeElement?.closest('nav')) document.getElementById('view-title')?.focus();
  }, [hash]);
  if (p.kind === 'checking')
    return (
      <main id="main" class="connect">
        <p role="status">Connecting…</p>
      </main>
    );
  if (p.kind === 'connect') {
    return (
      <ConnectView
        initial={p.settings}
        problem={p.problem}
        busy={p.busy}
        onConnect={(s) => void connect(s, { remember: true, quiet: false })}
      />
    );
  }
  const pending = p.session.servers.value.reduce(
    (n, s) => n + (s.quarantined ? 1 : 0) + s.pending_tools + s.changed_tools,
    0,
  );
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('view-title')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <h1>mcpproxy</h1>
        <nav aria-label="Views">
          <ul>
            {NAV.map((n) => (
              <li key={n.hash}>
                <a
                  href={n.hash}
                  aria-current={
                    hash === n.hash || (n.hash === '#/servers' && hash.startsWith('#/servers')) ? 'page' : undefined
                  }
                >
                  {n.label}
                  {n.hash === '#/quarantine' && pending > 0 ? <span class="count"> ({pending})</span> : null}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Indicator session={p.session} />
        <button type="button" class="link" onClick={disconnect}>
          Change server
        </button>
      </header>
      <main id="main">
        <Routed session={p.session} />
      </main>
    </>
  );
}
