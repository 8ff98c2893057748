/**
 * Prints the top self-time entries of a V8 `.cpuprofile` (as written by `node --cpu-prof`, e.g. the proxy's under
 * `MCP_COMPARE_CPU_PROF=DIR pnpm bench`): `node --import tsx bench/profile-top.ts FILE [N=10]`. Self time of a
 * function is summed over every node of the call tree that names it (same function, url and line).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, n = '10'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-top.ts FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Time per node from the samples (timeDeltas[i] is the time before sample i), more exact than hitCount.
const selfUs = new Map<string, number>();
let total = 0;
for (const [i, id] of profile.samples.entries()) {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i + 1] ?? 0;
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '')
    .replace(/^.*\/work\/main\//, '');
  const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
  // Idle time says nothing about the cost of a call: percentages are of the time the thread was busy.
  if (functionName === '(idle)') continue;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  total += dt;
}
const top = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(n));
process.stdout.write(`busy ${(total / 1000).toFixed(0)} ms (percentages are of busy time)\n`);
for (const [key, us] of top) {
  process.stdout.write(
    `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}\n`,
  );
}
