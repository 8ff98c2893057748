/**
 * The client harness, run as its own process (`child_process.fork`) so that the server under test has its core
 * to itself. It opens N WebSocket or SSE clients, tracks each one's last seq, samples publish-to-receive latency
 * from the timestamp the publisher embeds in every event, and talks to the parent over IPC:
 *
 *   parent → child  {cmd:'open', url, n, kind}           child → parent  {type:'ready', opened}
 *   parent → child  {cmd:'reset', expected}              child → parent  {type:'reset'}
 *   parent → child  {cmd:'finish', last}                 child → parent  {type:'ack', min, total}   (every 2 ms)
 *                                                        child → parent  {type:'done', deliveries, p50, p99}
 *   parent → child  {cmd:'exit'}
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

type Kind = 'ws' | 'sse';
type Command =
  | { cmd: 'open'; url: string; n: number; kind: Kind }
  | { cmd: 'finish'; last: number }
  | { cmd: 'reset'; expected: number }
  | { cmd: 'exit' };

const send = (msg: unknown) => process.send?.(msg);
const now = () => performance.timeOrigin + performance.now();

/** Latency samples (ms), a bounded stride sample of every delivery. */
const MAX_SAMPLES = 200_000;
let samples = new Float64Array(MAX_SAMPLES);
let sampleCount = 0;
let sampleEvery = 1;
let seen = 0;

let positions = new Float64Array(0);
let total = 0;
let finishAt: number | undefined;
let cpuAtReset = process.cpuUsage();
const closers: (() => void)[] = [];

const TS_KEY = '"duration_ms":';

const SEQ_PREFIX = Buffer.from('{"seq":');

/** Records a text frame: events start with `{"seq":N,`; control frames (hello) start with `{"type":`. */
function onText(i: number, buf: Buffer, start: number, end: number): void {
  if (end - start < 8 || buf.compare(SEQ_PREFIX, 0, SEQ_PREFIX.length, start, start + SEQ_PREFIX.length) !== 0) return;
  let seq = 0;
  for (let k = start + 7; k < end; k++) {
    const c = buf[k] as number;
    if (c < 48 || c > 57) break;
    seq = seq * 10 + (c - 48);
  }
  if (!count(i, seq)) return;
  const at = buf.indexOf(TS_KEY, start);
  if (at < 0 || at >= end) return;
  samples[sampleCount++] =
    now() - Number.parseFloat(buf.toString('latin1', at + TS_KEY.length, at + TS_KEY.length + 24));
}

/** Moves client `i` to `seq`; true when this delivery is one to sample for latency. */
function count(i: number, seq: number): boolean {
  positions[i] = seq;
  total++;
  return ++seen % sampleEvery === 0 && sampleCount < MAX_SAMPLES;
}

/**
 * A minimal WebSocket client on a raw socket: the handshake, then unmasked server frames parsed in place. The `ws`
 * client costs several microseconds per message in JS, which made the harness, not the server, the bottleneck.
 */
function openWs(url: string, i: number): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    socket.setNoDelay(true);
    closers.push(() => socket.destroy());
    socket.once('error', reject);
    socket.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let buf: Buffer | undefined;
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      let b = buf ? Buffer.concat([buf, chunk]) : chunk;
      if (!upgraded) {
        const end = b.indexOf('\r\n\r\n');
        if (end < 0) {
          buf = b;
          return;
        }
        if (!b.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) {
          reject(new Error(b.toString('latin1', 0, end)));
          return;
        }
        upgraded = true;
        resolve();
        b = b.subarray(end + 4);
      }
      let off = 0;
      while (b.length - off >= 2) {
        let len = (b[off + 1] as number) & 0x7f;
        let header = 2;
        if (len === 126) {
          if (b.length - off < 4) break;
          len = b.readUInt16BE(off + 2);
          header = 4;
        } else if (len === 127) {
          if (b.length - off < 10) break;
          len = b.readUInt32BE(off + 6);
          header = 10;
        }
        if (b.length - off < header + len) break;
        if (((b[off] as number) & 0x0f) === 1) onText(i, b, off + header, off + header + len);
        off += header + len;
      }
      buf = off >= b.length ? undefined : b.subarray(off);
    });
  });
}

/** A minimal SSE client on a raw socket: blocks split on blank lines, `id:` read, hello skipped. */
function openSse(url: string, i: number): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    socket.setNoDelay(true);
    closers.push(() => socket.destroy());
    socket.once('error', reject);
    socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
    let carry = '';
    let headers = true;
    socket.on('data', (chunk: Buffer) => {
      let text = carry + chunk.toString('latin1');
      if (headers) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          carry = text;
          return;
        }
        if (!text.startsWith('HTTP/1.1 200')) {
          reject(new Error(text.slice(0, end)));
          return;
        }
        headers = false;
        resolve();
        text = text.slice(end + 4);
      }
      let start = 0;
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n', start)) {
        const at = text.indexOf('id: ', start);
        if (at >= 0 && at < end && !text.startsWith('event: hello', text.indexOf('\n', at) + 1)) {
          // The id is EPOCH:SEQ; the seq follows the colon on the id line.
          const colon = text.indexOf(':', at + 4);
          if (count(i, Number.parseInt(text.slice(colon + 1, colon + 21), 10))) {
            const ts = text.indexOf(TS_KEY, at);
            if (ts >= 0 && ts < end) {
              samples[sampleCount++] =
                now() - Number.parseFloat(text.slice(ts + TS_KEY.length, ts + TS_KEY.length + 24));
            }
          }
        }
        start = end + 2;
      }
      carry = text.slice(start);
    });
  });
}

async function open(url: string, n: number, kind: Kind): Promise<void> {
  positions = new Float64Array(n);
  const BATCH = 200;
  for (let i = 0; i < n; i += BATCH) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(kind === 'ws' ? openWs(url, j) : openSse(url, j));
    await Promise.all(batch);
  }
  send({ type: 'ready', opened: n });
}

function minPosition(): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < positions.length; i++) if ((positions[i] as number) < min) min = positions[i] as number;
  return positions.length === 0 ? 0 : min;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const ackTimer = setInterval(() => {
  if (positions.length === 0) return;
  const min = minPosition();
  send({ type: 'ack', min, total });
  if (finishAt !== undefined && min >= finishAt) {
    finishAt = undefined;
    const sorted = samples.slice(0, sampleCount).sort();
    const cpu = process.cpuUsage(cpuAtReset);
    send({
      type: 'done',
      deliveries: total,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      n: sampleCount,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  }
}, 2);

process.on('message', (msg: Command) => {
  switch (msg.cmd) {
    case 'open':
      open(msg.url, msg.n, msg.kind).catch((error: unknown) => {
        send({ type: 'error', message: String(error) });
      });
      return;
    case 'reset':
      cpuAtReset = process.cpuUsage();
      total = 0;
      seen = 0;
      sampleCount = 0;
      samples = new Float64Array(MAX_SAMPLES);
      sampleEvery = Math.max(1, Math.ceil(msg.expected / MAX_SAMPLES));
      send({ type: 'reset' });
      return;
    case 'finish':
      finishAt = msg.last;
      return;
    case 'exit':
      clearInterval(ackTimer);
      for (const close of closers) close();
      process.exit(0);
  }
});

process.on('disconnect', () => process.exit(0));
