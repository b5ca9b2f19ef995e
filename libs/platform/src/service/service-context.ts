import type { DestinationStream } from 'pino';
import { parseConfig, type Env } from '../config/load-config';
import { secretKeys, type ConfigSchema } from '../config/describe-config';
import { createDatabase, type Database, type DatabaseConfig } from '../db/create-database';
import { HealthRegistry } from '../health/health-registry';
import { Lifecycle } from '../lifecycle/lifecycle';
import { createLogger } from '../logging/create-logger';
import { createMetricsRegistry } from '../metrics/create-metrics';
import { createRedis, type RedisClient, type RedisConfig } from '../redis/create-redis';
import type { ServiceContext, ServiceDefinition } from './service-definition';

/** Options of {@link createServiceContext}. */
export interface ServiceContextOptions {
  /** The environment to read; tests pass an explicit object. Defaults to `process.env`. */
  env?: Env;
  /** Where log lines go (default stdout); tests pass a stream. */
  logDestination?: DestinationStream;
  /** Exit function for the lifecycle's signal handling; defaults to `process.exit`. */
  exit?: (code: number) => void;
}

/**
 * Builds a service's context from an env object: parsed config (throws {@link ConfigError}), logger with
 * secrets redacted, metrics registry, health registry, lifecycle, and Postgres/Redis clients when the
 * config has DATABASE_URL/REDIS_URL (their components and readiness checks already registered). Starts
 * nothing.
 *
 * @example
 * const ctx = createServiceContext(appletsService, { env: { DATABASE_URL: url } });
 * await ctx.lifecycle.start();
 */
export function createServiceContext<S extends ConfigSchema, DB>(
  definition: ServiceDefinition<S, DB>,
  options: ServiceContextOptions = {},
): ServiceContext<S, DB> {
  const config = parseConfig(definition.config, options.env ?? process.env, definition.name);
  const settings = config as Record<string, unknown>;
  const logger = createLogger({
    service: definition.name,
    level: typeof settings.LOG_LEVEL === 'string' ? settings.LOG_LEVEL : 'info',
    secretKeys: secretKeys(definition.config),
    destination: options.logDestination,
  });
  const metrics = createMetricsRegistry(definition.name);
  const health = new HealthRegistry(definition.name);
  const lifecycle = new Lifecycle({
    logger,
    health,
    drainMs: typeof settings.SHUTDOWN_DRAIN_MS === 'number' ? settings.SHUTDOWN_DRAIN_MS : undefined,
    timeoutMs: typeof settings.SHUTDOWN_TIMEOUT_MS === 'number' ? settings.SHUTDOWN_TIMEOUT_MS : undefined,
    exit: options.exit,
  });

  let database: Database<DB> | undefined;
  if (typeof settings.DATABASE_URL === 'string') {
    // The parsed config holds every DATABASE_* setting createDatabase reads (databaseConfig).
    database = createDatabase<DB>(settings as unknown as DatabaseConfig, logger, metrics);
    lifecycle.register(database.component);
    health.add(database.healthCheck);
  }
  let redisClient: RedisClient | undefined;
  if (typeof settings.REDIS_URL === 'string') {
    redisClient = createRedis(settings as unknown as RedisConfig, { logger });
    lifecycle.register(redisClient.component);
    health.add(redisClient.healthCheck);
  }

  const ctx = {
    name: definition.name,
    config,
    logger,
    metrics,
    health,
    lifecycle,
    hasDatabase: database !== undefined,
    hasRedis: redisClient !== undefined,
  } as ServiceContext<S, DB>;
  // Non-enumerable getters: `{ ...ctx }` (as passed to createHttpService) must not touch them.
  Object.defineProperties(ctx, {
    db: {
      get() {
        if (!database)
          throw new Error(`${definition.name}: no DATABASE_URL in the config schema (spread databaseConfig)`);
        return database.db;
      },
    },
    redis: {
      get() {
        if (!redisClient)
          throw new Error(`${definition.name}: no REDIS_URL in the config schema (spread redisConfig)`);
        return redisClient.redis;
      },
    },
  });
  return ctx;
}
