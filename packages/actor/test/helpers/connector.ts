import {
  type CallOptions,
  type ConnectedProtocol,
  type ConnectOptions,
  type ServerConfig,
  type UpstreamCallResult,
  type UpstreamConnection,
  type UpstreamConnector,
  UpstreamError,
  type UpstreamTool,
} from '@mcpproxy/contracts';

export const echoTool: UpstreamTool = {
  name: 'echo',
  description: 'Echoes the message back',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
};
export const sumTool: UpstreamTool = {
  name: 'sum',
  description: 'Adds two numbers',
  inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
};

type CallHandler = (name: string, args: Record<string, unknown>, options: CallOptions) => Promise<UpstreamCallResult>;

/** A connection whose behaviour a test scripts and whose lifecycle a test drives. */
export class FakeConnection implements UpstreamConnection {
  readonly protocol: ConnectedProtocol;
  tools: UpstreamTool[];
  readonly serverInfo = { name: 'fake', version: '1.0.0' };
  closed = false;
  closeCalls = 0;
  pings = 0;
  lists = 0;
  readonly calls: { name: string; args: Record<string, unknown>; signal: AbortSignal | undefined }[] = [];
  /** What `callTool` does; echoes by default. */
  onCall: CallHandler = async (name, args) => ({
    content: [{ type: 'text', text: `${name}:${JSON.stringify(args)}` }],
  });
  /** What `ping` does; answers by default. */
  onPing: (options: CallOptions) => Promise<void> = async () => {};
  /** What `listTools` does; returns `tools` by default. */
  onList: (options: CallOptions) => Promise<UpstreamTool[]> = async () => this.tools;
  /** What `close` does before marking the connection closed. */
  onCloseCall: () => Promise<void> = async () => {};
  private readonly closeListeners = new Set<(error: Error | undefined) => void>();
  private readonly changeListeners = new Set<() => void>();

  constructor(tools: UpstreamTool[], protocol: ConnectedProtocol = 'stdio') {
    this.tools = tools;
    this.protocol = protocol;
  }

  async listTools(options: CallOptions = {}): Promise<UpstreamTool[]> {
    this.lists++;
    const tools = await this.onList(options);
    this.tools = tools;
    return tools;
  }

  callTool(name: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<UpstreamCallResult> {
    this.calls.push({ name, args, signal: options.signal });
    return this.onCall(name, args, options);
  }

  ping(options: CallOptions = {}): Promise<void> {
    this.pings++;
    return this.onPing(options);
  }

  onClose(listener: (error: Error | undefined) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  onToolsChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  stderrTail(): string[] {
    return ['fake stderr line'];
  }

  async close(): Promise<void> {
    this.closeCalls++;
    await this.onCloseCall();
    this.closed = true;
  }

  /** The upstream went away (process died, socket closed). */
  kill(error: Error = new UpstreamError('CLOSED', 'upstream exited')): void {
    this.closed = true;
    for (const l of [...this.closeListeners]) l(error);
  }

  /** The upstream sent `notifications/tools/list_changed`. */
  emitToolsChanged(): void {
    for (const l of [...this.changeListeners]) l();
  }

  listenerCount(): number {
    return this.closeListeners.size + this.changeListeners.size;
  }
}

/** What one `connect()` does. */
export type Step =
  | { kind: 'ok'; tools?: UpstreamTool[] | undefined; setup?: ((conn: FakeConnection) => void) | undefined }
  | { kind: 'fail'; error?: Error | undefined }
  /** Never settles; with `honourAbort` (default) it rejects `ABORTED` once the signal aborts. */
  | { kind: 'hang'; honourAbort?: boolean | undefined }
  /** Settles when the test calls `resolve` / `reject` on the returned handle. */
  | { kind: 'manual'; handle: ManualConnect };

export interface ManualConnect {
  resolve(conn?: FakeConnection): void;
  reject(error: Error): void;
  signal?: AbortSignal | undefined;
}

export function manual(): ManualConnect {
  return { resolve: () => {}, reject: () => {} };
}

export interface ScriptedConnector extends UpstreamConnector {
  /** Every connect call, in order. */
  readonly connects: { server: ServerConfig; options: ConnectOptions | undefined }[];
  /** Every connection handed out, in order. */
  readonly connections: FakeConnection[];
  /** The newest connection handed out. */
  last(): FakeConnection;
  /** Queues steps; when the queue is empty, `fallback` runs. */
  push(...steps: Step[]): void;
  fallback: Step;
}

/** A connector that follows a script, one step per connect. */
export function createScriptedConnector(
  steps: Step[] = [],
  fallback: Step = { kind: 'ok' },
  defaultTools: UpstreamTool[] = [echoTool, sumTool],
): ScriptedConnector {
  const queue = [...steps];
  const connects: ScriptedConnector['connects'] = [];
  const connections: FakeConnection[] = [];
  const open = (tools: UpstreamTool[] | undefined, setup?: (c: FakeConnection) => void) => {
    const conn = new FakeConnection(structuredClone(tools ?? defaultTools));
    setup?.(conn);
    connections.push(conn);
    return conn;
  };
  const connector: ScriptedConnector = {
    connects,
    connections,
    fallback,
    last() {
      const conn = connections.at(-1);
      if (!conn) throw new Error('no connection yet');
      return conn;
    },
    push: (...more) => {
      queue.push(...more);
    },
    connect(server, options) {
      connects.push({ server, options });
      const step = queue.shift() ?? connector.fallback;
      switch (step.kind) {
        case 'ok':
          return Promise.resolve(open(step.tools, step.setup));
        case 'fail':
          return Promise.reject(step.error ?? new UpstreamError('CONNECT_FAILED', 'connection refused'));
        case 'hang':
          return new Promise((_resolve, reject) => {
            if (step.honourAbort === false) return;
            options?.signal?.addEventListener('abort', () => reject(new UpstreamError('ABORTED', 'connect aborted')), {
              once: true,
            });
          });
        case 'manual':
          return new Promise((resolve, reject) => {
            step.handle.signal = options?.signal;
            step.handle.resolve = (conn) => resolve(conn ?? open(undefined));
            step.handle.reject = reject;
          });
      }
    },
  };
  return connector;
}
