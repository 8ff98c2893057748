/**
 * The actor: the public face of one upstream server — its reads, its commands (queued through the mailbox), tool
 * approvals and holds, and the tool-call path. What runs under it: `shell.ts`, the lifecycle shell that owns the
 * connection and runs the effects of `transition()`, and `ready.ts`, the pings and re-listing while connected;
 * `publish.ts` says what changed on the bus. Their parts are `lifecycle.ts`, `retry.ts`, `circuit.ts`,
 * `catalog.ts`, `health.ts`, `calls.ts`, `link.ts`, `deadline.ts` and `mailbox.ts`.
 */
import type {
  ScanFinding,
  ServerSummary,
  ToolInfo,
  UpstreamCallResult,
  UpstreamConnection,
  UpstreamTool,
} from '@mcpproxy/contracts';
import { ToolCalls } from './calls.js';
import { configInput } from './lifecycle.js';
import { publishApprovals } from './publish.js';
import { ReadyShell } from './ready.js';
import { type ActorConfig, DEFAULT_ACTOR_SETTINGS } from './settings.js';
import type { Waitable } from './shell.js';
import type { ActorCommand, ActorHealth, ServerActor, ServerActorOptions } from './types.js';

/** Creates the actor of one upstream server. It starts in `idle` (or `quarantined` / `disabled`); call `start()`. */
export function createServerActor(name: string, options: ServerActorOptions): ServerActor {
  return new Actor(name, options);
}

/** The public command API over the lifecycle shell ({@link ReadyShell}, shell.ts). */
class Actor extends ReadyShell implements ServerActor {
  private closing: Promise<void> | undefined;
  private calls: ToolCalls | undefined;

  // ── reads ──────────────────────────────────────────────────────────────

  getState(): ServerSummary {
    return this.summary;
  }

  health(): ActorHealth {
    return this.record.read();
  }

  config(): Required<ActorConfig> {
    return { server: this.server, settings: this.settings };
  }

  tools(): readonly ToolInfo[] {
    return this.catalog.tools();
  }

  callableTools(): readonly UpstreamTool[] {
    return this.catalog.callable();
  }

  connection(): UpstreamConnection | undefined {
    return this.state === 'ready' ? this.conn : undefined;
  }

  stderrTail(): string[] {
    return this.conn ? this.conn.stderrTail() : [...this.lastStderr];
  }

  pendingCalls(): number {
    return this.calls?.pending ?? 0;
  }

  // ── commands ───────────────────────────────────────────────────────────

  send(command: ActorCommand): Promise<void> {
    switch (command.type) {
      case 'start':
        return this.start();
      case 'stop':
        return this.stop();
      case 'restart':
        return this.restart();
      case 'enable':
        return this.enable();
      case 'disable':
        return this.disable();
      case 'update':
        return this.update(command.config);
    }
  }

  start(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'start', resting: this.resting() }));
  }

  stop(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'stop' }));
  }

  restart(): Promise<void> {
    return this.command(() => this.dispatch({ type: 'restart', resting: this.resting() }));
  }

  enable(): Promise<void> {
    return this.command(() => {
      if (this.state !== 'closed' && !this.server.enabled) this.server = { ...this.server, enabled: true };
      return this.dispatch({ type: 'enable', quarantined: this.server.quarantined });
    });
  }

  disable(): Promise<void> {
    return this.command(() => {
      if (this.state !== 'closed' && this.server.enabled) this.server = { ...this.server, enabled: false };
      return this.dispatch({ type: 'disable', quarantined: this.server.quarantined });
    });
  }

  update(config: ActorConfig): Promise<void> {
    return this.mailbox.enqueue(async () => {
      if (this.state === 'closed') return;
      const prev = this.server;
      const prevSettings = this.settings;
      const next = config.server;
      this.server = next;
      this.settings = config.settings ?? DEFAULT_ACTOR_SETTINGS;
      this.retry.settings = this.settings.retry;
      this.applyServerFields(next);
      await this.dispatch(configInput(prev, prevSettings, next, this.settings));
    });
  }

  approveTools(names?: readonly string[]): Promise<string[]> {
    return this.mailbox.enqueue(() => {
      const changes = this.catalog.approve(names);
      if (changes.length > 0) {
        this.refresh();
        publishApprovals(this, this.summary, changes);
      }
      return changes.map((c) => c.tool);
    });
  }

  holdTools(findings: ReadonlyMap<string, readonly ScanFinding[]>): Promise<string[]> {
    return this.mailbox.enqueue(() => {
      const changes = this.catalog.hold(findings);
      if (changes.length > 0) {
        this.refresh();
        publishApprovals(this, this.summary, changes);
      }
      return changes.map((c) => c.tool);
    });
  }

  close(): Promise<void> {
    this.closing ??= this.mailbox.enqueue(async () => {
      await this.dispatch({ type: 'close' });
    }, true);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Queues a command; it settles once processed, and for a connect it began or joined, once that settled. */
  private command(step: () => Waitable): Promise<void> {
    return this.mailbox.enqueue(step).then((a) => a?.done);
  }

  // ── tool calls ─────────────────────────────────────────────────────────

  // Pure delegation to calls.ts, so the signatures are the interface's own.
  callTool(...[tool, args, options]: Parameters<ServerActor['callTool']>): Promise<UpstreamCallResult> {
    return this.toolCalls().call(tool, args, options);
  }

  admitCall(): ReturnType<ServerActor['admitCall']> {
    return this.toolCalls().admit();
  }

  recordCallOutcome(...[permit, outcome]: Parameters<ServerActor['recordCallOutcome']>): void {
    this.toolCalls().record(permit, outcome);
  }

  /** The call path, made on the first call: most actors of a large config are never called. */
  private toolCalls(): ToolCalls {
    this.calls ??= new ToolCalls({
      name: this.name,
      bus: this.bus,
      clock: this.clock,
      catalog: this.catalog,
      circuit: this.circuit(),
      deadlines: this.deadlines(),
      lifecycle: () => this.state,
      link: () => this.conn,
      callTimeout: () => this.settings.call_tool_timeout,
    });
    return this.calls;
  }
}
