import { z } from 'zod';
import {
  baseServiceConfig,
  configField,
  databaseConfig,
  eventSecretsConfig,
  eventsConfig,
  intField,
  partnerUrlConfig,
  preAuthRateLimitConfig,
  redisConfig,
  secretsConfig,
} from '@ittd/platform';

/**
 * The applets service's environment: the platform's HTTP, logging, lifecycle, Postgres, Redis and events
 * groups, its security groups (SECRETS_KEYS sealing partner keys, EVENTS_SECRETS_KEYS sealing them in
 * events, the pre-authentication rate limit, the partner URL rules), plus the admin token, the per-user rate
 * limit, the Redis key prefix and the auto-disable threshold. `describe-config` prints it.
 *
 * @example
 *   PORT=3000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/applets REDIS_URL=redis://127.0.0.1:6379 \
 *   ADMIN_TOKEN=… node dist/apps/applets/main.js serve
 */
export const configSchema = z.object({
  ...baseServiceConfig,
  ...databaseConfig,
  ...redisConfig,
  ...eventsConfig,
  ...secretsConfig,
  ...eventSecretsConfig,
  ...preAuthRateLimitConfig,
  ...partnerUrlConfig,
  ADMIN_TOKEN: configField(z.string().min(24, { error: 'expected at least 24 characters' }), {
    description: 'bearer token of the /admin routes (create users and tokens, register partner services)',
    secret: true,
  }),
  API_RATE_LIMIT_PER_MINUTE: configField(intField({ min: 1, max: 1_000_000 }).default(600), {
    description: 'requests one user may make to /v1 per minute (counted in Redis)',
  }),
  REDIS_KEY_PREFIX: configField(z.string().min(1).default('applets:'), {
    description: 'prefix of every Redis key this service writes',
  }),
  AUTO_DISABLE_AFTER_FAILURES: configField(intField({ min: 1, max: 1000 }).default(10), {
    description: 'an applet whose last this many action runs all failed is disabled (with the reason shown)',
  }),
});

/** The config schema's type, for the service context. */
export type AppletsConfigSchema = typeof configSchema;

/** The parsed config. */
export type AppletsConfig = z.output<typeof configSchema>;
