import { UpstreamError } from '@mcpproxy/contracts';
import { createScriptedConnector, type FakeConnection, flush } from '@mcpproxy/testkit';
import { describe, expect, it } from 'vitest';
import { ACTOR_API_CODES, ActorError, createServerActor } from '../src/index.js';
import { fakeActor, fakeWorld, server } from './helpers/setup.js';

async function ready(serverInput: Parameters<typeof server>[0] = {}) {
  const world = fakeActor({ server: serverInput });
  await world.actor.start();
  return { ...world, conn: world.connector.last() };
}

const hang = (conn: FakeConnection) => {
  conn.onCall = () => new Promise(() => {});
};
const fail = (conn: FakeConnection) => {
  conn.onCall = async () => {
    throw new UpstreamError('CALL_FAILED', 'upstream blew up');
  };
};
const succeed = (conn: FakeConnection) => {
  conn.onCall = async () => ({ content: [{ type: 'text', text: 'ok' }] });
};

describe('ServerActor.callTool', () => {
  it('passes the call through and returns the upstream result', async () => {
    const { actor, conn, events } = await ready();
    const result = await actor.callTool('echo', { message: 'hi' });
    expect(result.content).toEqual([{ type: 'text', text: 'echo:{"message":"hi"}' }]);
    expect(conn.calls[0]?.args).toEqual({ message: 'hi' });
    expect(actor.pendingCalls()).toBe(0);
    expect(events.of('tool_called')[0]?.data).toEqual({ tool: 'echo', duration_ms: 0, status: 'ok' });
    await actor.close();
  });

  it('refuses calls while not ready with NOT_READY, without contacting anyone', async () => {
    const { clock, bus } = fakeWorld();
    const connector = createScriptedConnector();
    const actor = createServerActor('alpha', { config: { server: server() }, connector, bus, clock });
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(connector.connects).toHaveLength(0);
    await actor.close();
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('refuses unknown and config-disabled tools', async () => {
    const { actor, conn } = await ready({ disabled_tools: ['sum'] });
    await expect(actor.callTool('nope', {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
    await expect(actor.callTool('sum', { a: 1, b: 2 })).rejects.toMatchObject({ code: 'TOOL_DISABLED' });
    expect(conn.calls).toHaveLength(0);
    await actor.close();
  });

  it('honours enabled_tools as an allow-list', async () => {
    const { actor } = await ready({ enabled_tools: ['sum'] });
    expect(actor.callableTools().map((t) => t.name)).toEqual(['sum']);
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'TOOL_DISABLED' });
    await expect(actor.callTool('sum', {})).resolves.toBeTruthy();
    await actor.close();
  });

  it('fails a call that hangs past its deadline with CALL_TIMEOUT and brings the pending count back to zero', async () => {
    const { actor, conn, clock, events } = await ready();
    hang(conn);
    const call = actor.callTool('echo', { message: 'x' }, { timeoutMs: 500 });
    const settled = call.catch((e: unknown) => e);
    await flush();
    expect(actor.pendingCalls()).toBe(1);
    await clock.advanceAsync(500);
    const error = await settled;
    expect(error).toBeInstanceOf(ActorError);
    expect(error).toMatchObject({ code: 'CALL_TIMEOUT' });
    expect(actor.pendingCalls()).toBe(0);
    expect(conn.calls[0]?.signal?.aborted).toBe(true);
    expect(events.of('tool_called')[0]?.data).toMatchObject({ status: 'timeout', duration_ms: 500 });
    expect(clock.pending()).toBe(0);
    await actor.close();
  });

  it('uses call_tool_timeout when the caller gives no deadline', async () => {
    const { actor, conn, clock } = await ready();
    hang(conn);
    const settled = actor.callTool('echo', {}).catch((e: unknown) => e);
    await clock.advanceAsync(1_999);
    expect(actor.pendingCalls()).toBe(1);
    await clock.advanceAsync(1);
    expect(await settled).toMatchObject({ code: 'CALL_TIMEOUT' });
    await actor.close();
  });

  it('fails with ABORTED when the caller aborts, and does not count it against the circuit', async () => {
    const { actor, conn } = await ready();
    hang(conn);
    for (let i = 0; i < 5; i++) {
      const ctl = new AbortController();
      const settled = actor.callTool('echo', {}, { signal: ctl.signal }).catch((e: unknown) => e);
      ctl.abort();
      expect(await settled).toMatchObject({ code: 'ABORTED' });
    }
    expect(actor.getState().circuit).toBe('closed');
    expect(actor.pendingCalls()).toBe(0);
    await actor.close();
  });

  it('settles in-flight calls with STOPPED when the actor stops', async () => {
    const { actor, conn } = await ready();
    hang(conn);
    const settled = actor.callTool('echo', {}).catch((e: unknown) => e);
    await flush();
    await actor.stop();
    expect(await settled).toMatchObject({ code: 'STOPPED' });
    expect(actor.pendingCalls()).toBe(0);
    await actor.close();
  });

  it('maps every error code to an API code', () => {
    expect(ACTOR_API_CODES).toMatchObject({
      NOT_READY: 'UPSTREAM_UNAVAILABLE',
      CIRCUIT_OPEN: 'CIRCUIT_OPEN',
      TOOL_NOT_FOUND: 'NOT_FOUND',
      TOOL_NOT_APPROVED: 'TOOL_BLOCKED',
      CALL_TIMEOUT: 'UPSTREAM_TIMEOUT',
    });
  });
});

describe('ServerActor circuit breaker', () => {
  it('opens after failure_threshold consecutive failures and then fails at once without contacting the upstream', async () => {
    const { actor, conn, events } = await ready();
    fail(conn);
    for (let i = 0; i < 3; i++) await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CALL_FAILED' });
    expect(actor.getState().circuit).toBe('open');
    expect(events.of('circuit_state_changed').map((e) => e.data)).toMatchObject([{ from: 'closed', to: 'open' }]);
    expect(events.of('circuit_state_changed')[0]?.data.summary.circuit).toBe('open');
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(conn.calls).toHaveLength(3);
    expect(events.of('tool_called').at(-1)?.data.status).toBe('rejected');
    await actor.close();
  });

  it('counts timeouts as failures', async () => {
    const { actor, conn, clock } = await ready();
    hang(conn);
    const calls = [0, 1, 2].map(() => actor.callTool('echo', {}, { timeoutMs: 100 }).catch((e: unknown) => e));
    await clock.advanceAsync(100);
    for (const c of calls) expect(await c).toMatchObject({ code: 'CALL_TIMEOUT' });
    expect(actor.getState().circuit).toBe('open');
    await actor.close();
  });

  it('does not count isError results: the upstream answered', async () => {
    const { actor, conn, events } = await ready();
    conn.onCall = async () => ({ content: [{ type: 'text', text: 'bad input' }], isError: true });
    for (let i = 0; i < 5; i++) expect((await actor.callTool('echo', {})).isError).toBe(true);
    expect(actor.getState().circuit).toBe('closed');
    expect(events.of('tool_called').at(-1)?.data.status).toBe('error');
    await actor.close();
  });

  it('needs the failures to be consecutive: a success in between resets the count', async () => {
    const { actor, conn } = await ready();
    for (let i = 0; i < 3; i++) {
      fail(conn);
      await actor.callTool('echo', {}).catch(() => {});
      await actor.callTool('echo', {}).catch(() => {});
      succeed(conn);
      await actor.callTool('echo', {});
    }
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('goes open → half_open after reset_timeout, and one successful probe closes it', async () => {
    const { actor, conn, clock, events } = await ready();
    fail(conn);
    for (let i = 0; i < 3; i++) await actor.callTool('echo', {}).catch(() => {});
    await clock.advanceAsync(4_999);
    expect(actor.getState().circuit).toBe('open');
    await clock.advanceAsync(1);
    expect(actor.getState().circuit).toBe('half_open');
    let release!: () => void;
    conn.onCall = () =>
      new Promise((resolve) => {
        release = () => resolve({ content: [] });
      });
    const probe = actor.callTool('echo', {});
    await flush();
    // While the one probe runs, everyone else is turned away without reaching the upstream.
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await expect(actor.callTool('sum', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(conn.calls).toHaveLength(4);
    release();
    await probe;
    expect(actor.getState().circuit).toBe('closed');
    expect(events.of('circuit_state_changed').map((e) => `${e.data.from}→${e.data.to}`)).toEqual([
      'closed→open',
      'open→half_open',
      'half_open→closed',
    ]);
    succeed(conn);
    await expect(actor.callTool('echo', {})).resolves.toBeTruthy();
    await actor.close();
  });

  it('goes half_open → open again when the probe fails, and waits reset_timeout once more', async () => {
    const { actor, conn, clock, events } = await ready();
    fail(conn);
    for (let i = 0; i < 3; i++) await actor.callTool('echo', {}).catch(() => {});
    await clock.advanceAsync(5_000);
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CALL_FAILED' });
    expect(actor.getState().circuit).toBe('open');
    await expect(actor.callTool('echo', {})).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await clock.advanceAsync(5_000);
    expect(actor.getState().circuit).toBe('half_open');
    succeed(conn);
    await actor.callTool('echo', {});
    expect(events.of('circuit_state_changed').map((e) => e.data.to)).toEqual([
      'open',
      'half_open',
      'open',
      'half_open',
      'closed',
    ]);
    await actor.close();
    expect(clock.pending()).toBe(0);
  });

  it('frees the probe slot when the probe is aborted by its caller', async () => {
    const { actor, conn, clock } = await ready();
    fail(conn);
    for (let i = 0; i < 3; i++) await actor.callTool('echo', {}).catch(() => {});
    await clock.advanceAsync(5_000);
    hang(conn);
    const ctl = new AbortController();
    const probe = actor.callTool('echo', {}, { signal: ctl.signal }).catch((e: unknown) => e);
    ctl.abort();
    expect(await probe).toMatchObject({ code: 'ABORTED' });
    expect(actor.getState().circuit).toBe('half_open');
    succeed(conn);
    await actor.callTool('echo', {});
    expect(actor.getState().circuit).toBe('closed');
    await actor.close();
  });

  it('resets to closed and clears its timer when the actor stops', async () => {
    const { actor, conn, clock } = await ready();
    fail(conn);
    for (let i = 0; i < 3; i++) await actor.callTool('echo', {}).catch(() => {});
    expect(clock.pending()).toBe(1);
    await actor.stop();
    expect(actor.getState().circuit).toBe('closed');
    expect(clock.pending()).toBe(0);
    await actor.close();
  });
});
