// Benchmarks of issue #2: one server's update through the real bus among 10 / 1,000 / 10,000 servers, and
// snapshot()+serialized() reads between versions. Run with `pnpm bench`; figures land in bench-results/.
import { type BenchRow, formatNs, measure, writeReport } from '@mcpproxy/bench-kit';
import type { ServerSummary } from '@mcpproxy/contracts';
import { createEventBus, type EventBus } from '@mcpproxy/events';
import { createStateView, makeSummary } from '../src/index.js';

const SAMPLES = 10_000;
const WARMUP = 20_000;
const UPDATE_GOAL_NS = 50_000;
const TARGETS = 64;

const rows: BenchRow[] = [];
const notes: string[] = [];
const name = (i: number) => `server-${String(i).padStart(5, '0')}`;

/**
 * Publishes `server_state_changed` for 64 servers spread over the range, each publish flipping its row. The targets
 * must already be rows (seeded through the `servers` option): a state event for an unknown server is a no-op, and
 * the version check after each run throws if any update was one.
 */
function updater(bus: EventBus, n: number): () => void {
  const count = Math.min(TARGETS, n);
  const targets = Array.from({ length: count }, (_, t) => name(Math.floor((t * n) / count)));
  // Prebuilt so the timing is the bus + view, not building the summary.
  const variants = targets.map((target) =>
    [1, 2].map((tools) => makeSummary(target, { state: 'ready', tool_count: tools, groups: ['dev'] })),
  );
  let i = 0;
  return () => {
    const t = i % targets.length;
    const summary = variants[t]![Math.floor(i / targets.length) % 2]!;
    i++;
    bus.publish({
      type: 'server_state_changed',
      server: summary.name,
      data: { from: 'ready', to: 'ready', reason: 'tools', retry_count: 0, summary },
    });
  };
}

function seed(n: number): ServerSummary[] {
  return Array.from({ length: n }, (_, i) => makeSummary(name(i), { state: 'ready', tool_count: 0, groups: ['dev'] }));
}

// --- update of one server among n ---------------------------------------------------------------------------------
for (const n of [10, 1_000, 10_000]) {
  // Baseline: the same publishes on a bus nobody listens to, in the same run.
  const bareBus = createEventBus({ coalesceMs: 0 });
  const bare = measure(`bus.publish alone (${n})`, updater(bareBus, n), { samples: SAMPLES, warmup: WARMUP });
  bareBus.close();

  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, servers: seed(n) });
  const ops = SAMPLES + WARMUP;
  const timing = measure(`update 1 of ${n}`, updater(bus, n), { samples: SAMPLES, warmup: WARMUP });
  const version = view.snapshot().version;
  if (version !== ops) throw new Error(`expected ${ops} changing updates, the view counted ${version}`);
  if (view.snapshot().servers.length !== n) throw new Error('server count drifted');
  view.close();
  bus.close();

  const baseline = { name: `bus.publish, no view (p50 ${formatNs(bare.p50Ns)})`, value: formatNs(bare.p99Ns) };
  rows.push({
    name: `update 1 server among ${n.toLocaleString('en')}, p50 per update (bus.publish)`,
    value: formatNs(timing.p50Ns),
    unit: '',
  });
  rows.push({
    name: `update 1 server among ${n.toLocaleString('en')}, p99 per update (bus.publish)`,
    value: formatNs(timing.p99Ns),
    unit: '',
    baseline,
    ratio: timing.p99Ns / bare.p99Ns,
    ...(n === 1_000 ? { goal: 'p99 ≤ 50 µs', met: timing.p99Ns <= UPDATE_GOAL_NS } : {}),
  });
}

// --- a no-op event among 1,000 --------------------------------------------------------------------------------------
{
  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, servers: seed(1_000) });
  const toolCall = () =>
    bus.publish({ type: 'tool_called', server: name(500), data: { tool: 'echo', duration_ms: 1, status: 'ok' } });
  const timing = measure('no-op event among 1,000', toolCall, { samples: SAMPLES, warmup: WARMUP });
  if (view.snapshot().version !== 0) throw new Error('a tool_called event changed the view');
  rows.push({
    name: 'no-op event (tool_called) among 1,000, p50 / p99',
    value: `${formatNs(timing.p50Ns)} / ${formatNs(timing.p99Ns)}`,
    unit: '',
  });
  view.close();
  bus.close();
}

