import { z } from 'zod';
import { boolField, configField, intField } from './config-field';

/**
 * How long readiness reports `fail` before the server stops accepting connections, so the load balancer
 * (Marathon-LB / HAProxy polling `/health/ready`) takes the task out of rotation first. Deploy tooling must
 * set Marathon's `taskKillGracePeriodSeconds` above this plus {@link DEFAULT_SHUTDOWN_TIMEOUT_MS}.
 */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 3000;

/** The hard deadline for a graceful stop, counted from the signal; past it the process exits 1. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;

/** Default of DATABASE_CONNECT_TIMEOUT_MS: opening a Postgres connection (or waiting for a free one) fails after this. */
export const DEFAULT_DATABASE_CONNECT_TIMEOUT_MS = 5000;
/** Default of DATABASE_STATEMENT_TIMEOUT_MS: Postgres cancels a statement running longer (SQLSTATE 57014). */
export const DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS = 15_000;
/** Default of DATABASE_QUERY_TIMEOUT_MS: the client stops waiting for an answer and drops the connection. */
export const DEFAULT_DATABASE_QUERY_TIMEOUT_MS = 20_000;
/** Default of DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: Postgres ends a session idle inside a transaction. */
export const DEFAULT_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/** Default of REDIS_COMMAND_TIMEOUT_MS: a Redis command without an answer (or still queued offline) fails. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 5000;

/** Default of METRICS_PORT: Prometheus exporters' customary port (OpenTelemetry's Prometheus exporter). */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * HTTP server settings. Spread into a service's schema.
 *
 * @example
 * const configSchema = z.object({ ...httpConfig, ...loggingConfig });
 */
export const httpConfig = {
  PORT: configField(intField({ min: 1, max: 65535 }).default(3000), {
    description: 'TCP port the HTTP server listens on',
  }),
  HOST: configField(
    z
      .union([z.ipv4(), z.ipv6(), z.literal('localhost')], { error: 'expected an IP address or localhost' })
      .optional(),
    {
      description:
        'address the HTTP servers (API and metrics) listen on; unset: every interface, as a container needs; 127.0.0.1 on a development machine',
    },
  ),
  BODY_LIMIT: configField(
    z
      .string()
      .regex(/^\d+(b|kb|mb)?$/i, { error: 'expected a size such as 100kb or 1mb' })
      .default('100kb'),
    { description: 'largest accepted JSON request body (bytes, or with kb/mb)' },
  ),
  METRICS_PORT: configField(intField({ min: 0, max: 65535 }).default(DEFAULT_METRICS_PORT), {
    description:
      'port of the Prometheus /metrics listener, apart from PORT so only the scraper reaches it; equal to PORT serves /metrics there behind METRICS_TOKEN',
  }),
  METRICS_TOKEN: configField(z.string().min(24, { error: 'expected at least 24 characters' }).optional(), {
    description:
      'bearer token /metrics asks for; required when METRICS_PORT equals PORT (one port for both), optional otherwise',
    secret: true,
  }),
  TRUST_PROXY: configField(
    z
      .string()
      .regex(/^(true|false|\d{1,2}|[0-9A-Fa-f:.,/ a-z]+)$/, {
        error: 'expected false, true, a hop count or a list of proxy addresses/subnets',
      })
      .default('false'),
    {
      description:
        "which proxies' X-Forwarded-For to believe for the client address (Express 'trust proxy'): false, a hop count, or addresses/subnets (loopback, 10.0.0.0/8)",
    },
  ),
};

/**
 * Postgres settings for {@link createDatabase}.
 *
 * @example
 * const configSchema = z.object({ ...httpConfig, ...databaseConfig });
 */
