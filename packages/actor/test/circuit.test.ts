import { type CircuitState, createFakeClock } from '@mcpproxy/contracts';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../src/circuit.js';

function setup(failure_threshold = 3, reset_timeout = 1_000) {
  const clock = createFakeClock();
  const changes: [CircuitState, CircuitState][] = [];
  const circuit = new CircuitBreaker({
    clock,
    settings: () => ({ failure_threshold, reset_timeout }),
    onChange: (from, to) => changes.push([from, to]),
  });
  const fail = (n: number) => {
    for (let i = 0; i < n; i++) {
      const permit = circuit.admit();
      if (!permit) throw new Error('refused');
      circuit.settle(permit, 'failed');
    }
  };
  return { clock, circuit, changes, fail };
}

describe('CircuitBreaker', () => {
  it('opens after failure_threshold consecutive failures and refuses every call while open', () => {
    const { circuit, changes, fail } = setup(3);
    fail(2);
    expect(circuit.state).toBe('closed');
    fail(1);
    expect(circuit.state).toBe('open');
    expect(changes).toEqual([['closed', 'open']]);
    expect(circuit.admit()).toBeUndefined();
  });

  it('counts timeouts like failures and lets a success reset the count', () => {
    const { circuit, fail } = setup(3);
    fail(2);
    const ok = circuit.admit();
    if (!ok) throw new Error('refused');
    circuit.settle(ok, 'ok');
    fail(2);
    expect(circuit.state).toBe('closed');
    const slow = circuit.admit();
    if (!slow) throw new Error('refused');
    circuit.settle(slow, 'timeout');
    expect(circuit.state).toBe('open');
  });

  it('turns half-open after reset_timeout on the injected clock and lets exactly one probe through', () => {
    const { clock, circuit, changes, fail } = setup(1, 1_000);
    fail(1);
    clock.advance(999);
    expect(circuit.state).toBe('open');
    clock.advance(1);
    expect(circuit.state).toBe('half_open');
    const probe = circuit.admit();
    expect(probe?.probe).toBe(true);
    expect(circuit.admit()).toBeUndefined();
    if (!probe) throw new Error('refused');
    circuit.settle(probe, 'ok');
    expect(circuit.state).toBe('closed');
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('reopens when the probe fails, and frees the probe when it is aborted', () => {
    const { clock, circuit, fail } = setup(1, 500);
    fail(1);
    clock.advance(500);
    const aborted = circuit.admit();
    if (!aborted) throw new Error('refused');
    circuit.settle(aborted, 'aborted');
    expect(circuit.state).toBe('half_open');
    const probe = circuit.admit();
    if (!probe) throw new Error('refused');
    expect(probe.probe).toBe(true);
    circuit.settle(probe, 'failed');
    expect(circuit.state).toBe('open');
    clock.advance(500);
    expect(circuit.state).toBe('half_open');
  });

  it('counts a permit once and ignores permits given before a reset', () => {
    const { clock, circuit } = setup(2);
    const a = circuit.admit();
    const b = circuit.admit();
    if (!a || !b) throw new Error('refused');
    circuit.settle(a, 'failed');
    circuit.settle(a, 'failed');
    expect(circuit.state).toBe('closed');
    circuit.reset();
    circuit.settle(b, 'failed');
    const c = circuit.admit();
    if (!c) throw new Error('refused');
    circuit.settle(c, 'failed');
    expect(circuit.state).toBe('closed');
    expect(clock.pending()).toBe(0);
  });

  it('closes on reset and clears its reset timer', () => {
    const { clock, circuit, changes, fail } = setup(1);
    fail(1);
    expect(clock.pending()).toBe(1);
    circuit.reset();
    expect(circuit.state).toBe('closed');
    expect(clock.pending()).toBe(0);
    expect(changes.at(-1)).toEqual(['open', 'closed']);
  });
});
