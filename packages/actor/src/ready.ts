/**
 * What runs while the actor is connected: the health ping and the tool re-listing, each on the timers of
 * `health.ts` (a {@link ReadySchedule}). A failed ping reports the connection lost; a listing is applied as a step
 * of the mailbox. Between the lifecycle shell (`shell.ts`) and the public API (`actor.ts`).
 */
import type { UpstreamConnection, UpstreamTool } from '@mcpproxy/contracts';
import { bounded } from './deadline.js';
import { ReadySchedule, type ReadyScheduleHost } from './health.js';
import { describeError, failureCode } from './link.js';
import { publishListing } from './publish.js';
import { ActorShell } from './shell.js';

/** The shell plus pings and re-listing; a class layer rather than a part, so an idle actor holds nothing more. */
export abstract class ReadyShell extends ActorShell implements ReadyScheduleHost {
  protected override startSchedule(): void {
    this.schedule().start(
      this.server.health_check_interval ?? this.settings.health_check_interval,
      this.settings.tool_discovery_interval,
    );
  }

  /** {@link ReadyScheduleHost}: the ping timer fired. Not part of {@link ServerActor}. */
  pingDue(): void {
    const conn = this.conn;
    if (!conn) return;
    const interval = this.server.health_check_interval ?? this.settings.health_check_interval;
    const sent = this.clock.now();
    let timedOut = false;
    this.deadlines()
      .run(
        interval,
        (signal) => conn.ping({ signal, timeoutMs: interval }),
        () => {
          timedOut = true;
          return new Error(`ping timed out after ${interval} ms`);
        },
      )
      .then(
        () => {
          if (this.conn !== conn) return;
          // Outside the mailbox, like the ping itself, since it only sets three fields.
          this.record.pinged(sent, this.clock.now());
          this.schedule().pinged();
        },
        (error: unknown) =>
          this.internal(() =>
            this.lost(
              conn,
              `health check failed: ${describeError(error)}`,
              timedOut ? 'PING_TIMEOUT' : failureCode(error),
              'health_check_failed',
            ),
          ),
      );
  }

  /** {@link ReadyScheduleHost}: the discovery timer fired; the listing runs as a step. Not part of {@link ServerActor}. */
  relistDue(): void {
    const conn = this.conn;
    this.internal(() => this.relist(conn));
  }

  protected override relist(conn: UpstreamConnection | undefined): void {
    if (!conn || this.conn !== conn || !this.schedule().beginRelist()) return;
    const timeoutMs = this.server.init_timeout ?? this.settings.init_timeout;
    this.deadlines()
      .run(
        timeoutMs,
        (signal) => conn.listTools({ signal, timeoutMs: bounded(timeoutMs) }),
        () => new Error(`tools/list timed out after ${timeoutMs} ms`),
      )
      .then(
        (tools) => this.internal(() => this.relisted(conn, tools)),
        (error: unknown) => this.internal(() => this.relisted(conn, undefined, error)),
      );
  }

  protected relisted(conn: UpstreamConnection, tools: readonly UpstreamTool[] | undefined, error?: unknown): void {
    if (this.conn !== conn) return;
    if (tools) {
      const listing = this.catalog.applyListing(tools);
      this.refresh();
      publishListing(this, this.summary, listing);
    } else this.logger.warn('re-listing tools failed', { server: this.name, error: describeError(error) });
    if (this.schedule().relisted()) this.relist(conn);
  }

  /** Made when first needed: an idle actor never pings or lists. */
  protected schedule(): ReadySchedule {
    this.schedulePart ??= new ReadySchedule({ clock: this.clock, host: this });
    return this.schedulePart;
  }
}
