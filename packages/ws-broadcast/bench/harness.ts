/** The parent side of the client harness (bench/clients.ts), run in its own process. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Msg =
  | { type: 'ready'; opened: number }
  | { type: 'reset' }
  | { type: 'ack'; min: number; total: number }
  | { type: 'done'; deliveries: number; p50: number; p99: number; n: number; cpuMs: number }
  | { type: 'error'; message: string };

export class Harness {
  min = 0;
  total = 0;
  readonly #child: ChildProcess;
  readonly #waiters: ((msg: Msg) => void)[] = [];

  constructor() {
    this.#child = fork(fileURLToPath(new URL('./clients.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (msg: Msg) => {
      if (msg.type === 'ack') {
        this.min = msg.min;
        this.total = msg.total;
      }
      if (msg.type === 'error') throw new Error(`harness: ${msg.message}`);
      for (const w of this.#waiters.splice(0)) w(msg);
    });
  }

  #next<T extends Msg['type']>(type: T): Promise<Extract<Msg, { type: T }>> {
    return new Promise((resolve) => {
      const wait = (msg: Msg) => {
        if (msg.type === type) resolve(msg as Extract<Msg, { type: T }>);
        else this.#waiters.push(wait);
      };
      this.#waiters.push(wait);
    });
  }

  async open(url: string, n: number, kind: 'ws' | 'sse'): Promise<void> {
    const ready = this.#next('ready');
    this.#child.send({ cmd: 'open', url, n, kind });
    await ready;
  }

  async reset(expected: number): Promise<void> {
    const done = this.#next('reset');
    this.#child.send({ cmd: 'reset', expected });
    await done;
  }

  nextAck(): Promise<unknown> {
    return this.#next('ack');
  }

  async finish(last: number): Promise<Extract<Msg, { type: 'done' }>> {
    const done = this.#next('done');
    this.#child.send({ cmd: 'finish', last });
    return done;
  }

  exit(): Promise<void> {
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.send({ cmd: 'exit' });
    });
  }
}
