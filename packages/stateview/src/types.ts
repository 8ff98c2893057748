import type { AppInfo, BusEvent, ServerSummary } from '@mcpproxy/contracts';
import type { EventBus, Unsubscribe } from '@mcpproxy/events';

/** An immutable, deeply frozen view of every server and the app, as of event `seq`. */
export interface StateSnapshot {
  /** Bumps by one on every event that changed something; unchanged by no-op events. */
  readonly version: number;
  /** Seq of the last event applied (changing or not). */
  readonly seq: number;
  /** Every server, ordered by name. */
  readonly servers: readonly ServerSummary[];
  /** Process-wide state, start time and version. */
  readonly app: AppInfo;
}

/** What the reducers fold events into: the snapshot without its counters. Deeply frozen. */
export interface ViewState {
  /** Every server, ordered by name (code-unit order, as `<` compares strings); names are unique. */
  readonly servers: readonly ServerSummary[];
  /** Process-wide state, start time and version. */
  readonly app: AppInfo;
}

/** A listener of the view: the new snapshot and the event that produced it. */
export type StateListener = (snapshot: StateSnapshot, event: BusEvent) => void;

export interface StateViewOptions {
  /** The bus to project from; the view subscribes at creation. */
  bus: EventBus;
  /** Initial app info. @default {state:'starting', started_at:null, version:'0.0.0'} */
  app?: Partial<AppInfo> | undefined;
  /**
   * Initial rows, e.g. seeded from the config before any actor has published. They are copied, frozen and sorted
   * by name; when a name repeats, the last row wins. @default []
   */
  servers?: readonly ServerSummary[] | undefined;
  /**
   * Serialiser behind {@link StateView.serialized} and {@link StateView.serializedServers}; it is called once per
   * changed part (servers, app) per version, never on a read. @default JSON.stringify
   */
  stringify?: ((value: unknown) => string) | undefined;
  /** Called when a view listener throws; delivery to the other listeners goes on regardless. @default ignore */
  onListenerError?: ((error: unknown, event: BusEvent) => void) | undefined;
}

/** The read model: answers reads in the same tick, whatever the upstreams are doing. */
export interface StateView {
  /** The current snapshot; O(1), deeply frozen. */
  snapshot(): StateSnapshot;
  /** One server's row; O(1). */
  server(name: string): ServerSummary | undefined;
  /** JSON of `{version, seq, servers, app}` for the current version, computed at most once per version. */
  serialized(): string;
  /** JSON of `{servers}` (the `GET /api/v1/servers` body), computed at most once per version. */
  serializedServers(): string;
  /** Called after every event that changed the snapshot, with the new snapshot and the event. */
  subscribe(listener: StateListener): Unsubscribe;
  /** Unsubscribes from the bus; later reads return the last snapshot. Idempotent. */
  close(): void;
  /** Same as {@link StateView.close}, for `using`. */
  [Symbol.dispose](): void;
  /** Same as {@link StateView.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
