import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { HttpProblem } from '@ittd/platform';
import { authenticatedUserId } from './user-auth-middleware';

/** Options of {@link rateLimitMiddleware}. */
export interface RateLimitOptions {
  redis: Redis;
  /** Requests one user may make per minute. */
  limitPerMinute: number;
  /** Prefix of the counter keys, e.g. `applets:`; tests use a unique one. */
  keyPrefix: string;
}

const WINDOW_MS = 60_000;

/**
 * Per-user fixed-window rate limit kept in Redis (so it holds across instances): one `INCR` per request on
 * `<prefix>rate:<user>:<minute>`, expiring with the window. Over the limit: 429 with `Retry-After`. Every
 * answer carries `RateLimit-Limit` / `RateLimit-Remaining`. If Redis fails the request is let through
 * (logged): the limit protects the service, it must not take it down; readiness reports Redis anyway.
 * Mount after `userAuthMiddleware`.
 *
 * @example
 *   router.use(userAuthMiddleware(db), rateLimitMiddleware({ redis, limitPerMinute: 600, keyPrefix: 'applets:' }));
 */
export function rateLimitMiddleware(options: RateLimitOptions): RequestHandler {
  return async (req, res, next) => {
    const now = Date.now();
    const window = Math.floor(now / WINDOW_MS);
    const key = `${options.keyPrefix}rate:${authenticatedUserId(res)}:${window}`;
    let count: number;
    try {
      const results = await options.redis.multi().incr(key).pexpire(key, WINDOW_MS).exec();
      const [incrError, value] = results?.[0] ?? [new Error('empty MULTI result'), null];
      if (incrError) throw incrError;
      count = Number(value);
    } catch (error) {
      req.log.warn({ err: error }, 'rate limit unavailable; request let through');
      next();
      return;
    }
    res.setHeader('RateLimit-Limit', String(options.limitPerMinute));
    res.setHeader('RateLimit-Remaining', String(Math.max(0, options.limitPerMinute - count)));
    if (count > options.limitPerMinute) {
      throw new HttpProblem(429, {
        detail: `More than ${options.limitPerMinute} requests in a minute.`,
        headers: { 'Retry-After': String(Math.ceil(((window + 1) * WINDOW_MS - now) / 1000)) },
      });
    }
    next();
  };
}
