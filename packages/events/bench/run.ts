// Bus publish cost against raw mitt emit of the same object to the same number of listeners, in one process.
import { formatNs, measure, writeReport } from '@mcpproxy/bench-kit';
import type { BusEvent } from '@mcpproxy/contracts';
import mitt from 'mitt';
import { createEventBus } from '../src/index.js';

const data = { from: 'idle', to: 'connecting', reason: 'bench', retry_count: 0 } as const;
const options = { batch: 1000, samples: 400, warmup: 50_000 };
const rows = [];
const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (const subscribers of [1, 100]) {
  let sink = 0;
  const listener = (e: { seq?: number }) => {
    sink += e.seq ?? 1;
  };

  const emitter = mitt<{ server_state_changed: { seq?: number; data: typeof data } }>();
  for (let i = 0; i < subscribers; i++) emitter.on('server_state_changed', listener);
  const raw = { type: 'server_state_changed', server: 'github', data };
  const baseline = measure(
    `mitt emit, ${subscribers} subscriber(s)`,
    () => emitter.emit('server_state_changed', raw),
    options,
  );

  // The replay ring and the coalescer are on, as in production (the coalescer timer is a no-op after the first).
  const bus = createEventBus({ coalesceMs: 0, replayBuffer: 1024 });
  for (let i = 0; i < subscribers; i++) bus.subscribe('server_state_changed', listener as (e: BusEvent) => void);
  const input = { type: 'server_state_changed', server: 'github', data } as never;
  const ours = measure(`bus publish, ${subscribers} subscriber(s)`, () => bus.publish(input), options);
  bus.close();

  const ratio = ours.meanNs / baseline.meanNs;
  rows.push({
    name: `publish to ${subscribers} subscriber(s)`,
    value: formatNs(ours.meanNs),
    unit: '/event',
    baseline: { name: 'raw mitt emit', value: formatNs(baseline.meanNs) },
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
    'The bus publish stamps seq/epoch/time, appends to the replay ring, and wraps each listener in try/catch; mitt does none of it.',
  ],
});
