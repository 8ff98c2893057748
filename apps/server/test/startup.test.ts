import { ConfigError } from '@mcpproxy/configsvc';
import { createFakeClock } from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { createStateView, makeSummary } from '@mcpproxy/stateview';
import { describe, expect, it } from 'vitest';
import { checkListen, configStartError, listenError } from '../src/startup.js';
import { startSystemMetrics } from '../src/system-metrics.js';

const errno = (code: string) => Object.assign(new Error(code), { code });

describe('start-up checks', () => {
  it('serves no HTTP for listen "", and reads host and port otherwise', () => {
    expect(checkListen({ listen: '', api_key: undefined })).toBeUndefined();
    expect(checkListen({ listen: '127.0.0.1:0', api_key: undefined })).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('refuses a malformed listen and a non-loopback one without api_key with exit code 4', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { exitCode?: number }).exitCode;
      }
      return undefined;
    };
    expect(codeOf(() => checkListen({ listen: 'nope:port', api_key: undefined }))).toBe(4);
    expect(codeOf(() => checkListen({ listen: '0.0.0.0:8080', api_key: undefined }))).toBe(4);
    expect(checkListen({ listen: '0.0.0.0:8080', api_key: 'k' })).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it.each([
    ['EADDRINUSE', 'PORT_IN_USE', 2],
    ['EACCES', 'PERMISSION_DENIED', 5],
    ['EADDRNOTAVAIL', 'CONFIG_INVALID', 4],
    ['EMFILE', 'START_FAILED', 1],
  ])('maps a listen failure %s to %s (exit %i)', (code, serveCode, exit) => {
    expect(listenError(errno(code), '127.0.0.1:1')).toMatchObject({ code: serveCode, exitCode: exit });
  });

  it('maps an invalid config to exit 4 with its issues, and an unreadable one to exit 5', () => {
    const invalid = new ConfigError('INVALID_CONFIG', 'bad', {
      issues: [{ path: 'listen', rule: 'format', message: 'bad' }],
    });
    expect(configStartError(invalid, '/c.json')).toMatchObject({ exitCode: 4, issues: invalid.issues });
    expect(configStartError(errno('EACCES'), '/c.json')).toMatchObject({ exitCode: 5 });
  });
});

describe('system_metrics', () => {
  it('publishes servers by state and the event rate every interval, and nothing once stopped', () => {
    const clock = createFakeClock();
    const bus = createEventBus({ clock });
    const view = createStateView({
      bus,
      app: { state: 'running', started_at: new Date(clock.now()).toISOString(), version: '0' },
    });
    const seen: unknown[] = [];
    bus.subscribe('system_metrics', (e) => seen.push(e.data));
    const stats = { connections: { events: 1, servers: 2, mcp_status: 0, sse: 3 } };
    const stop = startSystemMetrics({
      bus,
      view,
      broadcaster: { stats: () => stats as never },
      clock,
      intervalMs: 1_000,
    });
    bus.publish({
      type: 'server_config_changed',
      server: 'a',
      data: { change: 'added', summary: makeSummary('a', { state: 'ready' }) },
    });
    clock.advance(1_000);
    // Everything the bus published in the first second (the view adds a servers_changed of its own), per second.
    expect(seen).toEqual([expect.objectContaining({ total: 1, ready: 1, ws_clients: 6, events_per_s: bus.seq - 1 })]);
    expect(bus.seq - 1).toBeGreaterThanOrEqual(1);
    // The metrics event itself is not counted in the next rate.
    clock.advance(1_000);
    expect(seen[1]).toMatchObject({ events_per_s: 0 });
    stop();
    clock.advance(5_000);
    expect(seen).toHaveLength(2);
    view.close();
    bus.close();
  });
});
