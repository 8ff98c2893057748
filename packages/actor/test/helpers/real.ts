import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Clock,
  parseServerConfig,
  type ServerConfig,
  type ServerConfigInput,
  systemClock,
} from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createConnector } from '@mcpproxy/upstream';
import { type ActorSettings, createServerActor, DEFAULT_ACTOR_SETTINGS, type ServerActor } from '../../src/index.js';
import { type Recorder, record } from './events.js';

const require = createRequire(import.meta.url);

/** Entry file of `@modelcontextprotocol/server-everything`, run with `process.execPath` (not npx). */
export const everythingEntry = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist/index.js',
);

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

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
  events: Recorder;
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
  const events = record(bus);
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

/** A port that was free a moment ago (bind 127.0.0.1:0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** server-everything over Streamable HTTP; resolves once it says it listens. */
export async function startEverythingHttp(): Promise<{ url: string } & AsyncDisposable> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [everythingEntry, 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`server-everything did not start: ${out}`)), 30_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(`listening on port ${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server-everything exited with ${code}: ${out}`));
      });
    });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}/mcp`, [Symbol.asyncDispose]: dispose };
}
