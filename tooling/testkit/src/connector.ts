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

/** `echo(message)`: one of the two tools a scripted connection lists by default. */
export const echoTool: UpstreamTool = {
  name: 'echo',
  description: 'Echoes the message back',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
};

/** `sum(a, b)`: one of the two tools a scripted connection lists by default. */
export const sumTool: UpstreamTool = {
  name: 'sum',
  description: 'Adds two numbers',
  inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } },
};

/** What a fake connection does with `callTool`. */
export type CallHandler = (
  name: string,
  args: Record<string, unknown>,
  options: CallOptions,
) => Promise<UpstreamCallResult>;

/** Answers every call with the text `name:JSON(args)`. */
export const echoCall: CallHandler = async (name, args) => ({
  content: [{ type: 'text', text: `${name}:${JSON.stringify(args)}` }],
});

/** Options of a {@link FakeConnection}. */
export interface FakeConnectionOptions {
  /** @default 'stdio' */
  protocol?: ConnectedProtocol | undefined;
  /** What `callTool` does. @default echoCall */
  onCall?: CallHandler | undefined;
  /** What `stderrTail()` answers. @default [] */
  stderr?: readonly string[] | undefined;
}

/** A connection whose behaviour a test scripts and whose lifecycle a test drives. */
export class FakeConnection implements UpstreamConnection {
  readonly protocol: ConnectedProtocol;
  readonly serverInfo = { name: 'fake', version: '1.0.0' };
  /** The tools of the last listing. */
  tools: UpstreamTool[];
  closed = false;
  closeCalls = 0;
  pings = 0;
  lists = 0;
  /** Every `callTool`, in order. */
  readonly calls: { name: string; args: Record<string, unknown>; signal: AbortSignal | undefined }[] = [];
  /** What `callTool` does. */
  onCall: CallHandler;
  /** What `ping` does; answers by default. */
  onPing: (options: CallOptions) => Promise<void> = async () => {};
  /** What `listTools` does; returns `tools` by default. */
  onList: (options: CallOptions) => Promise<UpstreamTool[]> = async () => this.tools;
  /** What `close` does before marking the connection closed. */
  onCloseCall: () => Promise<void> = async () => {};
  /** What `stderrTail()` answers. */
  stderr: string[];
  private readonly closeListeners = new Set<(error: Error | undefined) => void>();
  private readonly changeListeners = new Set<() => void>();

