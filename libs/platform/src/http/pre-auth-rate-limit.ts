import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { configField, intField } from '../config/config-field';
import { HttpProblem } from './http-problem';

/**
 * Settings of {@link preAuthRateLimit}: how many requests without a valid credential one client address may
 * make per minute. Spread next to `redisConfig` in a service that looks credentials up in its database.
 *
 * @example
 *   const configSchema = z.object({ ...baseServiceConfig, ...redisConfig, ...preAuthRateLimitConfig });
 */
export const preAuthRateLimitConfig = {
  PREAUTH_RATE_LIMIT_PER_MINUTE: configField(intField({ min: 1, max: 1_000_000 }).default(60), {
    description:
      'requests without a valid credential one client address may make per minute; checked in Redis before any database lookup',
  }),
};

/** Options of {@link preAuthRateLimit}. */
export interface PreAuthRateLimitOptions {
  redis: Redis;
  /** Attempts without a valid credential one client address may make per window. */
  limit: number;
  /** Prefix of the counter keys (the service's REDIS_KEY_PREFIX); tests pass a unique one. */
  keyPrefix: string;
  /** Window length; default one minute. */
  windowMs?: number;
  /**
   * A request for which this answers true passes without counting and without a Redis call: one whose
   * credential the service already knows valid without a database lookup (an in-memory cache of recently
   * checked credentials). It must not look anything up itself. Default: every request counts.
   */
  skip?: (req: Request, res: Response) => boolean;
}

const WINDOW_MS = 60_000;
const RELEASE = Symbol('preAuthRelease');

/** The counter key of a client address in a window; IPv6 colons kept (Redis keys are binary-safe). */
function counterKey(prefix: string, address: string, window: number): string {
  return `${prefix}preauth:${address}:${window}`;
}

/**
 * Rate limit by client address (`req.ip`, so set TRUST_PROXY behind a proxy) for requests that are not yet
 * authenticated, BEFORE the credential is looked up: each request takes one from the address's budget with
 * one Redis `INCR` (fixed window), and over the limit gets 429 with `Retry-After` without reaching the
 * database. A request whose credential then proves valid gives its unit back ({@link releasePreAuthAttempt}),
 * so only missing or bad credentials count: a flood of bad tokens costs at most `limit` lookups per address
 * and window, while valid users behind one address are limited per user elsewhere. A request `skip` vouches
 * for (a credential cached as valid) makes no Redis call at all. When Redis fails, the request is let
 * through (logged): readiness reports Redis, and the limit must not take the service down.
 *
 * @example
 *   app.use('/v1', preAuthRateLimit({ redis, limit: 60, keyPrefix: 'applets:' }), userAuthMiddleware(db), routes);
 *   // in userAuthMiddleware, after a token was found valid:
 *   await releasePreAuthAttempt(res);
 */
export function preAuthRateLimit(options: PreAuthRateLimitOptions): RequestHandler {
  const windowMs = options.windowMs ?? WINDOW_MS;
  return async (req, res, next) => {
    if (options.skip?.(req, res) === true) {
      next();
      return;
    }
    const now = Date.now();
    const window = Math.floor(now / windowMs);
    const key = counterKey(options.keyPrefix, req.ip ?? 'unknown', window);
    let count: number;
    try {
      const results = await options.redis.multi().incr(key).pexpire(key, windowMs).exec();
      const [incrError, value] = results?.[0] ?? [new Error('empty MULTI result'), null];
      if (incrError) throw incrError;
      count = Number(value);
    } catch (error) {
      req.log.warn({ err: error }, 'pre-authentication rate limit unavailable; request let through');
      next();
      return;
    }
    if (count > options.limit) {
      throw new HttpProblem(429, {
        detail: `More than ${options.limit} unauthenticated requests from this address in a window of ${windowMs / 1000} s.`,
        headers: { 'Retry-After': String(Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000))) },
      });
    }
    (res.locals as Record<symbol, unknown>)[RELEASE] = async () => {
      await options.redis.decr(key);
    };
    next();
  };
}

/**
 * Gives back the unit {@link preAuthRateLimit} took for this request, once its credential proved valid.
 * Does nothing when the limiter did not run; when Redis fails the unit stays taken until its window ends.
 *
 * @example
 *   if (userId !== undefined) await releasePreAuthAttempt(res);
 */
export async function releasePreAuthAttempt(res: Response): Promise<void> {
  const release = (res.locals as Record<symbol, unknown>)[RELEASE];
  if (typeof release !== 'function') return;
  delete (res.locals as Record<symbol, unknown>)[RELEASE];
  try {
    await (release as () => Promise<void>)();
  } catch {
    // The unit stays taken until its window ends: a lower limit for a minute, never a failed request.
  }
}