export const databaseConfig = {
  DATABASE_URL: configField(z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// URL' }), {
    description: 'Postgres connection URL',
    secret: true,
  }),
  DATABASE_POOL_MAX: configField(intField({ min: 1, max: 100 }).default(10), {
    description: 'most Postgres connections this process opens',
  }),
  DATABASE_CONNECT_TIMEOUT_MS: configField(
    intField({ min: 100, max: 600_000 }).default(DEFAULT_DATABASE_CONNECT_TIMEOUT_MS),
    { description: 'ms to open a Postgres connection or wait for a free one before the query fails' },
  ),
  DATABASE_STATEMENT_TIMEOUT_MS: configField(
    intField({ min: 0, max: 3_600_000 }).default(DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS),
    {
      description:
        'ms a statement may run before Postgres cancels it (statement_timeout; 0 = none; not for migrations)',
    },
  ),
  DATABASE_QUERY_TIMEOUT_MS: configField(
    intField({ min: 0, max: 3_600_000 }).default(DEFAULT_DATABASE_QUERY_TIMEOUT_MS),
    {
      description:
        'ms to wait for the answer to a query before failing it and dropping the connection (0 = none; keep it above DATABASE_STATEMENT_TIMEOUT_MS)',
    },
  ),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: configField(
    intField({ min: 0, max: 3_600_000 }).default(DEFAULT_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS),
    { description: 'ms a session may sit idle inside a transaction before Postgres ends it (0 = none)' },
  ),
  MIGRATE_ON_START: configField(boolField().default(true), {
    description: '`serve` runs pending migrations before listening',
  }),
};

/**
 * Redis settings for {@link createRedis}.
 *
 * @example
 * const configSchema = z.object({ ...httpConfig, ...redisConfig });
 */
export const redisConfig = {
  REDIS_URL: configField(z.url({ protocol: /^rediss?$/, error: 'expected a redis:// URL' }), {
    description: 'Redis connection URL',
    secret: true,
  }),
  REDIS_COMMAND_TIMEOUT_MS: configField(
    intField({ min: 100, max: 600_000 }).default(DEFAULT_REDIS_COMMAND_TIMEOUT_MS),
    {
      description: 'ms to wait for the answer to a Redis command (or for Redis to come back) before it fails',
    },
  ),
};

/** The pino log levels accepted by LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Logging settings.
 *
 * @example
 * const configSchema = z.object({ ...loggingConfig });
 */
export const loggingConfig = {
  LOG_LEVEL: configField(z.enum(LOG_LEVELS).default('info'), { description: 'least severe level logged' }),
};

/**
 * Graceful shutdown timings; see the README's shutdown sequence.
 *
 * @example
 * const configSchema = z.object({ ...lifecycleConfig });
 */
export const lifecycleConfig = {
  SHUTDOWN_DRAIN_MS: configField(intField({ min: 0, max: 600_000 }).default(DEFAULT_SHUTDOWN_DRAIN_MS), {
    description: 'ms readiness fails before the server stops accepting connections',
  }),
  SHUTDOWN_TIMEOUT_MS: configField(
    intField({ min: 100, max: 600_000 }).default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    {
      description: 'ms after the signal at which shutdown is forced (exit 1)',
    },
  ),
};

/**
 * Every group a typical web service uses: HTTP, logging and lifecycle (add database/redis as needed).
 *
 * @example
 * const configSchema = z.object({ ...baseServiceConfig, ...databaseConfig, APPLET_LIMIT: intField({ min: 1, max: 1000 }) });
 */
export const baseServiceConfig = { ...httpConfig, ...loggingConfig, ...lifecycleConfig };

/**
 * Service events settings (`libs/platform/src/events`): the Redis key prefix publishers' relays and
 * subscribers share, how many entries each topic stream keeps, and when relay lag turns readiness to `warn`.
 * Spread it next to {@link databaseConfig} and {@link redisConfig} in a service that declares `events`.
 *
 * @example
 * const configSchema = z.object({ ...baseServiceConfig, ...databaseConfig, ...redisConfig, ...eventsConfig });
 */
export const eventsConfig = {
  EVENTS_PREFIX: configField(z.string().min(1).max(100).default('ittd:events:'), {
    description:
      'prefix of the Redis keys of service events (topic streams, dead letters); shared by every service',
  }),
  EVENTS_RETENTION: configField(intField({ min: 1000, max: 100_000_000 }).default(100_000), {
    description: 'approximate number of events each topic stream keeps (XADD MAXLEN ~)',
  }),
  EVENTS_RELAY_LAG_WARN_MS: configField(intField({ min: 1000, max: 86_400_000 }).default(30_000), {
    description: 'readiness warns when the oldest unrelayed outbox row is older than this (ms)',
  }),
};
