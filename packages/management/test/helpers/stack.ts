import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSupervisor, type Supervisor } from '@mcpproxy/actor';
import { type ConfigService, createConfigService } from '@mcpproxy/configsvc';
import {
  type Clock,
  createFakeClock,
  type ErrorCode,
  type FakeClock,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createToolIndex, type ToolIndex } from '@mcpproxy/search';
import { createStateView, type StateView } from '@mcpproxy/stateview';
import {
  createScriptedConnector,
  type EventRecorder,
  recordEvents,
  type ScriptedConnector,
  type ServerScript,
} from '@mcpproxy/testkit';
import { expect } from 'vitest';
import { type Caller, createManagementService, ManagementError, type ManagementService } from '../../src/index.js';
import { defaultCall, defaultTools } from './tools.js';

export const human: Caller = { source: 'rest', requestId: 'req-1' };
export const agent: Caller = { source: 'mcp' };

/** The code a management call failed with (asserted to be a `ManagementError`), or `'ok'`. */
export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(ManagementError);
    return (error as ManagementError).code;
  }
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
  scripts?: Record<string, ServerScript>;
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
  events: EventRecorder;
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
  const events = recordEvents(bus, { timeoutMs: 5_000 });
  const view = createStateView({ bus, app: { version: '1.2.3' } });
  const config = await createConfigService({ path, bus, watch: false, clock });
  const scripted = createScriptedConnector({ tools: defaultTools, onCall: defaultCall });
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

export type { FakeClock };
