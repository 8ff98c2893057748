import type { Clock, TimerHandle } from '@mcpproxy/contracts';
import type { EventBus } from '@mcpproxy/events';
import type { StateView } from '@mcpproxy/stateview';
import type { Broadcaster } from '@mcpproxy/ws-broadcast';

export interface SystemMetricsOptions {
  bus: EventBus;
  view: StateView;
  broadcaster: Pick<Broadcaster, 'stats'>;
  clock: Clock;
  /** Period of the event; `0` publishes none. */
  intervalMs: number;
}

/**
 * Publishes a `system_metrics` event every `intervalMs`: servers by state, live clients, and the bus's event rate
 * since the last one. Returns the function that stops it.
 */
export function startSystemMetrics({ bus, view, broadcaster, clock, intervalMs }: SystemMetricsOptions): () => void {
  let timer: TimerHandle | undefined;
  let lastSeq = bus.seq;
  let lastAt = clock.now();
  const tick = () => {
    const snap = view.snapshot();
    const counts = { total: snap.servers.length, ready: 0, error: 0, disabled: 0, quarantined: 0 };
    for (const s of snap.servers) {
      if (s.state === 'ready') counts.ready++;
      else if (s.state === 'error') counts.error++;
      else if (s.state === 'disabled') counts.disabled++;
      else if (s.state === 'quarantined') counts.quarantined++;
    }
    const c = broadcaster.stats().connections;
    const now = clock.now();
    const seconds = Math.max(0.001, (now - lastAt) / 1000);
    const events_per_s = Math.round(((bus.seq - lastSeq) / seconds) * 100) / 100;
    bus.publish({
      type: 'system_metrics',
      data: { ...counts, ws_clients: c.events + c.servers + c.mcp_status + c.sse, events_per_s },
    });
    // Measured after publishing, so the metrics event itself is not counted in the next rate.
    lastSeq = bus.seq;
    lastAt = now;
    timer = clock.setTimeout(tick, intervalMs);
  };
  if (intervalMs > 0) timer = clock.setTimeout(tick, intervalMs);
  return () => clock.clearTimeout(timer);
}
