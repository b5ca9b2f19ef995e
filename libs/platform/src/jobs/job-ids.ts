import { randomBytes } from 'node:crypto';

/**
 * Job ids: UUIDv7 (RFC 9562, section 5.7), made by the producer. The first 48 bits are the Unix time in ms, so
 * ids sort by enqueue time, and the queue orders a priority FIFO by them; the rest is random, so ids never repeat,
 * not even after Redis lost its data (a counter in Redis would restart at 1, and a stale worker's ack of an old
 * job 1 would then hit the new job 1). Within one process ids are strictly increasing (RFC 9562 section 6.2,
 * method 1: the last 32 bits are a counter that starts at a random value each millisecond and, if it ever
 * wraps, borrows the next millisecond), and one `next(count)` call gets consecutive ids of one millisecond.
 * Made with `node:crypto` randomness and string slices: about 0.1 µs per id, which bulk enqueue needs
 * (`uuid`'s v7 is not a dependency here and is not faster).
 *
 * @example
 * const ids = new JobIds();
 * const { ms, ids: [a, b] } = ids.next(2); // a < b, both '0192…-…-7…'
 */
export class JobIds {
  private ms = -1;
  private counter = 0;
  private prefix = '';

  /** `count` new ids, increasing, all carrying the same enqueue time `ms`. */
  next(count: number): { ms: number; ids: string[] } {
    const now = Date.now();
    if (now > this.ms) this.reseed(now);
    if (this.counter + count > 0xffffffff) this.reseed(this.ms + 1);
    const ids = new Array<string>(count);
    for (let i = 0; i < count; i++) ids[i] = this.prefix + (this.counter++).toString(16).padStart(8, '0');
    return { ms: this.ms, ids };
  }

  private reseed(ms: number): void {
    this.ms = ms;
    const random = randomBytes(8);
    // Counter starts below 2^31, so at least 2^31 ids fit in one millisecond before a borrow.
    this.counter = random.readUInt32BE(0) & 0x7fffffff;
    const time = ms.toString(16).padStart(12, '0');
    const randA = (random.readUInt16BE(4) & 0x0fff).toString(16).padStart(3, '0');
    const varRand = ((random.readUInt16BE(6) & 0x3fff) | 0x8000).toString(16);
    const randB = randomBytes(2).toString('hex');
    this.prefix = `${time.slice(0, 8)}-${time.slice(8)}-7${randA}-${varRand}-${randB}`;
  }
}

/** True for a string shaped like a UUID (any version): what the CLI accepts as a job id. */
export function isJobId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/**
 * Tokens that name takes (one per take, not per job): a random worker part (96 bits) and a counter. The take
 * script records which jobs a token holds; completions, failures, renewals and hand-backs present it, and a
 * token whose lease expired (its jobs were reclaimed) changes nothing.
 *
 * @example
 * const tokens = new TakeTokens();
 * tokens.next(); // 'Xh3…Q.1'
 */
export class TakeTokens {
  private readonly worker = randomBytes(12).toString('base64url');
  private count = 0;

  next(): string {
    return `${this.worker}.${(++this.count).toString(36)}`;
  }
}