  /** Keeps `tools` as given (no copy), so benches measure the code under test, not the fake. */
  constructor(
    tools: UpstreamTool[],
    { protocol = 'stdio', onCall = echoCall, stderr = [] }: FakeConnectionOptions = {},
  ) {
    this.tools = tools;
    this.protocol = protocol;
    this.onCall = onCall;
    this.stderr = [...stderr];
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
    return [...this.stderr];
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

  /** The upstream changed its tools and said so: `tools` replaced, then `notifications/tools/list_changed`. */
  changeTools(tools: UpstreamTool[]): void {
    this.tools = tools;
    this.emitToolsChanged();
  }

  /** Close and tools-changed listeners still attached. */
  listenerCount(): number {
    return this.closeListeners.size + this.changeListeners.size;
  }
}

/** What one `connect()` does. */
export type Step =
  /** Hands out a connection listing `tools`, after `setup` ran on it. */
  | { kind: 'ok'; tools?: readonly UpstreamTool[] | undefined; setup?: ((conn: FakeConnection) => void) | undefined }
  /** Rejects with `error` (`CONNECT_FAILED` by default). */
  | { kind: 'fail'; error?: Error | undefined }
  /** Never settles; with `honourAbort` (default) it rejects `ABORTED` once the signal aborts. */
  | { kind: 'hang'; honourAbort?: boolean | undefined }
  /** Settles when the test calls `resolve` / `reject` on the handle. */
  | { kind: 'manual'; handle: ManualConnect };

/** A {@link Step}, or a shorthand: `'ok'`, `'hang'`, or the error to fail with. */
export type StepInput = Step | 'ok' | 'hang' | Error;

/** The handle of a `manual` step: the test settles the connect attempt. */
export interface ManualConnect {
  /** Hands out `conn`, or a new connection with the default tools. */
  resolve(conn?: FakeConnection): void;
  reject(error: Error): void;
  /** The attempt's abort signal, once the attempt started. */
  signal?: AbortSignal | undefined;
}

/** A handle for a `manual` step. */
export function manual(): ManualConnect {
  return { resolve: () => {}, reject: () => {} };
}

/** What the connects of one server do; anything left out falls back to the connector's options. */
export interface ServerScript {
  /** Tools of a new connection. */
  tools?: readonly UpstreamTool[] | undefined;
  /** One step per connect attempt, in order; the last one repeats. */
  connect?: StepInput | readonly StepInput[] | undefined;
  /** What calls do. */
  onCall?: CallHandler | undefined;
  /** What `stderrTail()` answers. */
  stderr?: readonly string[] | undefined;
}

/** Options of {@link createScriptedConnector}. */
export interface ScriptedConnectorOptions {
  /** Steps for servers without a `connect` script, one per attempt, shared across servers. @default [] */
  steps?: readonly StepInput[] | undefined;
  /** What an attempt does once `steps` ran out. @default 'ok' */
  fallback?: StepInput | undefined;
  /** Tools of a new connection. @default [echoTool, sumTool] */
  tools?: readonly UpstreamTool[] | undefined;
  /** What calls do. @default echoCall */
  onCall?: CallHandler | undefined;
  /** What `stderrTail()` of a new connection answers. @default [] */
  stderr?: readonly string[] | undefined;
  /** Protocol of a new connection. @default 'stdio' */
  protocol?: ConnectedProtocol | undefined;
}

/** A fake `UpstreamConnector` that follows a script and records what it was asked. */
export interface ScriptedConnector extends UpstreamConnector {
  /** Every connect call, in order. */
  readonly connects: { server: ServerConfig; options: ConnectOptions | undefined }[];
  /** Every connection handed out, in order. */
  readonly connections: FakeConnection[];
  /** What an attempt does once the queued steps ran out (servers without a `connect` script). */
  fallback: StepInput;
  /** Queues steps for servers without a `connect` script. */
  push(...steps: StepInput[]): void;
  /** Sets what `name`'s connects do from now on (its attempt count keeps going). */
  script(name: string, script: ServerScript): void;
  /** How many times `name` (any server when omitted) was connected to. */
  attempts(name?: string): number;
  /** The newest connection handed out (for `name` when given); throws when there is none. */
  last(name?: string): FakeConnection;
}

const expand = (step: StepInput): Step => {
  if (step === 'ok' || step === 'hang') return { kind: step };
  if (step instanceof Error) return { kind: 'fail', error: step };
  return step;
};

/**
 * A connector that follows a script, one step per connect. A server with a `connect` script follows its own steps;
 * the others share the queue (`steps`, `push`) and then `fallback`.
 */
export function createScriptedConnector({
  steps = [],
  fallback = 'ok',
  tools: defaultTools = [echoTool, sumTool],
  onCall: defaultOnCall = echoCall,
  stderr: defaultStderr = [],
  protocol = 'stdio',
}: ScriptedConnectorOptions = {}): ScriptedConnector {
  const queue = [...steps];
  const scripts = new Map<string, ServerScript>();
  const connects: ScriptedConnector['connects'] = [];
  const connections: FakeConnection[] = [];
  const owners = new Map<FakeConnection, string>();
  const attempts = (name?: string) =>
    name === undefined ? connects.length : connects.filter((c) => c.server.name === name).length;

  const open = (server: ServerConfig, script: ServerScript, tools?: readonly UpstreamTool[]) => {
    // A deep copy, so a test that edits one connection's tools never changes another's.
    const conn = new FakeConnection(structuredClone([...(tools ?? script.tools ?? defaultTools)]), {
      protocol,
      onCall: script.onCall ?? defaultOnCall,
      stderr: script.stderr ?? defaultStderr,
    });
    connections.push(conn);
    owners.set(conn, server.name);
    return conn;
  };

  const connector: ScriptedConnector = {
    connects,
    connections,
    fallback,
    push: (...more) => {
      queue.push(...more);
    },
    script(name, script) {
      scripts.set(name, script);
    },
    attempts,
    last(name) {
      const conn = connections.findLast((c) => name === undefined || owners.get(c) === name);
      if (!conn) throw new Error(name === undefined ? 'no connection yet' : `no connection to ${name} yet`);
      return conn;
    },
    connect(server, options) {
      const attempt = attempts(server.name);
      connects.push({ server, options });
      const script = scripts.get(server.name) ?? {};
      let input: StepInput;
      if (script.connect === undefined) input = queue.shift() ?? connector.fallback;
      else {
        const own = [script.connect].flat();
        input = own[Math.min(attempt, own.length - 1)] ?? 'ok';
      }
      const step = expand(input);
      switch (step.kind) {
        case 'ok': {
          const conn = open(server, script, step.tools);
          step.setup?.(conn);
          return Promise.resolve(conn);
        }
        case 'fail':
          return Promise.reject(step.error ?? new UpstreamError('CONNECT_FAILED', 'connection refused'));
        case 'hang':
          return new Promise((_resolve, reject) => {
            if (step.honourAbort === false) return;
            const signal = options?.signal;
            const abort = () => reject(new UpstreamError('ABORTED', 'connect aborted'));
            if (signal?.aborted) abort();
            signal?.addEventListener('abort', abort, { once: true });
          });
        case 'manual':
          return new Promise((resolve, reject) => {
            step.handle.signal = options?.signal;
            step.handle.resolve = (conn) => resolve(conn ?? open(server, script));
            step.handle.reject = reject;
          });
      }
    },
  };
  return connector;
}
