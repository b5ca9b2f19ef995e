import { z } from 'zod';
import {
  baseServiceConfig,
  boolField,
  configField,
  databaseConfig,
  eventSecretsConfig,
  eventsConfig,
  httpConfig,
  intField,
  partnerUrlConfig,
  preAuthRateLimitConfig,
  redisConfig,
  secretsConfig,
} from '@ittd/platform';

/**
 * The trigger poller's environment: the platform's HTTP, logging, lifecycle, Postgres, Redis and events
 * groups, its security groups (SECRETS_KEYS sealing partner keys, EVENTS_SECRETS_KEYS opening them in events,
 * the pre-authentication rate limit of notifications, the partner URL rules), plus
 * the admin token, the polling cadence, partner call limits and the worker's settings. `describe-config`
 * prints it.
 *
 * @example
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/trigger_poller REDIS_URL=redis://127.0.0.1:6379 \
 *   ADMIN_TOKEN=… POLL_INTERVAL_SECONDS=300 node dist/apps/trigger-poller/main.js worker
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
  // A full notification (1000 entries of up to 128-character ids) is about 150 kB: more than the platform's 100kb.
  BODY_LIMIT: configField(httpConfig.BODY_LIMIT.unwrap().default('256kb'), {
    description: 'largest accepted JSON request body (bytes, or with kb/mb); fits a 1000-entry notification',
  }),
  ADMIN_TOKEN: configField(z.string().min(24, { error: 'expected at least 24 characters' }), {
    description: 'bearer token of the /admin routes (subscriptions and their events)',
    secret: true,
  }),
  REDIS_KEY_PREFIX: configField(z.string().min(1).default('ittd:'), {
    description:
      'prefix of the Redis keys: jobs under <prefix>jobs:, schedule state under <prefix>schedules:',
  }),
  POLL_INTERVAL_SECONDS: configField(intField({ min: 10, max: 86_400 }).default(300), {
    description: 'time from a successful poll to the next regular one of the subscription',
  }),
  POLL_BATCH_SIZE: configField(intField({ min: 1, max: 100_000 }).default(5000), {
    description:
      'most due subscriptions one enqueue-due-polls run enqueues (by next_poll_at, longest overdue first)',
  }),
  POLL_EVENT_LIMIT: configField(intField({ min: 1, max: 500 }).default(50), {
    description: '`limit` sent to the partner: how many of its newest events one poll asks for',
  }),
  PARTNER_TIMEOUT_MS: configField(intField({ min: 100, max: 120_000 }).default(10_000), {
    description: 'time-out of one call to a partner trigger endpoint',
  }),
  // A poll's events go into one INSERT and each into one jsonb value (Postgres: at most 255 MB); re-encoding can
  // grow a number's text about 5x (1e20), so 32 MiB always fits. 4 MiB is 50 events of some 80 kB each.
  PARTNER_MAX_ANSWER_BYTES: configField(intField({ min: 1024, max: 33_554_432 }).default(4_194_304), {
    description: 'most bytes of a partner trigger answer read; a longer answer fails the poll (retried)',
  }),
  POLL_RETRY_BASE_MS: configField(intField({ min: 10, max: 600_000 }).default(2000), {
    description:
      'delay before the first retry of a poll job that failed on our side (Postgres, Redis); doubles per attempt, up to 60 s. Partner failures back off the subscription instead',
  }),
  POLL_BACKOFF_BASE_SECONDS: configField(intField({ min: 1, max: 86_400 }).default(60), {
    description:
      'after a failed poll the subscription is next polled in this many seconds, doubling per consecutive failure (0.8-1x jitter)',
  }),
  POLL_BACKOFF_MAX_SECONDS: configField(intField({ min: 1, max: 604_800 }).default(21_600), {
    description: 'longest backoff of a failing subscription (default 6 h)',
  }),
  PARTNER_CONCURRENCY: configField(intField({ min: 1, max: 1000 }).default(5), {
    description:
      'calls to one partner one worker process makes at once; a poll over it is put back for PARTNER_BUSY_DELAY_MS, so a slow partner holds at most this many worker slots',
  }),
  PARTNER_BUSY_DELAY_MS: configField(intField({ min: 10, max: 60_000 }).default(1000), {
    description:
      'delay (0.5-1.5x) before a poll put back because its partner was at PARTNER_CONCURRENCY runs again',
  }),
  IDENTITY_DELETE_RETRY_BASE_MS: configField(intField({ min: 10, max: 3_600_000 }).default(5000), {
    description:
      'first retry delay of a failed partner DELETE of a trigger identity; doubles per attempt, up to 6 h',
  }),
  IDENTITY_DELETE_MAX_ATTEMPTS: configField(intField({ min: 1, max: 100 }).default(12), {
    description: 'attempts of a partner DELETE of a trigger identity before it is given up (logged at error)',
  }),
  NOTIFICATION_CACHE_TTL_MS: configField(intField({ min: 0, max: 600_000 }).default(10_000), {
    description:
      'how long a partner key or trigger identity Postgres confirmed is trusted by realtime notifications without a lookup, ms (0: look up every time); for that long a changed key or removed subscription may still be accepted',
  }),
  WORKER_CONCURRENCY: configField(intField({ min: 1, max: 1000 }).default(20), {
    description: 'jobs (polls, partner DELETEs) one worker process runs at once',
  }),
  SCHEDULER_ENABLED: configField(boolField().default(false), {
    description:
      'the worker also fires the cron schedules (once per tick across replicas); leave false where Chronos/Metronome runs them with run-job',
  }),
});

/** The parsed config. */
export type TriggerPollerConfig = z.output<typeof configSchema>;
