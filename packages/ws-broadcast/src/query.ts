import { EVENT_TYPES, type EventType, LEGACY_ALIASES } from '@mcpproxy/contracts';
import { BroadcastError } from './errors.js';

/** What a live client asked for in its URL (or later with the `subscribe` op). */
export interface LiveQuery {
  /** Event types to receive; `null` = every type. */
  types: ReadonlySet<EventType> | null;
  /** Servers to receive events of; `null` = every event. Events without a server are left out when set. */
  servers: ReadonlySet<string> | null;
  /** Resume point: the last seq the client saw. */
  since: number | undefined;
  /** Epoch the resume point belongs to. */
  epoch: string | undefined;
  /** Whether the client wants the legacy aliases (`state_change`, `config_change`). */
  legacy: boolean;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const FROM_ALIAS: ReadonlyMap<string, EventType> = new Map(
  Object.entries(LEGACY_ALIASES).map(([type, alias]) => [alias, type as EventType]),
);

/** Splits repeated and comma-separated values (`a,b&x=c` → `[a, b, c]`), dropping empties. */
function listParam(params: URLSearchParams, name: string): string[] | undefined {
  const all = params.getAll(name);
  if (all.length === 0) return undefined;
  return all.flatMap((v) => v.split(',')).flatMap((v) => (v.trim() ? [v.trim()] : []));
}

/**
 * Resolves type names (canonical or legacy alias) to canonical types; `null` for none or an empty list.
 * @throws {BroadcastError} `BAD_QUERY` naming every unknown type.
 */
export function resolveTypes(names: readonly string[] | undefined): ReadonlySet<EventType> | null {
  if (!names || names.length === 0) return null;
  const out = new Set<EventType>();
  const unknown: string[] = [];
  for (const name of names) {
    if (KNOWN_TYPES.has(name)) out.add(name as EventType);
    else {
      const canonical = FROM_ALIAS.get(name);
      if (canonical) out.add(canonical);
      else unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    throw new BroadcastError(
      'BAD_QUERY',
      `unknown event type${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (known: ${[...KNOWN_TYPES, ...FROM_ALIAS.keys()].join(', ')})`,
    );
  }
  return out;
}

function parseSeq(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new BroadcastError('BAD_QUERY', `${name} must be a non-negative integer`);
  return Number(value.trim());
}

/**
 * Parses the query of a live endpoint. `lastEventId` (SSE's `Last-Event-ID` header) wins over `since`.
 * @throws {BroadcastError} `BAD_QUERY` with a message fit for the client.
 */
export function parseLiveQuery(
  params: URLSearchParams,
  { requireServer = false, lastEventId }: { requireServer?: boolean; lastEventId?: string | null | undefined } = {},
): LiveQuery {
  const types = resolveTypes(listParam(params, 'types'));
  const serverList = listParam(params, 'server');
  if (requireServer && (!serverList || serverList.length === 0)) {
    throw new BroadcastError('BAD_QUERY', 'at least one server= parameter is required');
  }
  const since = parseSeq(lastEventId ?? params.get('since'), lastEventId ? 'Last-Event-ID' : 'since');
  const epoch = params.get('epoch') || undefined;
  const legacyParam = params.get('legacy');
  return {
    types,
    servers: serverList && serverList.length > 0 ? new Set(serverList) : null,
    since,
    epoch,
    legacy: legacyParam === '1' || legacyParam === 'true',
  };
}
