/**
 * Idle memory per connection, in a fresh server process: `tsx memory.ts ours|bare N` (run with --expose-gc).
 * Measures heap (+external) and RSS before and after N clients connect and receive their first frame, and sends
 * the per-connection deltas to the parent.
 */
import { Harness } from './harness.js';
import { startBare, startOurs } from './targets.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const [which = 'ours', count = '2000'] = process.argv.slice(2);
const n = Number(count);

const target = which === 'bare' ? await startBare() : await startOurs();
gc();
gc();
const before = process.memoryUsage();
const h = new Harness();
await h.open(target.wsUrl, n, 'ws');
for (let i = 0; i < 10; i++) await h.nextAck();
await new Promise((resolve) => setTimeout(resolve, 200));
gc();
gc();
const after = process.memoryUsage();
process.send?.({
  heap: (after.heapUsed + after.external - before.heapUsed - before.external) / n,
  rss: (after.rss - before.rss) / n,
});
await h.exit();
await target.close();
process.exit(0);
