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

/** Longest `Last-Event-ID` worth parsing: an epoch, a colon and a 16-digit seq fit easily; longer is garbage. */
const MAX_EVENT_ID_LENGTH = 256;
const CANONICAL_SEQ = /^(0|[1-9]\d{0,15})$/;

/**
 * Reads an SSE event id of the form `EPOCH:SEQ` (what codec's `eventId` writes in `id:`). The epoch is everything before
 * the last colon, so an epoch with colons of its own still parses; the seq must be a canonical non-negative safe
 * integer (no sign, no leading zeros, no spaces). Anything else (a bare number, garbage, an empty epoch or seq) is
 * `undefined`: the caller then sends a fresh snapshot, because guessing a position could replay the wrong events.
 */
export function parseEventId(id: string): { epoch: string; since: number } | undefined {
  if (id.length > MAX_EVENT_ID_LENGTH) return undefined;
  const colon = id.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const seq = id.slice(colon + 1);
  if (!CANONICAL_SEQ.test(seq)) return undefined;
  const since = Number(seq);
  if (!Number.isSafeInteger(since)) return undefined;
  return { epoch: id.slice(0, colon), since };
}

/**
 * Parses the query of a live endpoint. A non-empty `lastEventId` (SSE's `Last-Event-ID` header) alone decides the
 * resume point, over `since`/`epoch`: `EventSource` reconnects to its original URL, so a `since` there is stale. A
 * malformed `lastEventId` is not an error (a browser would stop reconnecting on a 400); it resumes nothing, so the
 * client gets a fresh snapshot. A malformed `since` in the URL is the caller's mistake and is refused.
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
  let since = parseSeq(params.get('since'), 'since');
  let epoch = params.get('epoch') || undefined;
  if (lastEventId) {
    const position = parseEventId(lastEventId);
    since = position?.since;
    epoch = position?.epoch;
  }
  const legacyParam = params.get('legacy');
  return {
    types,
    servers: serverList && serverList.length > 0 ? new Set(serverList) : null,
    since,
    epoch,
    legacy: legacyParam === '1' || legacyParam === 'true',
  };
}
