// Calls made on another link to the server (a transparent proxy's per-session connection) go through the same
// circuit breaker as callTool: admitCall() asks, recordCallOutcome() reports.
import { UpstreamError } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import type { CallPermit } from '../src/index.js';
import { fakeActor } from './helpers/setup.js';

async function ready() {
  const world = fakeActor();
  await world.actor.start();
  return { ...world, conn: world.connector.last() };
}

describe('ServerActor.admitCall / recordCallOutcome', () => {
  it('opens the circuit after failure_threshold failed or timed-out outcomes, and then refuses with CIRCUIT_OPEN', async () => {
    const { actor, conn, events } = await ready();
    actor.recordCallOutcome(actor.admitCall(), 'failed');
    actor.recordCallOutcome(actor.admitCall(), 'timeout');
    expect(actor.getState().circuit).toBe('closed');
    actor.recordCallOutcome(actor.admitCall(), 'failed');
    expect(actor.getState().circuit).toBe('open');
    expect(events.of('circuit_state_changed').map((e) => e.data)).toMatchObject([{ from: 'closed', to: 'open' }]);
    expect(() => actor.admitCall()).toThrow(expect.objectContaining({ code: 'CIRCUIT_OPEN' }));
    // callTool sees the same circuit: refused at once, the upstream never contacted.
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(conn.calls).toHaveLength(0);
    // Admission itself publishes nothing: the caller reports its own tool_called.
    expect(events.of('tool_called').map((e) => e.data.status)).toEqual(['rejected']);
    await actor.close();
  });

  it('shares the count with callTool: outcomes and callTool failures add up to the threshold', async () => {
    const { actor, conn } = await ready();
    conn.onCall = async () => {
      throw new UpstreamError('CALL_FAILED', 'upstream blew up');
    };
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CALL_FAILED' });
    actor.recordCallOutcome(actor.admitCall(), 'failed');
    expect(actor.getState().circuit).toBe('closed');
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CALL_FAILED' });
    expect(actor.getState().circuit).toBe('open');
    await actor.close();
  });

  it('resets the count on ok, and counts aborted as neither success nor failure', async () => {
    const { actor } = await ready();
    for (let i = 0; i < 3; i++) {
      actor.recordCallOutcome(actor.admitCall(), 'failed');
      actor.recordCallOutcome(actor.admitCall(), 'aborted');
      actor.recordCallOutcome(actor.admitCall(), 'failed');
      actor.recordCallOutcome(actor.admitCall(), 'ok');
    }
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('counts a permit once: recording it again changes nothing', async () => {
    const { actor } = await ready();
    const permit = actor.admitCall();
    for (let i = 0; i < 5; i++) actor.recordCallOutcome(permit, 'failed');
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('lets one half-open probe through after reset_timeout: its failure reopens, its success closes', async () => {
    const { actor, clock, events } = await ready();
    for (let i = 0; i < 3; i++) actor.recordCallOutcome(actor.admitCall(), 'failed');
    await clock.advanceAsync(4_999);
    expect(() => actor.admitCall()).toThrow(expect.objectContaining({ code: 'CIRCUIT_OPEN' }));
    await clock.advanceAsync(1);
    expect(actor.getState().circuit).toBe('half_open');
    const probe = actor.admitCall();
    expect(probe.probe).toBe(true);
    // While the probe runs, everyone else is turned away (through either API).
    expect(() => actor.admitCall()).toThrow(expect.objectContaining({ code: 'CIRCUIT_OPEN' }));
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    actor.recordCallOutcome(probe, 'timeout');
    expect(actor.getState().circuit).toBe('open');
    await clock.advanceAsync(5_000);
    const second = actor.admitCall();
    actor.recordCallOutcome(second, 'ok');
    expect(actor.getState().circuit).toBe('closed');
    expect(events.of('circuit_state_changed').map((e) => `${e.data.from}→${e.data.to}`)).toEqual([
      'closed→open',
      'open→half_open',
      'half_open→open',
      'open→half_open',
      'half_open→closed',
    ]);
    await actor.close();
  });

  it('frees the half-open probe when its call is aborted, so the next call may probe', async () => {
    const { actor, clock } = await ready();
    for (let i = 0; i < 3; i++) actor.recordCallOutcome(actor.admitCall(), 'failed');
    await clock.advanceAsync(5_000);
    actor.recordCallOutcome(actor.admitCall(), 'aborted');
    expect(actor.getState().circuit).toBe('half_open');
    const next: CallPermit = actor.admitCall();
    expect(next.probe).toBe(true);
    actor.recordCallOutcome(next, 'ok');
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('ignores outcomes of permits given before a reconnect reset the circuit', async () => {
    const { actor } = await ready();
    const stale = [actor.admitCall(), actor.admitCall(), actor.admitCall()];
    await actor.restart();
    expect(actor.getState().state).toBe('ready');
    for (const permit of stale) actor.recordCallOutcome(permit, 'failed');
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('refuses with NOT_READY when the server is not ready and STOPPED once closed', async () => {
    const { actor } = fakeActor();
    expect(() => actor.admitCall()).toThrow(expect.objectContaining({ code: 'NOT_READY' }));
    await actor.close();
    expect(() => actor.admitCall()).toThrow(expect.objectContaining({ code: 'STOPPED' }));
  });
});
