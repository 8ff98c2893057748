import {
  type Clock,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
  systemClock,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { type EventRecorder, recordEvents } from '@mcpproxy/testkit';
import { createConnector } from '@mcpproxy/upstream';
import { type ActorSettings, createServerActor, DEFAULT_ACTOR_SETTINGS, type ServerActor } from '../../src/index.js';

export function serverConfig(input: Partial<ServerConfigInput>): ServerConfig {
  const parsed = parseServerConfig({ name: 'real', ...input });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** Small delays so real retries finish quickly. */
export function realSettings(overrides: Partial<ActorSettings> = {}): ActorSettings {
  return {
    ...DEFAULT_ACTOR_SETTINGS,
    retry: { initial_delay: 50, max_delay: 400, max_retries: 10 },
    init_timeout: 10_000,
    health_check_interval: 0,
    tool_discovery_interval: 0,
    call_tool_timeout: 10_000,
    ...overrides,
  };
}

export interface RealActor extends AsyncDisposable {
  actor: ServerActor;
  bus: EventBus;
  events: EventRecorder;
}

/** An actor on the real connector and the real clock. */
export function realActor(
  server: ServerConfig,
  {
    settings = realSettings(),
    random,
    clock = systemClock,
  }: { settings?: ActorSettings; random?: () => number; clock?: Clock } = {},
): RealActor {
  const bus = createEventBus({ clock: systemClock, coalesceMs: 0 });
  const events = recordEvents(bus);
  // Tests may read the environment; the connector only takes PATH, HOME, USER, LANG and TERM from it.
  const connector = createConnector({ env: process.env, killGraceMs: 500 });
  const actor = createServerActor(server.name, { config: { server, settings }, connector, bus, random, clock });
  return {
    actor,
    bus,
    events,
    async [Symbol.asyncDispose]() {
      await actor.close();
      events.stop();
      bus.close();
    },
  };
}
