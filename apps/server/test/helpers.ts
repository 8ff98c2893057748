import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BusEvent,
  type ConfigInput,
  type ServerState,
  type UpstreamCallResult,
  type UpstreamConnection,
  type UpstreamConnector,
  UpstreamError,
  type UpstreamTool,
} from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { StateView } from '@mcpproxy/stateview';
import { type RunningServer, type ServeOptions, serve } from '../src/index.js';

const require = createRequire(import.meta.url);
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const EVERYTHING = join(
  dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')),
  'dist',
  'index.js',
);

/** A stdio entry for `@modelcontextprotocol/server-everything`, started with this Node binary. */
export function everything(name = 'everything', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, protocol: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'], ...extra };
}

/** A stdio entry for one of `test/fixtures/*.mjs`. */
export function fixture(name: string, file: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, protocol: 'stdio', command: process.execPath, args: [join(FIXTURES, file)], ...extra };
}

/** A fresh temp dir, removed by the returned `cleanup`. */
export function tempDir(prefix = 'mcpproxy-server-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function writeConfig(path: string, config: ConfigInput | Record<string, unknown>): void {
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
}

export interface TestServer extends AsyncDisposable {
  running: RunningServer;
  url: string;
  dataDir: string;
  configPath: string;
  bus: EventBus;
  view: StateView;
  /** `fetch(url + path)` with the API key (when `key` is given) and the body as JSON. */
  api(path: string, init?: RequestInit & { json?: unknown; key?: string | false }): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (`undefined` when empty or not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields freely
  body: any;
}

/**
 * `fetch(url + path)` with the API key (unless `key` overrides it; `false` sends none) and the body as JSON; the
 * response body is parsed as JSON when it is JSON.
 */
export function restClient(url: string, apiKey?: string): TestServer['api'] {
  return async (path, init = {}) => {
    const { json, key = apiKey, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    if (json !== undefined) {
      headers.set('content-type', 'application/json');
      rest.body = JSON.stringify(json);
    }
    const res = await fetch(url + path, { ...rest, headers });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  };
}

export interface StartOptions extends Partial<Omit<ServeOptions, 'dataDir'>> {
  /** The config written before start (listen defaults to 127.0.0.1:0). */
  config?: Record<string, unknown> | undefined;
  /** Reuse a data dir (e.g. across a restart); else a fresh temp dir removed on close. */
  dataDir?: string | undefined;
  /** The key `api()` sends by default. */
  apiKey?: string | undefined;
}

/** Starts a real server on 127.0.0.1:0 with its config in a temp data dir. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const { config = {}, dataDir: given, apiKey, ...serveOptions } = opts;
  const temp = given ? undefined : tempDir();
  const dataDir = given ?? (temp as { path: string }).path;
  const configPath = join(dataDir, 'mcp_config.json');
  writeConfig(configPath, { listen: '127.0.0.1:0', ...config });
  let running: RunningServer;
  try {
    running = await serve({ dataDir, logLevel: 'silent', processMetrics: false, ...serveOptions });
  } catch (error) {
    temp?.cleanup();
    throw error;
  }
  const url = running.url as string;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await running.close();
    temp?.cleanup();
  };
  return {
    running,
    url,
    dataDir,
    configPath,
    bus: running.services.bus,
    view: running.services.view,
    api: restClient(url, apiKey),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Resolves when `predicate` holds for an event published from now on; rejects after `timeoutMs`. */
export function waitForEvent(
  bus: EventBus,
  predicate: (event: BusEvent) => boolean,
  timeoutMs = 10_000,
  what = 'event',
): Promise<BusEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const off = bus.subscribe('*', (event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Resolves once the view shows `server` in one of `states` (now or later); rejects after `timeoutMs`. */
export function waitForState(
  view: StateView,
  server: string,
  states: ServerState | readonly ServerState[],
  timeoutMs = 15_000,
): Promise<void> {
  const wanted = new Set(typeof states === 'string' ? [states] : states);
  const holds = () => {
    const row = view.server(server);
    return row !== undefined && wanted.has(row.state);
  };
  if (holds()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(
        new Error(`timed out waiting for ${server} to be ${[...wanted].join('|')} (is ${view.server(server)?.state})`),
      );
    }, timeoutMs);
    const off = view.subscribe(() => {
      if (!holds()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Resolves once `check()` is true, re-checking on every view change; rejects after `timeoutMs`. */
export function waitForView(
  view: StateView,
  check: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = view.subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

// ------------------------------------------------------------------ scripted upstreams

/** How a scripted upstream behaves. */
export interface Script {
  /** `hang`: connect never settles until aborted; `fail`: connect rejects with CONNECT_FAILED. @default 'ok' */
  connect?: 'ok' | 'hang' | 'fail' | undefined;
  /** @default one tool, `echo` */
  tools?: UpstreamTool[] | undefined;
  /** Answers a call; a call past its deadline fails with CALL_TIMEOUT whatever this does. @default echoes args */
  call?: ((tool: string, args: Record<string, unknown>) => Promise<UpstreamCallResult>) | undefined;
}

export const ECHO_TOOL: UpstreamTool = {
  name: 'echo',
  description: 'Echoes the message back',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
};

/** A connector whose upstreams are scripted by server name (`*` for any other name). No processes, no sockets. */
export function scriptedConnector(scripts: Record<string, Script>): UpstreamConnector & { connects: number } {
  const connector = {
    connects: 0,
    async connect(server: { name: string }, options: { signal?: AbortSignal | undefined } = {}) {
      connector.connects++;
      const script = scripts[server.name] ?? scripts['*'] ?? {};
      if (script.connect === 'fail') throw new UpstreamError('CONNECT_FAILED', `${server.name}: connection refused`);
      if (script.connect === 'hang') {
        return new Promise<UpstreamConnection>((_resolve, reject) => {
          const abort = () => reject(new UpstreamError('ABORTED', 'connect aborted'));
          if (options.signal?.aborted) abort();
          else options.signal?.addEventListener('abort', abort, { once: true });
        });
      }
      return scriptedConnection(script);
    },
  };
  return connector;
}

function scriptedConnection(script: Script): UpstreamConnection {
  const tools = script.tools ?? [ECHO_TOOL];
  const closeListeners = new Set<(error: Error | undefined) => void>();
  return {
    protocol: 'stdio',
    tools,
    serverInfo: { name: 'scripted', version: '1.0.0' },
    listTools: async () => tools,
    callTool(name, args, options = {}) {
      return new Promise<UpstreamCallResult>((resolve, reject) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        if (options.timeoutMs !== undefined) {
          timer = setTimeout(() => reject(new UpstreamError('CALL_TIMEOUT', `${name} timed out`)), options.timeoutMs);
        }
        options.signal?.addEventListener('abort', () => reject(new UpstreamError('ABORTED', 'aborted')), {
          once: true,
        });
        const answer = script.call
          ? script.call(name, args)
          : Promise.resolve({ content: [{ type: 'text', text: `echo: ${String(args.message)}` }] });
        answer.then(resolve, reject).finally(() => clearTimeout(timer));
      });
    },
    ping: async () => {},
    onClose(listener) {
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    onToolsChanged: () => () => {},
    stderrTail: () => [],
    close: async () => {},
  };
}

/** A promise that never settles (a tool call that hangs until its deadline). */
export const never = <T>(): Promise<T> => new Promise<T>(() => {});
