import { ActorError } from './errors.js';

type Job = () => Promise<void>;

/**
 * An actor's mailbox: jobs run one at a time, in order, never on the caller's stack. Commands are bounded (past
 * `limit` waiting, one rejects with `BUSY`); internal steps (results of connects, timers) are not, since dropping
 * one would lose a state change.
 */
export class Mailbox {
  private readonly queue: Job[] = [];
  private draining = false;
  private readonly limit: number;
  private readonly owner: string;

  /** `owner` names the server in the `BUSY` message. */
  constructor(owner: string, limit: number) {
    this.owner = owner;
    this.limit = limit;
  }

  /** Queues `fn`; settles with its result once it ran. Rejects with `BUSY` when full, unless `internal`. */
  enqueue<T>(fn: () => T | Promise<T>, internal = false): Promise<T> {
    if (!internal && this.queue.length >= this.limit) {
      return Promise.reject(new ActorError('BUSY', `mailbox of server "${this.owner}" is full`));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(async () => {
        try {
          resolve(await fn());
        } catch (error) {
          reject(error);
        }
      });
      if (!this.draining) {
        // Jobs never run on the caller's stack: a listener that sends a command while the actor publishes, or a
        // reconcile creating a thousand actors, only queues work; it runs right after, in order.
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
    } finally {
      this.draining = false;
    }
  }
}
