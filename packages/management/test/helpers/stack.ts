import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSupervisor, type Supervisor } from '@mcpproxy/actor';
import { type ConfigService, createConfigService } from '@mcpproxy/configsvc';
import {
  type BusEvent,
  type Clock,
  createFakeClock,
  type EventEnvelope,
  type EventType,
  type FakeClock,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createToolIndex, type ToolIndex } from '@mcpproxy/search';
import { createStateView, type StateView } from '@mcpproxy/stateview';
import { type Caller, createManagementService, type ManagementService } from '../../src/index.js';
import { createScriptedConnector, type Script, type ScriptedConnector } from './connector.js';

export const human: Caller = { source: 'rest', requestId: 'req-1' };
export const agent: Caller = { source: 'mcp' };

export interface Recorder {
  readonly events: BusEvent[];
  of<K extends EventType>(type: K, server?: string): EventEnvelope<K>[];
  /** The first matching event, already seen or yet to come; rejects after `timeoutMs` of real time. */
  waitFor<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  /** Like waitFor, but only events published after this call. */
  next<K extends EventType>(
    type: K,
    predicate?: (event: EventEnvelope<K>) => boolean,
    timeoutMs?: number,
  ): Promise<EventEnvelope<K>>;
  stop(): void;
}

export function record(bus: EventBus): Recorder {
  const events: BusEvent[] = [];
  const waiters = new Set<(event: BusEvent) => void>();
  const off = bus.subscribe('*', (event) => {
    events.push(event);
    for (const w of [...waiters]) w(event);
  });
  const wait = <K extends EventType>(
    from: number,
    type: K,
    predicate: (event: EventEnvelope<K>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<EventEnvelope<K>> => {
    const matches = (e: BusEvent) => e.type === type && predicate(e as unknown as EventEnvelope<K>);
    const seen = events.slice(from).find(matches);
    if (seen) return Promise.resolve(seen as unknown as EventEnvelope<K>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const tail = events
          .slice(-12)
          .map((e) => `${e.type}${e.server ? `(${e.server})` : ''}${'to' in e.data ? `→${String(e.data.to)}` : ''}`)
          .join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${type}; last events: ${tail}`));
      }, timeoutMs);
      const waiter = (e: BusEvent) => {
        if (!matches(e)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(e as unknown as EventEnvelope<K>);
      };
      waiters.add(waiter);
    });
  };
  return {
    events,
    of: <K extends EventType>(type: K, server?: string) =>
      events.filter(
        (e) => e.type === type && (server === undefined || e.server === server),
      ) as unknown as EventEnvelope<K>[],
    waitFor: (type, predicate, timeoutMs) => wait(0, type, predicate, timeoutMs),
    next: (type, predicate, timeoutMs) => wait(events.length, type, predicate, timeoutMs),
    stop: off,
  };
}

export interface StackOptions {
  /** The file's content besides the defaults below. */
  file?: Record<string, unknown>;
  /** @default a fake clock */
  clock?: Clock;
  /** @default a scripted connector */
  connector?: UpstreamConnector;
  /** Build a real `@mcpproxy/search` index. @default true */
  index?: boolean;
  /** Start the supervisor. @default true */
  start?: boolean;
  /** Scripts of the scripted connector, installed before the supervisor starts. */
  scripts?: Record<string, Script>;
}

export interface Stack extends AsyncDisposable {
  path: string;
  clock: Clock;
  bus: EventBus;
  view: StateView;
  config: ConfigService;
  supervisor: Supervisor;
  connector: ScriptedConnector;
  index: ToolIndex | undefined;
  mgmt: ManagementService;
  events: Recorder;
  /** The config file's bytes. */
  file(): string;
  /** The config file, parsed. */
  json(): { mcpServers: Record<string, unknown>[]; [key: string]: unknown };
  /** Resolves once `server` reaches `state` (already there or later). */
  reach(server: string, state: string): Promise<void>;
}

/** Timers are off by default so a fake clock holds nothing but what a test sets up. */
const BASE_FILE = {
  listen: '127.0.0.1:8080',
  health_check_interval: 0,
  tool_discovery_interval: 0,
  retry: { initial_delay: '1s', max_delay: '1s', max_retries: 10 },
};

/** The whole stack on a temp dir: real bus, configsvc, stateview, supervisor, search index, and the service. */
export async function createStack({
  file = {},
  clock = createFakeClock(),
  connector,
  index: withIndex = true,
  start = true,
  scripts = {},
}: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpproxy-mgmt-'));
  const path = join(dir, 'mcp_config.json');
  writeFileSync(path, `${JSON.stringify({ ...BASE_FILE, ...file }, null, 2)}\n`);
  const bus = createEventBus({ clock, coalesceMs: 0 });
  const events = record(bus);
  const view = createStateView({ bus, app: { version: '1.2.3' } });
  const config = await createConfigService({ path, bus, watch: false, clock });
  const scripted = createScriptedConnector();
  for (const [name, script] of Object.entries(scripts)) scripted.script(name, script);
  const supervisor = createSupervisor({ config, bus, connector: connector ?? scripted, clock, random: () => 0 });
  const index = withIndex ? createToolIndex() : undefined;
  const mgmt = createManagementService({ config, supervisor, view, bus, index, clock });
  if (start) supervisor.start();
  const stack: Stack = {
    path,
    clock,
    bus,
    view,
    config,
    supervisor,
    connector: scripted,
    index,
    mgmt,
    events,
    file: () => readFileSync(path, 'utf8'),
    json: () => JSON.parse(readFileSync(path, 'utf8')),
    async reach(server, state) {
      if (view.server(server)?.state === state) return;
      await events.next('server_state_changed', (e) => e.server === server && e.data.to === state);
    },
    async [Symbol.asyncDispose]() {
      await mgmt.close();
      await supervisor.close();
      await config.close();
      view.close();
      events.stop();
      bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Lets promise callbacks and actor mailboxes run (a fake clock needs this between `advance` steps). */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export type { FakeClock };
