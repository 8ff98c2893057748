import { type ChildProcess, spawn } from 'node:child_process';
import type { Clock, ConnectedProtocol, Logger, ServerConfig } from '@mcpproxy/contracts';
import { INHERITED_ENV_KEYS } from '@mcpproxy/upstream';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** A raw upstream transport of one `/mcp/servers/{name}` session. */
export interface UpstreamLink {
  readonly transport: Transport;
  readonly protocol: ConnectedProtocol;
  /** Tells an HTTP transport the negotiated version (sent as `MCP-Protocol-Version` from then on). */
  setProtocolVersion(version: string): void;
  /** Ends the session upstream (HTTP `DELETE`) and closes; for stdio ends the whole process group. Idempotent. */
  close(): Promise<void>;
}

export interface LinkOptions {
  /** The proxy's environment: only PATH, HOME, USER, LANG and TERM reach a stdio upstream (plus its own `env`). */
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  logger: Logger;
  /** SIGTERM → SIGKILL grace for a stdio upstream's process group. */
  killGraceMs: number;
}

/**
 * Opens (but does not initialize) a raw transport to `server` over `protocol` (the actor's resolved one, so `auto`
 * is never guessed twice). Nothing is parsed beyond JSON-RPC framing: the session pipes messages through as they are.
 */
export function openUpstreamLink(
  server: ServerConfig,
  protocol: ConnectedProtocol,
  options: LinkOptions,
): UpstreamLink {
  if (protocol === 'stdio') return stdioLink(server, options);
  if (!server.url) throw new Error(`server "${server.name}" has no url`);
  const { url, headers } = splitCredentials(new URL(server.url), server.headers);
  if (protocol === 'sse') {
    const transport = new SSEClientTransport(url, { requestInit: { headers } });
    return {
      transport,
      protocol,
      setProtocolVersion: (v) => transport.setProtocolVersion?.(v),
      close: once(() => transport.close()),
    };
  }
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers }, fetch: unlinkedFetch });
  return {
    transport,
    protocol,
    setProtocolVersion: (v) => transport.setProtocolVersion(v),
    close: once(async () => {
      if (transport.sessionId) {
        let timer: ReturnType<Clock['setTimeout']> | undefined;
        await Promise.race([
          transport.terminateSession().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = options.clock.setTimeout(resolve, 1_000);
          }),
        ]);
        options.clock.clearTimeout(timer);
      }
      await transport.close().catch(() => {});
    }),
  };
}

/**
 * The SDK's Streamable HTTP client passes one shared `AbortSignal` to every fetch; undici only drops its listener
 * on that signal when the request is garbage-collected, so under load the signal collects thousands of listeners
 * (and Node warns on every new one). A POST gets its own signal, linked to the shared one only until its response
 * headers arrive (its body then ends with the response; `close()` also ends the upstream session). GETs — the
 * long-lived standalone stream — keep the shared signal, so `close()` still cancels them.
 */
const unlinkedFetch: typeof fetch = async (input, init) => {
  const shared = init?.signal;
  if (!shared || !init?.method || init.method === 'GET') return fetch(input, init);
  const own = new AbortController();
  const relay = () => own.abort(shared.reason);
  if (shared.aborted) own.abort(shared.reason);
  else shared.addEventListener('abort', relay, { once: true });
  try {
    return await fetch(input, { ...init, signal: own.signal });
  } finally {
    shared.removeEventListener('abort', relay);
  }
};

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn().catch(() => {});
    return p;
  };
}

/** `https://user:pass@host/…` → the URL without credentials plus a Basic `Authorization` header (fetch refuses them). */
function splitCredentials(
  url: URL,
  headers: Readonly<Record<string, string>>,
): { url: URL; headers: Record<string, string> } {
  const out = { ...headers };
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    if (!Object.keys(out).some((k) => k.toLowerCase() === 'authorization')) {
      out.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    const clean = new URL(url);
    clean.username = '';
    clean.password = '';
    return { url: clean, headers: out };
  }
  return { url, headers: out };
}

function stdioLink(server: ServerConfig, { env, clock, logger, killGraceMs }: LinkOptions): UpstreamLink {
  const command = server.command;
  if (!command) throw new Error(`server "${server.name}" has no command`);
  const childEnv: Record<string, string> = {};
  for (const key of INHERITED_ENV_KEYS) {
    const v = env[key];
    if (v !== undefined) childEnv[key] = v;
  }
  Object.assign(childEnv, server.env);
  const transport = new ProcessGroupTransport(
    () =>
      spawn(command, server.args, {
        shell: false,
        detached: true,
        cwd: server.working_dir,
        env: childEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      }),
    { clock, logger, killGraceMs, name: server.name },
  );
  return { transport, protocol: 'stdio', setProtocolVersion: () => {}, close: () => transport.close() };
}

/**
 * A stdio transport whose child leads its own process group (no shell, minimal environment), and whose `close()`
 * ends the whole group: SIGTERM, then SIGKILL after the grace (DESIGN §4), resolving once the child exited.
 */
class ProcessGroupTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #child: ChildProcess | undefined;
  readonly #buffer = new ReadBuffer();
  #exited: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #closedNotified = false;

  constructor(
    private readonly start_: () => ChildProcess,
    private readonly opts: { clock: Clock; logger: Logger; killGraceMs: number; name: string },
  ) {}

  async start(): Promise<void> {
    const child = this.start_();
    this.#child = child;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => reject(error));
    });
    child.on('error', (error) => this.onerror?.(error));
    child.once('exit', () => this.#notifyClosed());
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.#buffer.readMessage();
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (message === null) break;
        this.onmessage?.(message);
      }
    });
    // Drained so the child never blocks on a full pipe; the actor's own connection keeps the stderr tail.
    child.stderr?.on('data', () => {});
    child.stdin?.on('error', (error) => this.onerror?.(error));
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error('not connected'));
    return new Promise((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  #notifyClosed(): void {
    if (this.#closedNotified) return;
    this.#closedNotified = true;
    this.onclose?.();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const child = this.#child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const group = -child.pid;
        const kill = (signal: NodeJS.Signals) => {
          try {
            process.kill(group, signal);
          } catch {
            // already gone
          }
        };
        child.stdin?.end();
        kill('SIGTERM');
        let timer: ReturnType<Clock['setTimeout']> | undefined;
        await Promise.race([
          this.#exited,
          new Promise<void>((resolve) => {
            timer = this.opts.clock.setTimeout(() => {
              this.opts.logger.debug('mcp session upstream ignored SIGTERM; killing its group', {
                server: this.opts.name,
              });
              kill('SIGKILL');
              resolve();
            }, this.opts.killGraceMs);
          }),
        ]);
        this.opts.clock.clearTimeout(timer);
        await this.#exited;
      }
      this.#notifyClosed();
    })();
    return this.#closing;
  }
}
