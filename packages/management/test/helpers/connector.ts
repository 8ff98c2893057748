import {
  type CallOptions,
  type ConnectOptions,
  type ServerConfig,
  type UpstreamCallResult,
  type UpstreamConnection,
  type UpstreamConnector,
  UpstreamError,
  type UpstreamTool,
} from '@mcpproxy/contracts';

/** Answers `{content:[{type:'text', text: message}]}`. */
export const echoTool: UpstreamTool = {
  name: 'echo',
  description: 'Echoes a message back to the caller',
  inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
};
/** Answers with `isError: true` (a tool failing on its own terms). */
export const oopsTool: UpstreamTool = {
  name: 'oops',
  description: 'Always reports a tool error',
  inputSchema: { type: 'object', properties: {} },
};
/** Fails the call upstream (`CALL_FAILED`). */
export const crashTool: UpstreamTool = {
  name: 'crash',
  description: 'Fails the request upstream',
  inputSchema: { type: 'object', properties: {} },
};
/** Never answers; rejects once the call's signal aborts. */
export const hangTool: UpstreamTool = {
  name: 'hang',
  description: 'Never answers',
  inputSchema: { type: 'object', properties: {} },
};
export const defaultTools: readonly UpstreamTool[] = [echoTool, oopsTool, crashTool, hangTool];

export type CallHandler = (
  tool: string,
  args: Record<string, unknown>,
  options: CallOptions,
) => Promise<UpstreamCallResult>;

/** What one connect attempt does: connect at once, never settle (until aborted), or fail with the error. */
export type ConnectStep = 'ok' | 'hang' | Error;

export interface Script {
  /** Tools of the first listing. @default defaultTools */
  tools?: readonly UpstreamTool[] | undefined;
  /** One step per attempt, in order; the last one repeats. @default 'ok' */
  connect?: ConnectStep | readonly ConnectStep[] | undefined;
  /** What calls do. @default defaultCall */
  onCall?: CallHandler | undefined;
  /** What `stderrTail()` answers. @default [] */
  stderr?: readonly string[] | undefined;
}

export const defaultCall: CallHandler = async (tool, args, options) => {
  switch (tool) {
    case 'echo':
      return { content: [{ type: 'text', text: `echo: ${String(args.message)}` }] };
    case 'oops':
      return { content: [{ type: 'text', text: 'bad input' }], isError: true };
    case 'crash':
      throw new UpstreamError('CALL_FAILED', 'the upstream failed the request');
    case 'hang':
      return new Promise((_, reject) => {
        const signal = options.signal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    default:
      return { content: [] };
  }
};

/** A connection a test scripts and drives. */
export class FakeConnection implements UpstreamConnection {
  readonly protocol = 'stdio' as const;
  readonly serverInfo = { name: 'fake', version: '1.0.0' };
  tools: UpstreamTool[];
  closed = false;
  readonly calls: { tool: string; args: Record<string, unknown> }[] = [];
  private readonly closeListeners = new Set<(error: Error | undefined) => void>();
  private readonly changeListeners = new Set<() => void>();

  constructor(
    tools: readonly UpstreamTool[],
    private readonly script: Script,
  ) {
    this.tools = structuredClone([...tools]);
  }

  async listTools(): Promise<UpstreamTool[]> {
    return this.tools;
  }

  callTool(tool: string, args: Record<string, unknown>, options: CallOptions = {}): Promise<UpstreamCallResult> {
    this.calls.push({ tool, args });
    return (this.script.onCall ?? defaultCall)(tool, args, options);
  }

  async ping(): Promise<void> {}

  onClose(listener: (error: Error | undefined) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  onToolsChanged(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  stderrTail(): string[] {
    return [...(this.script.stderr ?? [])];
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The upstream changed its tools and said so (`notifications/tools/list_changed`). */
  changeTools(tools: UpstreamTool[]): void {
    this.tools = tools;
    for (const l of [...this.changeListeners]) l();
  }
}

export interface ScriptedConnector extends UpstreamConnector {
  /** Sets what `name`'s connects do from now on. */
  script(name: string, script: Script): void;
  /** How many times `name` was connected to. */
  connects(name: string): number;
  /** The newest connection handed out for `name`. */
  last(name: string): FakeConnection | undefined;
}

/** A connector that answers per server name, as scripted; unscripted servers connect at once with the default tools. */
export function createScriptedConnector(): ScriptedConnector {
  const scripts = new Map<string, Script>();
  const counts = new Map<string, number>();
  const conns = new Map<string, FakeConnection>();
  return {
    script(name, script) {
      scripts.set(name, script);
    },
    connects: (name) => counts.get(name) ?? 0,
    last: (name) => conns.get(name),
    async connect(server: ServerConfig, options: ConnectOptions = {}): Promise<UpstreamConnection> {
      const attempt = counts.get(server.name) ?? 0;
      counts.set(server.name, attempt + 1);
      const script = scripts.get(server.name) ?? {};
      const steps = script.connect === undefined ? ['ok' as const] : [script.connect].flat();
      const step = steps[Math.min(attempt, steps.length - 1)] ?? 'ok';
      if (step instanceof Error) throw step;
      if (step === 'hang') {
        return new Promise((_, reject) => {
          const { signal } = options;
          const abort = () => reject(new UpstreamError('ABORTED', 'connect aborted'));
          if (signal?.aborted) abort();
          signal?.addEventListener('abort', abort, { once: true });
        });
      }
      const conn = new FakeConnection(script.tools ?? defaultTools, script);
      conns.set(server.name, conn);
      return conn;
    },
  };
}
