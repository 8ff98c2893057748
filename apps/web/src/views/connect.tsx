import { useSignal } from '@preact/signals';
import type { Settings } from '../settings.js';

/** Props of {@link ConnectView}. */
export interface ConnectProps {
  initial: Settings;
  /** Why the last attempt failed, shown on the field it concerns. */
  problem: { field: 'url' | 'key'; text: string } | null;
  busy: boolean;
  onConnect(settings: Settings): void;
}

/**
 * Asks for the server URL and API key: shown when this page is not served by mcpproxy (a hosted dashboard), or when
 * the server wants a key. Both are kept in this browser's localStorage.
 */
export function ConnectView({ initial, problem, busy, onConnect }: ConnectProps) {
  const url = useSignal(initial.url);
  const key = useSignal(initial.key);
  const submit = (e: Event) => {
    e.preventDefault();
    onConnect({ url: url.value.trim(), key: key.value.trim() });
  };
  const err = (field: 'url' | 'key') => (problem?.field === field ? problem.text : undefined);
  return (
    <main id="main" class="connect">
      <h1>Connect to mcpproxy</h1>
      <p>
        Give the address of a running mcpproxy and its API key. The server must list this page's origin (
        <code>{location.origin}</code>) in <code>allowed_origins</code>.
      </p>
      <form class="form" onSubmit={submit}>
        <div class={`field${err('url') ? ' invalid' : ''}`}>
          <label for="connect-url">Server URL</label>
          <input
            id="connect-url"
            type="url"
            required
            value={url.value}
            placeholder="http://127.0.0.1:8080"
            aria-invalid={err('url') ? 'true' : undefined}
            aria-describedby={err('url') ? 'connect-url-error' : undefined}
            onInput={(e) => (url.value = e.currentTarget.value)}
          />
          {err('url') ? (
            <small id="connect-url-error" class="field-error" role="alert">
              {err('url')}
            </small>
          ) : null}
        </div>
        <div class={`field${err('key') ? ' invalid' : ''}`}>
          <label for="connect-key">API key</label>
          <input
            id="connect-key"
            type="password"
            autocomplete="off"
            value={key.value}
            aria-invalid={err('key') ? 'true' : undefined}
            aria-describedby={err('key') ? 'connect-key-error' : 'connect-key-hint'}
            onInput={(e) => (key.value = e.currentTarget.value)}
          />
          <small id="connect-key-hint" class="hint">
            Leave empty when the server has no api_key.
          </small>
          {err('key') ? (
            <small id="connect-key-error" class="field-error" role="alert">
              {err('key')}
            </small>
          ) : null}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Connect
        </button>
      </form>
    </main>
  );
}
