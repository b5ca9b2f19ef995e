import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from '../config/config-groups';
import type { HealthCheck } from '../health/health-types';
import type { Component } from '../lifecycle/component';
import { isRedisConnectionError } from './redis-errors';

/** The settings {@link createRedis} reads; the output of {@link redisConfig} fits. */
export interface RedisConfig {
  REDIS_URL: string;
  /** ms a command waits for its answer (or, queued offline, for Redis to come back) before it fails. */
  REDIS_COMMAND_TIMEOUT_MS?: number;
}

/** An ioredis client with what the lifecycle and health need. */
export interface RedisClient {
  redis: Redis;
  /** `QUIT`s and resolves once the connection ended (a hard disconnect after 2 s). */
  component: Component;
  /**
   * Readiness: `PING` answers within the check's time-out; a ping still unanswered after the command
   * time-out replaces the connection.
   */
  healthCheck: HealthCheck;
}

/** Idle time before the first TCP keepalive probe on a Redis socket, ms. */
export const REDIS_KEEPALIVE_DELAY_MS = 10_000;

/** Reconnect delay after the n-th failed attempt: 100 ms doubling, capped at 5 s; never gives up. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 5000);
}

/** Logs a connection's errors (one line per change of message, not every failed reconnect) and its recovery. */
function logConnectionErrors(redis: Redis, logger: Logger | undefined, connection: string): void {
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) logger?.warn({ err: error, connection }, 'redis connection error');
    lastError = error.message;
  });
  redis.on('ready', () => {
    if (lastError) logger?.info({ connection }, 'redis reconnected');
    lastError = '';
  });
}

/**
 * An ioredis client whose every `duplicate()` (worker subscribers, the job queue's extra connections, and
 * their duplicates) has the same options and its own logged `'error'` listener.
 */
class PlatformRedis extends Redis {
  private readonly logger: Logger | undefined;

  /** `url` (REDIS_URL) is parsed by ioredis and `options` win over it. */
  constructor(
    url: string | undefined,
    options: RedisOptions,
    logger: Logger | undefined,
    connection: string,
  ) {
    if (url === undefined) super(options);
    else super(url, options);
    this.logger = logger;
    logConnectionErrors(this, logger, connection);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new PlatformRedis(undefined, { ...this.options, ...override }, this.logger, 'duplicate');
  }
}

/**
 * An ioredis client from REDIS_URL for which a lost Redis is an error for the caller, never a hang or a
 * crash, and which recovers by itself:
 * - it reconnects forever with capped exponential backoff ({@link redisRetryDelay});
 * - a command fails after REDIS_COMMAND_TIMEOUT_MS (default 5000) without an answer (`commandTimeout`),
 *   and after 2 reconnect attempts in the offline queue (`maxRetriesPerRequest`);
 * - a command sent before a connection broke is not sent again after the reconnect
 *   (`autoResendUnfulfilledCommands: false`): it may have run, so re-sending could run it twice; its
 *   caller gets the time-out instead;
 * - every connection it makes, `duplicate()`s included, logs its errors (never an unhandled `'error'`);
 * - TCP keepalive on its sockets (first probe after 10 s idle), and a readiness `PING` that gets no answer
 *   within the command time-out replaces the connection, so a silently dead one does not linger.
 *
 * Every connection-level error is recognised by {@link isRedisConnectionError} (HTTP: a 503). Pass
 * `options` to override (BullMQ needs `maxRetriesPerRequest: null`; a connection for blocking commands
 * needs `commandTimeout` above the block time).
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
  const redis: Redis = new PlatformRedis(
    config.REDIS_URL,
    {
      retryStrategy: redisRetryDelay,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectTimeout: 5000,
      keepAlive: REDIS_KEEPALIVE_DELAY_MS,
      commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
      autoResendUnfulfilledCommands: false,
      ...options,
    },
    logger,
    'main',
  );
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
        await redis.ping().catch((error: unknown) => {
          // No answer within the command time-out on a connection that looks up: the peer or the path
          // is gone without a reset (or the stream lost bytes). Replace the connection instead of
          // waiting minutes for TCP to notice.
          if (isRedisConnectionError(error) && redis.status === 'ready') {
            logger?.warn({ err: error }, 'redis did not answer on a ready connection; reconnecting');
            redis.disconnect(true);
          }
          throw error;
        });
      },
    },
  };
}
