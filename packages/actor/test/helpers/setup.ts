import {
  createFakeClock,
  type FakeClock,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createScriptedConnector, recordEvents, type ScriptedConnector } from '@mcpproxy/testkit';
import {
  type ActorSettings,
  createServerActor,
  DEFAULT_ACTOR_SETTINGS,
  type ServerActorOptions,
} from '../../src/index.js';

/** A validated server entry from its input form. */
export function server(input: Partial<ServerConfigInput> & { name?: string } = {}): ServerConfig {
  const parsed = parseServerConfig({ name: 'alpha', command: 'fake-server', ...input });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** Settings with small, round numbers so tests read clearly. */
export function settings(overrides: Partial<ActorSettings> = {}): ActorSettings {
  return {
    ...DEFAULT_ACTOR_SETTINGS,
    retry: { initial_delay: 100, max_delay: 1_600, max_retries: 10 },
    circuit_breaker: { failure_threshold: 3, reset_timeout: 5_000 },
    init_timeout: 1_000,
    health_check_interval: 0,
    tool_discovery_interval: 0,
    call_tool_timeout: 2_000,
    ...overrides,
  };
}

export function fakeWorld(): { clock: FakeClock; bus: EventBus } {
  const clock = createFakeClock();
  // No coalescer: its timer would sit on the fake clock and blur `clock.pending()` checks.
  const bus = createEventBus({ clock, coalesceMs: 0 });
  return { clock, bus };
}

export interface FakeActorOptions extends Partial<Omit<ServerActorOptions, 'bus' | 'clock' | 'connector'>> {
  /** @default a scripted connector with its defaults */
  connector?: ScriptedConnector;
  /** The server entry, as `server()` takes it. */
  server?: Parameters<typeof server>[0];
  /** Overrides of `settings()`. */
  settings?: Partial<ActorSettings>;
}

/** The actor `alpha` in a fake world (fake clock, bus, recorded events) on a scripted connector; not started. */
export function fakeActor({
  connector = createScriptedConnector(),
  server: serverInput = {},
  settings: overrides = {},
  ...options
}: FakeActorOptions = {}) {
  const { clock, bus } = fakeWorld();
  const events = recordEvents(bus);
  const actor = createServerActor('alpha', {
    config: { server: server(serverInput), settings: settings(overrides) },
    connector,
    bus,
    clock,
    ...options,
  });
  return { clock, bus, events, actor, connector };
}
