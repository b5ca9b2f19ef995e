import type { Redis } from 'ioredis';

/** The answer of {@link PartnerRateLimit.take}: go ahead, or wait `waitMs` and ask again. */
export type RateDecision = { allowed: true } | { allowed: false; waitMs: number };

/**
 * A fixed-window counter per partner service in Redis, shared by every worker: at most `limit` calls to one
 * partner in each window of `windowMs` (windows aligned on the Unix epoch, counted by `INCR` on
 * `<prefix><slug>:<window number>`, which expires after two windows). A call over the limit is told how long
 * to wait: until the next window, plus a jitter of up to a tenth of a window so the waiting runs do not all
 * come back in the same millisecond. Windows follow the workers' clocks (NTP keeps them within a few ms); at
 * a window edge a partner can see up to `2 * limit` calls within one `windowMs`, the known cost of a fixed
 * window.
 *
 * @example
 *   const limiter = new PartnerRateLimit(redis, 'ittd:actions:rate:', { limit: 600, windowMs: 60_000 });
 *   const decision = await limiter.take('slack'); // { allowed: true } or { allowed: false, waitMs: 12_345 }
 */
export class PartnerRateLimit {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { limit: number; windowMs: number },
  ) {}

  /** Counts one call to `slug` in the current window; allowed when the count is within the limit. */
  async take(slug: string, now = Date.now()): Promise<RateDecision> {
    const { limit, windowMs } = this.options;
    const window = Math.floor(now / windowMs);
    const key = `${this.prefix}${slug}:${window}`;
    const result = await this.redis
      .multi()
      .incr(key)
      .pexpire(key, windowMs * 2)
      .exec();
    const [error, count] = result?.[0] ?? [new Error('rate limit transaction aborted'), null];
    if (error) throw error;
    if (Number(count) <= limit) return { allowed: true };
    const untilNext = (window + 1) * windowMs - now;
    return { allowed: false, waitMs: untilNext + Math.floor(Math.random() * (windowMs / 10)) };
  }
}
