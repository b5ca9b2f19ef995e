import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { HealthCheck } from '../health/health-types';
import type { Component } from '../lifecycle/component';

/** The settings {@link createRedis} reads; the output of {@link redisConfig} fits. */
export interface RedisConfig {
  REDIS_URL: string;
}

/** An ioredis client with what the lifecycle and health need. */
export interface RedisClient {
  redis: Redis;
  /** `QUIT`s and resolves once the connection ended (a hard disconnect after 2 s). */
  component: Component;
  /** Readiness: `PING` answers within the check's time-out. */
  healthCheck: HealthCheck;
}

/** Reconnect delay after the n-th failed attempt: 100 ms doubling, capped at 5 s; never gives up. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}

/**
 * An ioredis client from REDIS_URL that behaves well when Redis goes away: it reconnects forever with capped
 * exponential backoff; commands issued meanwhile wait in the offline queue but fail after 2 reconnect
 * attempts (`maxRetriesPerRequest`) instead of hanging a request; connection errors are logged, not thrown.
 * Pass `options` to override (BullMQ needs `maxRetriesPerRequest: null`).
 *
 * @example
 * const { redis, component, healthCheck } = createRedis(config, { logger });
 * lifecycle.register(component);
 * health.add(healthCheck);
 */
export function createRedis(
  config: RedisConfig,
  { logger, options }: { logger?: Logger; options?: RedisOptions } = {},
): RedisClient {
  const redis = new Redis(config.REDIS_URL, {
    retryStrategy: redisRetryDelay,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    ...options,
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    // ioredis emits one error per failed reconnect; log changes, not every repeat.
    if (error.message !== lastError) logger?.warn({ err: error }, 'redis connection error');
    lastError = error.message;
  });
  redis.on('ready', () => {
    if (lastError) logger?.info('redis reconnected');
    lastError = '';
  });
  return {
    redis,
    component: {
      name: 'redis',
      async stop() {
        if (redis.status === 'end') return;
        if (redis.status !== 'ready') {
          // Not connected (reconnecting, connecting): nothing to QUIT, just stop trying.
          redis.disconnect();
          return;
        }
        let timer: NodeJS.Timeout | undefined;
        const ended = new Promise<void>((resolve) => {
          redis.once('end', resolve);
          timer = setTimeout(() => {
            redis.disconnect();
            resolve();
          }, 2000);
        });
        await redis.quit().catch(() => redis.disconnect());
        await ended;
        clearTimeout(timer);
      },
    },
    healthCheck: {
      name: 'redis',
      componentType: 'datastore',
      async run() {
        // Not through the offline queue: a disconnected client fails readiness at once.
        if (redis.status !== 'ready') throw new Error(`redis connection is ${redis.status}`);
        await redis.ping();
      },
    },
  };
}
