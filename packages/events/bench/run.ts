// Bus publish cost against raw mitt emit of the same object to the same number of listeners, in one process.
import { formatNs, measure, writeReport } from '@mcpproxy/bench-kit';
import type { BusEvent } from '@mcpproxy/contracts';
import mitt from 'mitt';
import { createEventBus } from '../src/index.js';

const data = { from: 'idle', to: 'connecting', reason: 'bench', retry_count: 0 } as const;
const options = { batch: 1000, samples: 400, warmup: 50_000 };
const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rows = [];

for (const subscribers of [1, 100]) {
  let sink = 0;
  const listener = (e: { seq?: number }) => {
    sink += e.seq ?? 1;
  };

  const emitter = mitt<{ server_state_changed: { seq?: number; data: typeof data } }>();
  for (let i = 0; i < subscribers; i++) emitter.on('server_state_changed', listener);
  const raw = { type: 'server_state_changed', server: 'github', data };

  // The replay ring is on, as in production.
  const bus = createEventBus({ coalesceMs: 0, replayBuffer: 1024 });
  for (let i = 0; i < subscribers; i++) bus.subscribe('server_state_changed', listener as (e: BusEvent) => void);
  const input = { type: 'server_state_changed', server: 'github', data } as never;

  // Interleaved rounds, medians: both measurements see the same machine load.
  const base: number[] = [];
  const mine: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    base.push(measure('mitt', () => emitter.emit('server_state_changed', raw), options).meanNs);
    mine.push(measure('bus', () => bus.publish(input), options).meanNs);
  }
  bus.close();

  const ratio = median(mine) / median(base);
  rows.push({
    name: `publish to ${subscribers} subscriber(s)`,
    value: formatNs(median(mine)),
    unit: '/event',
    baseline: { name: 'raw mitt emit', value: formatNs(median(base)) },
    ratio,
    goal: '≤ 1.5× mitt',
    met: ratio <= 1.5,
  });
  if (sink === -1) console.log(sink);
}

writeReport({
  package: '@mcpproxy/events',
  issue: 2,
  rows,
  notes: [
    `Medians of ${ROUNDS} interleaved rounds of 400×1000 calls. The bus publish stamps seq/epoch/time, appends to the replay ring and runs each listener in its own try/catch; mitt does none of it.`,
  ],
});
