import { z } from 'zod';
import {
  baseServiceConfig,
  configField,
  databaseConfig,
  eventSecretsConfig,
  eventsConfig,
  intField,
  partnerCallsConfig,
  redisConfig,
  secretsConfig,
  wellFormedText,
} from '@ittd/platform';

/**
 * The actions service's environment: the platform's HTTP, logging, lifecycle, Postgres, Redis and events
 * groups, its security groups (SECRETS_KEYS sealing partner keys, EVENTS_SECRETS_KEYS opening them in
 * events, the partner URL rules and PARTNER_MAX_ANSWER_BYTES), plus the admin token, partner call limits, the per-partner rate limit and the worker's settings.
 * `describe-config` prints it; the deploy targets check service.json against it.
 *
 * @example
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/actions REDIS_URL=redis://127.0.0.1:6379 \
 *   ADMIN_TOKEN=… node dist/apps/actions/main.js worker
 */
export const configSchema = z.object({
  ...baseServiceConfig,
  ...databaseConfig,
  ...redisConfig,
  ...eventsConfig,
  ...secretsConfig,
  ...eventSecretsConfig,
  ...partnerCallsConfig,
  ADMIN_TOKEN: configField(z.string().min(24, { error: 'expected at least 24 characters' }), {
    description: 'bearer token of the /admin routes (action runs of an applet)',
    secret: true,
  }),
  REDIS_KEY_PREFIX: configField(z.string().min(1).default('ittd:'), {
    description:
      'prefix of the Redis keys: jobs under <prefix>jobs:, partner rate windows under <prefix>actions:rate:',
  }),
  PARTNER_TIMEOUT_MS: configField(intField({ min: 100, max: 120_000 }).default(10_000), {
    description: 'time-out of one call to a partner action endpoint (a time-out is retried)',
  }),
  PARTNER_RATE_LIMIT: configField(intField({ min: 1, max: 1_000_000 }).default(600), {
    description:
      'most action calls to one partner service per PARTNER_RATE_WINDOW_MS, across all workers; a run over it waits',
  }),
  PARTNER_RATE_WINDOW_MS: configField(intField({ min: 1000, max: 3_600_000 }).default(60_000), {
    description: 'the rate limit window (ms); 60000 makes PARTNER_RATE_LIMIT a per-minute limit',
  }),
  ACTION_MAX_ATTEMPTS: configField(intField({ min: 1, max: 50 }).default(6), {
    description:
      'partner calls of one action run before a retryable failure (5xx, time-out, unreachable) is final',
  }),
  ACTION_RETRY_BASE_MS: configField(intField({ min: 10, max: 600_000 }).default(5000), {
    description:
      'delay before the first retry of an action call; doubles per attempt (with jitter), up to 10 min',
  }),
  APPLET_URL_BASE: configField(
    z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .check(wellFormedText)
      .default('https://ittd.example/applets'),
    { description: 'ifttt_source.url sent to partners is <APPLET_URL_BASE>/<applet id>' },
  ),
  WORKER_CONCURRENCY: configField(intField({ min: 1, max: 1000 }).default(20), {
    description: 'action runs one worker process runs at once',
  }),
});

/** The parsed config. */
export type ActionsConfig = z.output<typeof configSchema>;
