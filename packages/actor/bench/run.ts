// Actor and supervisor costs: getState() reads, reconcile of 1,000 servers, heap per idle actor.
// Run with `pnpm bench` (node --expose-gc --import tsx bench/run.ts).
import { type BenchRow, formatNs, measure, writeReport } from '@mcpproxy/bench-kit';
import {
  type Config,
  type ConfigInput,
  createFakeClock,
  parseConfig,
  type ServerConfig,
  type UpstreamConnector,
} from '@mcpproxy/contracts';
import { createEventBus } from '@mcpproxy/events';
import { createScriptedConnector, echoTool, FakeConnection, sumTool } from '@mcpproxy/testkit';
import {
  actorSettings,
  type ConfigSource,
  createServerActor,
  createSupervisor,
  type ServerActor,
} from '../src/index.js';

const tools = [echoTool, sumTool];

const N = 1_000;
const ROUNDS = 9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (pnpm bench)');
const rows: BenchRow[] = [];
const notes: string[] = [];

function config(n: number, tag = ''): Config {
  const input: ConfigInput = {
    mcpServers: Array.from({ length: n }, (_, i) => ({
      name: `server-${i}`,
      command: 'mcp-server',
      args: ['--port', String(i), tag].filter(Boolean),
      env: { TOKEN: `t-${i}` },
      groups: i % 2 === 0 ? ['even'] : ['odd'],
    })),
  };
  const parsed = parseConfig(input);
  if (!parsed.ok) throw new Error('bad bench config');
  return parsed.value;
}

function source(initial: Config): ConfigSource & { set(next: Config): void } {
  let current = initial;
  const listeners = new Set<(c: Config, p: Config) => void>();
  return {
    snapshot: () => current,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    set(next) {
      const previous = current;
      current = next;
      for (const l of listeners) l(current, previous);
    },
  };
}

const never: UpstreamConnector = { connect: () => new Promise(() => {}) };
/** Connects at once to a fake connection; no per-connect cloning, so the timing is the supervisor's. */
const instant: UpstreamConnector = { connect: async () => new FakeConnection(tools) };
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// ── getState() ──────────────────────────────────────────────────────────────
{
  const clock = createFakeClock();
  const bus = createEventBus({ clock, coalesceMs: 0 });
  const connector = createScriptedConnector();
  // 16 ready actors read round-robin, as a list view does; the loop lives inside the measured function so the
  // harness's call overhead is amortised over 1,000 reads and each read site stays monomorphic.
  const actors = config(16).mcpServers.map((server) =>
    createServerActor(server.name, { config: { server }, connector, bus, clock }),
  );
  await Promise.all(actors.map((a) => a.start()));
  const holders = actors.map((a) => {
    const holder = { summary: Object.freeze({ ...a.getState() }), getState: () => holder.summary };
    return holder;
  });
  const READS = 1_000;
  let sink = 0;
  const options = { batch: 1, samples: 2_000, warmup: 2_000 };
  const baseline = measure(
    'plain getter of a frozen object',
    () => {
      for (let i = 0; i < READS; i++) sink += (holders[i & 15] as (typeof holders)[number]).getState().tool_count;
    },
    options,
  );
  const ours = measure(
    'actor.getState()',
    () => {
      for (let i = 0; i < READS; i++) sink += (actors[i & 15] as ServerActor).getState().tool_count;
    },
    options,
  );
  const oursNs = ours.meanNs / READS;
  const baseNs = baseline.meanNs / READS;
  rows.push({
    name: 'getState() on ready actors',
    value: Math.round(1e9 / oursNs).toLocaleString('en-US'),
    unit: 'reads/s',
    baseline: {
      name: 'plain getter of a frozen object',
      value: `${Math.round(1e9 / baseNs).toLocaleString('en-US')} reads/s`,
    },
    ratio: oursNs / baseNs,
  });
  notes.push(
    `getState(): ${formatNs(oursNs)} per read (baseline ${formatNs(baseNs)}); it returns the stored frozen summary, allocating nothing.`,
  );
  await Promise.all(actors.map((a) => a.close()));
  if (sink === -1) console.log(sink);
}

// ── reconcile of 1,000 servers ──────────────────────────────────────────────
async function reconcileRun(connector: UpstreamConnector, waitReady: boolean) {
  const clock = createFakeClock();
  const bus = createEventBus({ clock, coalesceMs: 0 });
  const initial = config(N);
  const src = source(initial);
  const supervisor = createSupervisor({ config: src, bus, connector, clock });
  let established = 0;
  let allReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    allReady = resolve;
  });
  bus.subscribe('connection_established', () => {
    if (++established === N) allReady?.();
  });
  const t0 = process.hrtime.bigint();
  supervisor.start();
  const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let readyMs = Number.NaN;
  if (waitReady) {
    await ready;
    readyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  } else await nextTurn();
  // A fresh snapshot equal in value (new objects, as a config reload gives): compared, nothing to do.
  const same = config(N);
  const t1 = process.hrtime.bigint();
  src.set(same);
  const sameMs = Number(process.hrtime.bigint() - t1) / 1e6;
  // Every server changed (a connection field): 1,000 updates queued, reconnects not awaited.
  const changed = config(N, 'v2');
  const t2 = process.hrtime.bigint();
  src.set(changed);
  const changedMs = Number(process.hrtime.bigint() - t2) / 1e6;
  await nextTurn();
  await supervisor.close({ deadlineMs: 60_000 });
  bus.close();
  return { startMs, readyMs, sameMs, changedMs };
}

