import { createHttpService, queueRedisCheck, type ServiceDefinition } from '@ittd/platform';
import { triggerPollerMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
import { partnerKeyContext } from './data/partner-key-sealing';
import { partnerSecurity } from '@ittd/platform';
import { triggerPollerSubscriptions } from './events/trigger-poller-subscriptions';
import { mountTriggerPollerApi } from './http/trigger-poller-api';
import { triggerPollerSchedules } from './jobs/enqueue-due-polls-schedule';
import { pollJobs } from './jobs/poll-jobs';
import { createPollWorker } from './jobs/poll-worker';

/**
 * The trigger poller as the platform runs it: config, migrations, the web app (admin API + partner
 * notifications), the worker (poll-trigger and delete-trigger-identity jobs, the event subscriptions,
 * optionally the schedules), the schedules as `run-job` names, and its events (publishes
 * `trigger-event.recorded`; subscribes to `applet.changed` and `partner-service.changed`). `main.ts` hands it to `runService`; tests hand it to `startService` with their own env.
 *
 * @example
 *   const web = await startService(triggerPollerService, { env, port: 0, host: '127.0.0.1' });
 *   const worker = await startService(triggerPollerService, { env, mode: 'worker', port: 0, host: '127.0.0.1' });
 */
/** The column trigger-poller keeps sealed: every partner's service key. */
export const triggerPollerSealedColumn = {
  table: 'partners',
  keyColumn: 'slug',
  column: 'service_key_sealed',
  context: partnerKeyContext,
};

export const triggerPollerService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'trigger-poller',
  config: configSchema,
  migrations: triggerPollerMigrations,
  web: (ctx) => {
    // Notifications answer 202 once their polls are in Redis: readiness fails where Redis may evict them.
    ctx.health.add(queueRedisCheck(pollJobs(ctx).queue));
    return createHttpService({
      ...ctx,
      bodyLimit: ctx.config.BODY_LIMIT,
      routes: (app) =>
        mountTriggerPollerApi(app, {
          db: ctx.db,
          jobs: pollJobs(ctx),
          adminToken: ctx.config.ADMIN_TOKEN,
          security: partnerSecurity(ctx),
          redis: ctx.redis,
          redisKeyPrefix: ctx.config.REDIS_KEY_PREFIX,
          preAuthLimitPerMinute: ctx.config.PREAUTH_RATE_LIMIT_PER_MINUTE,
          notificationCacheTtlMs: ctx.config.NOTIFICATION_CACHE_TTL_MS,
        }),
    });
  },
  worker: createPollWorker,
  schedules: triggerPollerSchedules,
  // run-job rotate-secrets (seals every stored key again under SECRETS_KEYS' first key) and the readiness
  // warning while a key is in clear come from the platform (platform README "Security").
  sealedColumns: [triggerPollerSealedColumn],
  // Publishes trigger-event.recorded; keeps subscriptions and partners from applets' events (in the worker).
  events: { publishes: true, subscriptions: triggerPollerSubscriptions },
};
