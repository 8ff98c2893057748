// A small keep-alive HTTP load client, run as its own process by bench/run.ts so the client never shares the
// server's event loop. Usage: load-client.ts URL CONNECTIONS DURATION_MS WARMUP_MS → one JSON line on stdout.
import { Agent, request } from 'node:http';

const [url = '', connArg = '32', durationArg = '5000', warmupArg = '1000'] = process.argv.slice(2);
const connections = Number(connArg);
const durationMs = Number(durationArg);
const warmupMs = Number(warmupArg);
const agent = new Agent({ keepAlive: true, maxSockets: connections });

interface Result {
  status: number;
  bytes: number;
}

function get(): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(ms: number, record: boolean) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let bytes = 0;
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const started = performance.now();
      try {
        const r = await get();
        if (record) {
          latencies.push(performance.now() - started);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          bytes += r.bytes;
        }
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  return { latencies, statuses, bytes, errors, seconds: (performance.now() - started) / 1000 };
}

await run(warmupMs, false);
const { latencies, statuses, bytes, errors, seconds } = await run(durationMs, true);
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  `${JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50Ms: at(50),
    p99Ms: at(99),
    maxMs: latencies[latencies.length - 1] ?? 0,
    bytesPerResponse: latencies.length ? bytes / latencies.length : 0,
    statuses,
    errors,
  })}\n`,
);
agent.destroy();
