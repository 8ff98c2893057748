import { describe, expect, it } from 'vitest';
import { type Corkable, TickCoalescer } from '../src/transport.js';

class FakeCorked implements Corkable {
  uncorkListed = false;
  uncorks = 0;
  uncork(): void {
    this.uncorks++;
  }
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('TickCoalescer', () => {
  it('uncorks every sink that corked in a tick once, at the end of the tick', async () => {
    const co = new TickCoalescer();
    const a = new FakeCorked();
    const b = new FakeCorked();
    co.add(a);
    co.add(b);
    co.add(a);
    expect([a.uncorks, b.uncorks]).toEqual([0, 0]);
    await nextTick();
    expect([a.uncorks, b.uncorks]).toEqual([1, 1]);
    expect(a.uncorkListed).toBe(false);
    co.add(a);
    await nextTick();
    expect(a.uncorks).toBe(2);
  });

  it('shares one joined chunk among clients with the same run of events within a tick, and not across ticks', async () => {
    const co = new TickCoalescer();
    const parts = [Buffer.from('a'), Buffer.from('b')];
    const run = { legacy: false, first: 1, last: 2 };
    const first = co.join(parts, 2, run);
    expect(first.toString()).toBe('ab');
    expect(co.join([Buffer.from('a'), Buffer.from('b')], 2, { ...run })).toBe(first);
    expect(co.join(parts, 2, { ...run, legacy: true })).not.toBe(first);
    expect(co.join(parts, 2, undefined)).not.toBe(first);
    co.add(new FakeCorked());
    await nextTick();
    expect(co.join(parts, 2, run)).not.toBe(first);
  });
});
