import type { Redis } from 'ioredis';
import { DEFAULT_EVENTS_PREFIX, eventKeys } from './event-keys';

/** One dead-lettered event of a subscription. */
export interface DeadLetter {
  /** The dead letter's id (its entry id in the dead-letter stream); pass it to `retry` or `purge`. */
  id: string;
  eventId: string;
  topic: string;
  subscription: string;
  /** The event as published (JSON text parsed; the raw text if it no longer parses). */
  data: unknown;
  publishedAt: string | undefined;
  requestId: string | undefined;
  /** Deliveries made before it was given up. */
  deliveries: number;
  /** The last handler error, or why it was given up. */
  error: string;
  deadAt: string;
}

/** Fields of a dead-letter entry that are not the original message's. */
const DEAD_FIELDS = new Set(['stream_id', 'deliveries', 'error', 'dead_at']);

function toDeadLetter(topic: string, subscription: string, [id, raw]: [string, string[]]): DeadLetter {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) f[raw[i] as string] = raw[i + 1] as string;
  let data: unknown = f['data'];
  try {
    data = JSON.parse(f['data'] ?? 'null');
  } catch {
    // kept as text
  }
  return {
    id,
    eventId: f['id'] ?? '',
    topic,
    subscription,
    data,
    publishedAt: f['published'],
    requestId: f['request'],
    deliveries: Number(f['deliveries'] ?? 0),
    error: f['error'] ?? '',
    deadAt: f['dead_at'] ?? '',
  };
}

/**
 * The dead letters of one subscription: list, retry (back to this subscription only, with a fresh delivery
 * count; other subscriptions of the topic are not affected) and purge. Ids select entries; `'all'` every one.
 *
 * @example
 * const dead = new DeadLetters(redis, 'applet.saved', 'trigger-poller');
 * const letters = await dead.list({ limit: 20 });
 * await dead.retry(letters.map((l) => l.id));
 * await dead.purge('all');
 */
export class DeadLetters {
  private readonly keys: ReturnType<typeof eventKeys>;

  constructor(
    private readonly redis: Redis,
    readonly topic: string,
    readonly subscription: string,
    prefix: string = DEFAULT_EVENTS_PREFIX,
  ) {
    this.keys = eventKeys(prefix, topic);
  }

  /** Number of dead letters. */
  async count(): Promise<number> {
    return this.redis.xlen(this.keys.dead(this.subscription));
  }

  /** Dead letters, oldest first; `limit` default 50 (at most 1,000), starting after the id `after`. */
  async list({ limit = 50, after }: { limit?: number; after?: string } = {}): Promise<DeadLetter[]> {
    const entries = (await this.redis.xrange(
      this.keys.dead(this.subscription),
      after === undefined ? '-' : `(${after}`,
      '+',
      'COUNT',
      Math.min(Math.max(1, limit), 1000),
    )) as [string, string[]][];
    return entries.map((entry) => toDeadLetter(this.topic, this.subscription, entry));
  }

  /**
   * Puts dead letters back on the subscription's retry stream (read by its consumers like new events, same
   * event id) and removes them from the dead letters, one MULTI per letter. Resolves how many moved.
   */
  async retry(ids: readonly string[] | 'all'): Promise<number> {
    const dead = this.keys.dead(this.subscription);
    let moved = 0;
    for (const [id, raw] of await this.select(ids)) {
      const original: string[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2)
        if (!DEAD_FIELDS.has(raw[i] as string)) original.push(raw[i] as string, raw[i + 1] as string);
      await this.redis
        .multi()
        .xadd(this.keys.retry(this.subscription), '*', ...original)
        .xdel(dead, id)
        .exec();
      moved++;
    }
    return moved;
  }

  /** Deletes dead letters; resolves how many. */
  async purge(ids: readonly string[] | 'all'): Promise<number> {
    const dead = this.keys.dead(this.subscription);
    if (ids === 'all') {
      const count = await this.redis.xlen(dead);
      await this.redis.del(dead);
      return count;
    }
    return ids.length ? this.redis.xdel(dead, ...ids) : 0;
  }

  private async select(ids: readonly string[] | 'all'): Promise<[string, string[]][]> {
    const dead = this.keys.dead(this.subscription);
    if (ids === 'all') return (await this.redis.xrange(dead, '-', '+')) as [string, string[]][];
    const found: [string, string[]][] = [];
    for (const id of ids) found.push(...((await this.redis.xrange(dead, id, id)) as [string, string[]][]));
    return found;
  }
}
