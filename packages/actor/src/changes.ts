import { type ConfigChange, jsonEqual, type ServerConfig } from '@mcpproxy/contracts';

/** Fields whose change is reported as `enabled`/`disabled`/`quarantined`/`unquarantined` rather than `updated`. */
const STATUS_FIELDS: ReadonlySet<string> = new Set(['enabled', 'quarantined']);

/**
 * The change kinds of one server's config entry going from `prev` to `next` (`undefined` = not configured), in
 * the order the supervisor publishes them as `server_config_changed`: `added` or `removed`; else `quarantined` /
 * `unquarantined`, then `enabled` / `disabled`, then `updated` when any other field changed. Empty when equal.
 * The one definition of these rules: the supervisor publishes them and reports them from `reconciled()`.
 */
export function configChanges(prev: ServerConfig | undefined, next: ServerConfig | undefined): ConfigChange[] {
  if (prev === undefined) return next === undefined ? [] : ['added'];
  if (next === undefined) return ['removed'];
  if (prev === next || jsonEqual(prev, next)) return [];
  const kinds: ConfigChange[] = [];
  if (prev.quarantined !== next.quarantined) kinds.push(next.quarantined ? 'quarantined' : 'unquarantined');
  if (prev.enabled !== next.enabled) kinds.push(next.enabled ? 'enabled' : 'disabled');
  if (otherFieldsChanged(prev, next)) kinds.push('updated');
  return kinds;
}

/** What one reconcile did: the change kinds it applied and published, per server it touched. */
export interface ReconcileReport {
  /** Server name → the kinds published for it, in order. Servers it did not change are absent. */
  readonly changes: ReadonlyMap<string, readonly ConfigChange[]>;
}

function otherFieldsChanged(a: ServerConfig, b: ServerConfig): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (STATUS_FIELDS.has(key)) continue;
    if (!jsonEqual(a[key as keyof ServerConfig], b[key as keyof ServerConfig])) return true;
  }
  return false;
}