// --- reads between versions, 1,000 servers --------------------------------------------------------------------------
{
  let stringifyCalls = 0;
  const stringify = (value: unknown) => {
    stringifyCalls++;
    return JSON.stringify(value);
  };
  const bus = createEventBus({ coalesceMs: 0 });
  const view = createStateView({ bus, servers: seed(1_000), stringify });
  const update = updater(bus, 1_000);
  update();
  view.serialized();

  let sink = 0;
  const read = () => {
    sink += view.snapshot().version + view.serialized().length;
  };
  const reads = measure('snapshot()+serialized() between versions', read, { batch: 1000, samples: 500, warmup: 50 });
  const naive = measure(
    'JSON.stringify(snapshot()) per read',
    () => {
      sink += JSON.stringify(view.snapshot()).length;
    },
    { batch: 1, samples: 500, warmup: 50 },
  );
  // Baseline of "a property access": reading a field off a frozen object through a closure call.
  const holder = Object.freeze({ version: 1, body: view.serialized() });
  const get = () => holder;
  const access = measure(
    'property access',
    () => {
      sink += get().version + get().body.length;
    },
    { batch: 1000, samples: 500, warmup: 50 },
  );
  rows.push({
    name: 'snapshot()+serialized() read between versions, 1,000 servers',
    value: `${formatNs(reads.meanNs)} (${(reads.opsPerSec / 1e6).toFixed(1)} M reads/s)`,
    unit: 'per read',
    baseline: { name: 'two property reads through a call', value: formatNs(access.meanNs) },
    ratio: reads.meanNs / access.meanNs,
    goal: '~ a property access',
    met: reads.meanNs <= 10 * access.meanNs,
  });
  rows.push({
    name: 'JSON.stringify(snapshot()) on every read (what caching saves), 1,000 servers',
    value: formatNs(naive.meanNs),
    unit: 'per read',
    ratio: naive.meanNs / reads.meanNs,
  });

  // Count serialisations: K versions, R reads of both bodies each, plus no-op events between reads.
  const K = 200;
  const R = 1_000;
  stringifyCalls = 0;
  let firstRead = 0;
  for (let k = 0; k < K; k++) {
    update();
    const t0 = process.hrtime.bigint();
    view.serialized();
    firstRead += Number(process.hrtime.bigint() - t0);
    for (let r = 0; r < R; r++) {
      if (r % 100 === 0) {
        bus.publish({ type: 'tool_called', server: name(1), data: { tool: 'echo', duration_ms: 1, status: 'ok' } });
      }
      view.snapshot();
      view.serialized();
      view.serializedServers();
    }
  }
  if (view.snapshot().version !== K + 1) throw new Error('unexpected version count');
  rows.push({
    name: `serialisations per version (${K} versions × ${R} reads of serialized()+serializedServers(), no-op events between)`,
    value: (stringifyCalls / K).toFixed(2),
    unit: 'JSON.stringify calls',
    goal: 'exactly 1 per version; none between versions',
    met: stringifyCalls === K,
  });
  rows.push({
    name: 'first serialized() after a change (the one serialisation), 1,000 servers',
    value: formatNs(firstRead / K),
    unit: 'mean',
  });
  if (sink === 0) throw new Error('unreachable');
  view.close();
  bus.close();
}

notes.push(
  'Updates go through bus.publish of a server_state_changed for a row seeded through the `servers` option, whose summary differs from the row (tool_count flips), so every sample is a real change of an existing row: reducer (binary search, deep-equal, frozen row copy, immer produce), version bump and O(1) index update. Batch 1, 10,000 samples after 20,000 warm-up updates (steady state: JIT tiers settled).',
  'Servers are one frozen array sorted by name: an update copies and re-freezes it, O(n). p99 includes young-generation GC of those copies, which dominates at 10,000.',
  'Reads: serialized() caches the servers JSON per servers reference and the app JSON per app reference; a no-op event only moves seq, which costs one string concatenation at the next read, never a JSON.stringify.',
);
writeReport({ package: '@mcpproxy/stateview', issue: 2, rows, notes });