{
  for (let i = 0; i < 3; i++) await reconcileRun(instant, true);
  const withInstant = [];
  const hanging = [];
  for (let i = 0; i < ROUNDS; i++) {
    withInstant.push(await reconcileRun(instant, true));
    hanging.push(await reconcileRun(never, false));
  }
  const startInstant = median(withInstant.map((r) => r.startMs));
  const startHanging = median(hanging.map((r) => r.startMs));
  rows.push({
    name: `reconcile ${N.toLocaleString('en-US')} new servers (fake instant connector)`,
    value: startInstant.toFixed(2),
    unit: 'ms',
    goal: '≤ 50 ms',
    met: startInstant <= 50,
  });
  rows.push({
    name: `reconcile ${N.toLocaleString('en-US')} new servers (never-resolving connector)`,
    value: startHanging.toFixed(2),
    unit: 'ms',
    goal: '≤ 50 ms',
    met: startHanging <= 50,
  });
  rows.push({
    name: `reconcile ${N.toLocaleString('en-US')} unchanged servers (fresh equal snapshot)`,
    value: median(withInstant.map((r) => r.sameMs)).toFixed(2),
    unit: 'ms',
  });
  rows.push({
    name: `reconcile ${N.toLocaleString('en-US')} changed servers (restart each, not awaited)`,
    value: median(withInstant.map((r) => r.changedMs)).toFixed(2),
    unit: 'ms',
  });
  rows.push({
    name: `start → all ${N.toLocaleString('en-US')} ready (fake instant connector)`,
    value: median(withInstant.map((r) => r.readyMs)).toFixed(2),
    unit: 'ms',
  });
  notes.push(
    `Reconcile is timed from supervisor.start() to its return: ${N} actors created and ${N} \`added\` events published; their start commands are queued and run (connects included) right after it returns. Median of ${ROUNDS} runs after 3 warm-ups.`,
  );
}

// ── heap per idle actor ─────────────────────────────────────────────────────
/**
 * Actors of the current round. They live here, not in a local: an interpreter register keeps a dead local alive
 * until it is overwritten, which would count the previous round in the next reading.
 */
let held: unknown;

async function oneRound(make: (servers: ServerConfig[]) => Promise<unknown[]>): Promise<number> {
  held = undefined;
  const servers = config(N).mcpServers;
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  held = await make(servers);
  gc?.();
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (!Array.isArray(held) || held.length !== N) throw new Error('actors were not all alive at the reading');
  return (after - before) / N;
}

async function heapPerActor(make: (servers: ServerConfig[]) => Promise<unknown[]>): Promise<number> {
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) samples.push(await oneRound(make));
  held = undefined;
  return median(samples);
}

{
  const clock = createFakeClock();
  const bus = createEventBus({ clock, coalesceMs: 0, replayBuffer: 0 });
  const connector = createScriptedConnector();
  const settings = actorSettings(config(0));
  const idle = await heapPerActor(async (servers) =>
    servers.map((server) => createServerActor(server.name, { config: { server, settings }, connector, bus, clock })),
  );
  rows.push({
    name: `heap per idle actor at ${N.toLocaleString('en-US')} actors`,
    value: (idle / 1024).toFixed(2),
    unit: 'KB',
    goal: '≤ 20 KB',
    met: idle <= 20 * 1024,
  });
  const connecting = await heapPerActor(async (servers) => {
    const actors: ServerActor[] = servers.map((server) =>
      createServerActor(server.name, { config: { server, settings }, connector: never, bus, clock }),
    );
    for (const a of actors) void a.start();
    await nextTurn();
    return actors;
  });
  rows.push({
    name: `heap per connecting actor at ${N.toLocaleString('en-US')} actors (pending connect, timer)`,
    value: (connecting / 1024).toFixed(2),
    unit: 'KB',
  });
  const readyActors = await heapPerActor(async (servers) => {
    const actors: ServerActor[] = servers.map((server) =>
      createServerActor(server.name, { config: { server, settings }, connector, bus, clock }),
    );
    await Promise.all(actors.map((a) => a.start()));
    return actors;
  });
  rows.push({
    name: `heap per ready actor at ${N.toLocaleString('en-US')} actors (2 tools, fake connection included)`,
    value: (readyActors / 1024).toFixed(2),
    unit: 'KB',
  });
  notes.push(
    'Heap is heapUsed after two gc() minus before, divided by 1,000; the config objects exist before the first reading, so only the actors are counted. Median of 5 rounds.',
  );
}

writeReport({ package: '@mcpproxy/actor', issue: 3, rows, notes });
