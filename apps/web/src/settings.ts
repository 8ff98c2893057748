/** Where the dashboard connects: kept in localStorage so a hosted dashboard remembers its server and key. */
export interface Settings {
  /** Server root, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** API key; empty when the server needs none. */
  key: string;
}

const STORAGE_KEY = 'mcpproxy.dashboard';

/** The saved settings, or `undefined` when there are none (or they are unreadable). */
export function loadSettings(storage: Pick<Storage, 'getItem'> = localStorage): Settings | undefined {
  try {
    const raw = storage.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Partial<Settings>;
    if (typeof parsed.url !== 'string' || !parsed.url) return undefined;
    return { url: parsed.url, key: typeof parsed.key === 'string' ? parsed.key : '' };
  } catch {
    return undefined;
  }
}

/** Saves the settings (or forgets them with `undefined`). */
export function saveSettings(
  settings: Settings | undefined,
  storage: Pick<Storage, 'setItem' | 'removeItem'> = localStorage,
) {
  if (settings) storage.setItem(STORAGE_KEY, JSON.stringify(settings));
  else storage.removeItem(STORAGE_KEY);
}

/**
 * The server this page most likely belongs to: the page's own origin when it is served by mcpproxy (at `/ui/`).
 * A hosted dashboard on another origin has no API there, which the first status request tells.
 */
export function sameOriginUrl(location: Pick<Location, 'origin'>): string {
  return location.origin;
}
