import { z } from 'zod';
import {
  baseServiceConfig,
  boolField,
  configField,
  databaseConfig,
  httpConfig,
  intField,
  redisConfig,
} from '@ittd/platform';

/**
 * The trigger poller's environment: the platform's HTTP, logging, lifecycle, Postgres and Redis groups, plus
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
    description: 'a subscription not polled for this long is due; the schedule enqueues its poll',
  }),
  POLL_BATCH_SIZE: configField(intField({ min: 1, max: 100_000 }).default(5000), {
    description: 'most due subscriptions one enqueue-due-polls run enqueues (longest unpolled first)',
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
      'delay before the first retry of a failed poll; doubles per attempt (with jitter), up to 60 s',
  }),
  WORKER_CONCURRENCY: configField(intField({ min: 1, max: 1000 }).default(20), {
    description: 'polls one worker process runs at once',
  }),
  SCHEDULER_ENABLED: configField(boolField().default(false), {
    description:
      'the worker also fires the cron schedules (once per tick across replicas); leave false where Chronos/Metronome runs them with run-job',
  }),
});

/** The parsed config. */
export type TriggerPollerConfig = z.output<typeof configSchema>;
