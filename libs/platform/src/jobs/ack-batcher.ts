import type { Redis } from 'ioredis';
import type { QueueKeys } from './queue-keys';
import { ackScript } from './queue-scripts';

/** Completed jobs per ack script call (one packed argument). */
const ACK_CHUNK = 2000;
/** Failed attempts per ack script call (5 arguments each). */
const FAILURE_CHUNK = 200;

/** Completions taken off a batcher for a take to carry: the packed argument and how to put them back. */
export interface CarriedCompletions {
  packed: string;
  restore(): void;
}

/**
 * Outcomes of one queue's jobs waiting to be recorded, sent in batches: once per event-loop turn, or riding
 * along with the next take. Every outcome names the take token that holds the job, so a stale one (the lease
 * expired and the job was reclaimed) changes nothing in Redis; recording is idempotent, so a batch that failed
 * is sent again.
 *
 * @example
 * const acks = new AckBatcher(redis, keys, onError);
 * acks.complete(token, id);
 * await acks.flushUntil(Date.now() + 5000);
 */
export class AckBatcher {
  private tokens: string[] = [];
  private ids: string[] = [];
  /** 5 values per failed attempt (see ackScript). */
  private failures: (string | number)[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  /** Acks are retried until this time (Date.now() ms). */
  private deadline = Infinity;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    private readonly onError: (error: unknown) => void,
  ) {}

  get pending(): number {
    return this.ids.length + this.failures.length / 5;
  }

  complete(token: string, id: string): void {
    this.tokens.push(token);
    this.ids.push(id);
  }

  fail(kind: 'r' | 'd', token: string, id: string, retryInMs: number, entry: string): void {
    this.failures.push(kind, token, id, retryInMs, entry);
  }

  /** Takes up to a chunk of completions for a take to carry (packed "token:id,id;token:id"). */
  carry(): CarriedCompletions {
    const tokens = this.tokens.splice(0, ACK_CHUNK);
    const ids = this.ids.splice(0, ACK_CHUNK);
    return {
      packed: pack(tokens, ids),
      restore: () => {
        this.tokens.unshift(...tokens);
        this.ids.unshift(...ids);
      },
    };
  }

  /** Sends what is pending on the next event-loop turn (one call for everything settled in this turn). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Flushes until nothing is pending or `deadline` (Date.now() ms) passed; true if everything was recorded. */
  async flushUntil(deadline: number): Promise<boolean> {
    this.deadline = deadline;
    while ((this.flushing || this.pending > 0) && Date.now() < deadline)
      await (this.flushing ?? this.flush());
    return this.pending === 0;
  }

  /** One flush at a time, retried with backoff until Redis takes the batch. */
  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      let errors = 0;
      while (this.pending > 0 && Date.now() < this.deadline) {
        const carried = this.carry();
        const failures = this.failures.splice(0, FAILURE_CHUNK * 5);
        try {
          await ackScript.run(this.redis, this.keys.all, [
            this.keys.wakeChannel,
            carried.packed,
            ...failures,
          ]);
          errors = 0;
        } catch (error) {
          carried.restore();
          this.failures.unshift(...failures);
          this.onError(error);
          await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** errors++)));
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }
}

/** "token:id,id;token:id": consecutive ids of one token share its group. */
function pack(tokens: readonly string[], ids: readonly string[]): string {
  let out = '';
  for (let i = 0; i < ids.length; i++) {
    if (i === 0) out = `${tokens[0]}:${ids[0]}`;
    else if (tokens[i] === tokens[i - 1]) out += `,${ids[i]}`;
    else out += `;${tokens[i]}:${ids[i]}`;
  }
  return out;
}
