import { createHttpService, type ServiceDefinition } from '@ittd/platform';
import { triggerPollerMigrations } from '../migrations';
import { configSchema } from './config';
import type { DB } from './data/database';
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
export const triggerPollerService: ServiceDefinition<typeof configSchema, DB> = {
  name: 'trigger-poller',
  config: configSchema,
  migrations: triggerPollerMigrations,
  web: (ctx) =>
    createHttpService({
      ...ctx,
      bodyLimit: ctx.config.BODY_LIMIT,
      routes: (app) =>
        mountTriggerPollerApi(app, { db: ctx.db, jobs: pollJobs(ctx), adminToken: ctx.config.ADMIN_TOKEN }),
    }),
  worker: createPollWorker,
  schedules: triggerPollerSchedules,
  // Publishes trigger-event.recorded; keeps subscriptions and partners from applets' events (in the worker).
  events: { publishes: true, subscriptions: triggerPollerSubscriptions },
};
